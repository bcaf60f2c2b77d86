"""Preview a file before it is imported: read it as the import would, keep nothing.

A preview is a ledger row in state PREVIEW whose file waits in its inbox's
processing folder, exactly where an upload's waits, so any web server or
worker can show, recompute, confirm or cancel it: nothing lives in one
process's memory or temporary folder. Nothing imports a PREVIEW row: the
import claims only QUEUED/IMPORTING rows, a scan's repair looks only at
DISCOVERED, IMPORTING, QUEUED and finished rows (and resends lost preview
messages), and the one-import-per-content index covers importing and done.

The counts are the real import's: the same routing, pipeline, reject policy
and ``apply`` run inside a transaction that is then rolled back. The
dataset's tables are left as they were (PostgreSQL sequences, which never roll back,
may skip a few ids); the rows the import touches are locked while the
preview's transaction lasts, as during an import.

The preview's version is the row's task id: recomputing gives it a new one,
a computation of an older version records nothing, and **Import** confirms
only the version a person saw, with the content hash it had.
"""

import datetime
import logging
import time
from pathlib import Path

from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from .. import conf, locks, storage
from ..importers import FileRejected, Importer
from ..importers.pipeline import StageResult
from ..importers.sources import source_open
from ..importers.staging import Staging
from ..models import Inbox, InboxFile, RowRejection
from ..progress import ProgressSink
from ..reasons import Reason, reason_stored
from .dispatch import file_queue, notify_publish, preview_queue
from .imports import (
    _content_done,
    _file_checked,
    _file_route,
    _file_stage,
    _rejections_record,
    _share_check,
    file_settle,
)

logger = logging.getLogger(__name__)

State = InboxFile.State
#: Rows shown as they would be imported.
PREVIEW_ROWS = 50
#: The hourly schedule ``ingest_setup`` creates (staff may change or disable it).
EXPIRE_TASK_NAME = "Expire previews"
EXPIRE_TASK = "ingest.tasks.expire_previews"


class PreviewRefused(Exception):
    """A confirm or change that cannot be done; the message says why."""


class _RollBack(Exception):
    """Raised to undo the preview's catalogue writes."""


def file_preview(
    *,
    file_id: int,
    task_id: str | None = None,
    progress_sink: ProgressSink | None = None,
) -> dict:
    """Read a PREVIEW file as its import would and record what it would do.

    Side effects: the ledger row's ``preview`` (status, counts, mapping,
    first rows), routing, encoding and row counts, and its recorded
    rejected rows; never the dataset's tables. Safe to repeat: a call for an
    older version (*task_id* no longer the row's), for a row no longer in
    preview, or while another computation holds the file returns
    ``{"status": "skipped"}``. Database outages propagate (the task
    retries); a file the import would refuse is recorded as such.
    """
    with locks.file_lock(file_id) as held:
        if not held:
            # An older version is still being read; the task tries again.
            return {"status": "busy", "file_id": file_id}
        claim = InboxFile.objects.filter(pk=file_id, state=State.PREVIEW)
        if task_id is not None:
            claim = claim.filter(task_id=task_id)
        if not claim.update(preview={"status": "running"}):
            return {"status": "skipped", "file_id": file_id}
        row = InboxFile.objects.select_related("inbox").get(pk=file_id)
        staged: StageResult | None = None
        try:
            with connection.wrap_database_errors:
                result, staged = _preview_run(row, progress_sink)
        except FileRejected as exc:
            result = {"status": "failed", **_reason_fields("reason", exc.reason)}
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:
            logger.exception("Preview of file #%s failed", file_id)
            result = {
                "status": "failed",
                **_reason_fields(
                    "reason",
                    Reason(
                        gettext_noop("Unexpected error: %(error)s"),
                        error=f"{type(exc).__name__}: {exc}",
                    ),
                ),
            }
        _preview_record(row, result, staged)
        return {"file_id": file_id, **result}


def _preview_run(
    row: InboxFile, progress_sink: ProgressSink | None
) -> tuple[dict, StageResult]:
    """Route, stage and apply the file in a transaction rolled back."""
    started = time.monotonic()
    path, size = _file_checked(row)
    digest = storage.sha256_file(path)
    importer = _file_route(row, path)
    aliases = row.inbox.column_aliases if row.inbox else None
    result: dict = {
        "status": "ready",
        "sha256": digest,
        "size": size,
        "dataset": importer.name,
        "chosen_by": row.importer_chosen_by,
        "mapping": _header_mapping(
            importer, path, aliases, row.inbox.dialect_overrides() if row.inbox else {}
        ),
    }
    original = _content_done(digest, row.pk)
    if original is not None:
        result["duplicate_of"] = original.pk
    try:
        with transaction.atomic():
            with Staging(importer) as staging:
                staged = _file_stage(row, importer, path, staging, progress_sink)
                result["columns"] = staging.columns[1:]
                result["rows"] = _staged_first(staging)
                result.update(_refusal(row, staged))
                if not result["refusal"]:
                    with connection.cursor() as cursor:
                        counts = importer.apply(cursor, staging.table)
                    result.update(_counts(counts))
            raise _RollBack
    except _RollBack:
        pass
    result.setdefault("new", 0)
    result.setdefault("updated", 0)
    result.setdefault("unchanged", 0)
    result.update(
        total=staged.total,
        rejected=staged.rejected,
        repeated=max(
            0,
            staged.total
            - staged.rejected
            - result["new"]
            - result["updated"]
            - (result["unchanged"] or 0),
        )
        if not result["refusal"]
        else 0,
        encoding=staged.encoding,
        delimiter=staged.delimiter,
        ignored_columns=staged.extra_columns,
        formats=staged.dialect.get("formats", {}),
        seconds=round(time.monotonic() - started, 3),
    )
    return result, staged


def _header_mapping(
    importer: Importer, path: Path, aliases: dict | None, overrides: dict
) -> list[list[str]]:
    """Return ``[file heading, dataset column, its type]``; "" = not in the file.

    *overrides* are the inbox's (see :meth:`~ingest.models.Inbox.dialect_overrides`),
    so the header is the one the import reads.
    """
    with source_open(path, encoding=importer.encoding, **overrides) as source:
        header = source.header
    indexes = importer.column_indexes(header, aliases)
    return [
        [
            header[index].replace("\ufeff", "").strip() if index is not None else "",
            c.name,
            c.type.describe(),
        ]
        for c, index in zip(importer.columns, indexes, strict=True)
    ]


def _staged_first(staging: Staging) -> list[list]:
    """Return the first staged rows (line first), as JSON-safe values."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {staging.quoted} FROM {staging.table}"
            f" ORDER BY line LIMIT {PREVIEW_ROWS}"
        )
        return [
            [v if v is None or isinstance(v, int | float | str) else str(v) for v in r]
            for r in cursor.fetchall()
        ]


def _reason_fields(key: str, reason: "Reason | str") -> dict:
    """Return *reason* as the preview keeps it: ``key`` text, ``key_id`` JSON.

    The page shows ``key_id`` in the reader's language (see
    :mod:`ingest.reasons`); the text, in the site's, is the fallback.
    """
    text, stored = reason_stored(reason)
    return {key: text, f"{key}_id": stored}


def _refusal(row: InboxFile, staged: StageResult) -> dict:
    """Return why the import would refuse the whole file (``refusal`` "": not)."""
    try:
        _share_check(row, staged)
    except FileRejected as exc:
        return _reason_fields("refusal", exc.reason)
    return {"refusal": "", "refusal_id": {}}


def _counts(counts) -> dict:
    """Split an ``apply`` result into new, updated (changed) and unchanged.

    An importer whose ``apply`` does not say how many rows changed (no
    :class:`~ingest.importers.upsert.UpsertCounts`) leaves unchanged None:
    its updated rows may or may not differ.
    """
    inserted, updated = counts
    changed = getattr(counts, "changed", None)
    if changed is None:
        return {"new": inserted, "updated": updated, "unchanged": None}
    changed = min(max(changed, 0), updated)
    return {"new": inserted, "updated": changed, "unchanged": updated - changed}


def _preview_record(row: InboxFile, result: dict, staged: StageResult | None) -> None:
    """Store *result* and the rejected rows, if the preview is still this one."""
    with transaction.atomic():
        recorded = InboxFile.objects.filter(
            pk=row.pk, state=State.PREVIEW, task_id=row.task_id
        ).update(preview=result, sha256=result.get("sha256", ""))
        if not recorded:
            return
        if staged is None:
            RowRejection.objects.filter(file_id=row.pk).delete()
        else:
            _rejections_record(row.pk, staged)


def file_preview_change(
    *, file_id: int, importer: str = "", inbox: Inbox | None = None
) -> InboxFile:
    """Preview a file again as dataset *importer* ("" = by header) of *inbox*.

    The file stays where it is (its processing folder is its home); the
    inbox's dataset, encoding, aliases, reject rate and recipients apply.
    Raises :class:`PreviewRefused` if the file is no longer in preview.
    """
    from ..importers import importer_names
    from .inboxes import inbox_default

    if importer and importer not in importer_names():
        raise PreviewRefused(_("Unknown dataset %(name)r.") % {"name": importer})
    inbox = inbox or inbox_default()
    with transaction.atomic():
        if not preview_queue(
            file_id,
            from_states=[State.PREVIEW],
            importer_requested=importer,
            inbox=inbox,
        ):
            raise PreviewRefused(_("The file is no longer waiting in preview."))
    return InboxFile.objects.get(pk=file_id)


def file_preview_confirm(*, file_id: int, version: str = "") -> InboxFile:
    """Queue a previewed file for import, as the preview read it.

    *version* is the preview a person saw (the row's task id then); blank
    confirms the current one. Refused (:class:`PreviewRefused`) unless the
    preview is ready and still that version, and the file's content is the
    one previewed; the import checks the hash again before it writes.
    Safe to repeat: a second confirm finds the row queued and is refused.
    """
    row = InboxFile.objects.filter(pk=file_id).first()
    if row is None or row.state != State.PREVIEW:
        raise PreviewRefused(_("The file is no longer waiting in preview."))
    preview = row.preview or {}
    if preview.get("status") != "ready":
        raise PreviewRefused(
            _("The preview is not ready: wait for it, or change the dataset.")
        )
    if version and version != row.task_id:
        raise PreviewRefused(
            _("The preview was recomputed since you saw it; look at it again.")
        )
    try:
        digest = storage.sha256_file(row.processing_path)
    except FileNotFoundError:
        raise PreviewRefused(_("The file is gone.")) from None
    if digest != preview.get("sha256"):
        raise PreviewRefused(
            _("The file changed since it was previewed; preview it again.")
        )
    with transaction.atomic():
        if not file_queue(
            file_id,
            from_states=[State.PREVIEW],
            where={"task_id": row.task_id, "sha256": digest},
            # The import claims the content itself (one import per content);
            # it refuses any other than the one confirmed.
            sha256="",
            preview={**preview, "confirmed_sha256": digest},
        ):
            raise PreviewRefused(_("The preview changed meanwhile; look again."))
    return InboxFile.objects.get(pk=file_id)


def file_preview_cancel(*, file_id: int) -> bool:
    """Delete a preview and its file; False if it was not in preview.

    Safe to repeat and to race a confirm: the ledger row goes only if it is
    still in preview, and the file only after its row.
    """
    row = InboxFile.objects.filter(pk=file_id, state=State.PREVIEW).first()
    if row is None:
        return False
    deleted, _kinds = InboxFile.objects.filter(pk=file_id, state=State.PREVIEW).delete()
    if deleted:
        row.processing_path.unlink(missing_ok=True)
    return bool(deleted)


def previews_expire(*, now: datetime.datetime | None = None) -> dict:
    """Remove previews older than ``INGEST_PREVIEW_KEEP``; return the counts.

    An uploaded preview is deleted with its file (its uploader still has
    it). A file of a "preview first" inbox is failed instead, moved to the
    failed folder with its reason, and its people told: nobody confirmed
    it, but it must not vanish. Safe to repeat and to run beside confirms.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=conf.preview_keep())
    expired = {"deleted": 0, "failed": 0}
    stale = InboxFile.objects.filter(state=State.PREVIEW, discovered_at__lt=cutoff)
    for row in stale.select_related("inbox").iterator():
        if row.source != InboxFile.Source.INBOX:
            expired["deleted"] += file_preview_cancel(file_id=row.pk)
            continue
        hours = conf.preview_keep() / 3600
        reason, reason_id = reason_stored(
            Reason(
                gettext_noop(
                    "Nobody confirmed its preview within %(hours)s hours "
                    "(INGEST_PREVIEW_KEEP); nothing was imported."
                ),
                hours=int(hours) if float(hours).is_integer() else round(hours, 2),
            )
        )
        destination = storage.failed_path(file_id=row.pk, name=row.name)
        with transaction.atomic():
            if not InboxFile.objects.filter(pk=row.pk, state=State.PREVIEW).update(
                state=State.FAILED,
                error=reason,
                error_reason=reason_id,
                finished_at=now,
                stored_path=str(destination),
            ):
                continue
            row.refresh_from_db()
            notify_publish(row)
        file_settle(row)
        expired["failed"] += 1
    return expired


def previews_repair(*, folder: Path) -> int:
    """Resend the preview messages a broker lost, or a dead worker dropped.

    A preview pending or running past ``INGEST_REDISPATCH_AFTER`` whose
    file nobody holds is published again; its task skips it if it is
    being computed after all. Returns how many were resent.
    """
    from django.db.models import Q

    from .dispatch import preview_publish

    stale = timezone.now() - datetime.timedelta(seconds=conf.redispatch_after())
    resent = 0
    for file_id, task_id in InboxFile.objects.filter(
        Q(dispatched_at__lt=stale) | Q(dispatched_at__isnull=True, queued_at__lt=stale),
        folder=str(folder),
        state=State.PREVIEW,
        preview__status__in=["pending", "running"],
    ).values_list("pk", "task_id"):
        with locks.file_lock(file_id) as free:
            if free:
                preview_publish(file_id, task_id)
                resent += 1
    return resent


def previews_schedule_ensure() -> bool:
    """Create the hourly "Expire previews" schedule once; return if it was new.

    Staff own it afterwards: a changed interval or a disabled schedule stays so.
    """
    interval, _created = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.HOURS
    )
    _task, created = PeriodicTask.objects.get_or_create(
        name=EXPIRE_TASK_NAME,
        defaults={
            "task": EXPIRE_TASK,
            "interval": interval,
            "kwargs": "{}",
            # An expiry that waited this long behind busy workers is moot:
            # the next hour's is on its way.
            "expire_seconds": 600,
            "description": "Remove previews not confirmed within INGEST_PREVIEW_KEEP.",
        },
    )
    return created
