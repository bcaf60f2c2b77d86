"""Import one queued file: claim, hash, stage, apply, archive or fail.

Runs under the file's liveness lock; the dataset's writes and the ledger's
DONE commit together in one transaction. :func:`_file_run` reads top to
bottom as its steps: :func:`_file_checked` (where the file is, its size),
the content hash, :func:`_file_route` (which dataset) and
:func:`_content_claim` (duplicate, or a twin importing now; hash and
dataset recorded in one statement), :func:`_file_stage` (validate and
stream into staging),
:func:`_reject_policy` (too many bad rows refuse the file) and
:func:`_file_apply` (upsert and DONE in one transaction), then the move to
the archive and the email.
"""

import contextlib
import datetime
import logging
import os
import stat
import time
from pathlib import Path

from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from .. import conf, filekinds, locks, notify, storage
from ..importers import FileRejected, Importer, route_choose
from ..importers.base import rejected_share_check
from ..importers.pipeline import RejectedRow, StageResult, rows_stage
from ..importers.sources import source_open
from ..importers.staging import Staging
from ..languages import file_language
from ..models import InboxFile, RowRejection
from ..progress import ProgressReporter, ProgressSink
from ..reasons import (
    Grouped,
    Reason,
    reason_json,
    reason_stored,
    reason_text,
    site_language,
)
from ..stores import StoreTransient
from . import archives
from .dispatch import import_publish, webhook_publish
from .remote_files import remote_destination, remote_fetch, remote_settle, spool_clear

logger = logging.getLogger(__name__)

State = InboxFile.State
FINAL = InboxFile.FINAL_STATES
#: Seconds before retrying a file whose identical twin is importing right now.
TWIN_RETRY_COUNTDOWN = 30
#: Errors quoted in a rejected file's reason (the rest are in the ledger).
REASON_ERRORS = 3


def file_import(
    *,
    file_id: int,
    task_id: str | None = None,
    progress_sink: ProgressSink | None = None,
) -> dict:
    """Import one queued file and archive it; return the summary.

    Safe to repeat: a second call for the same file (a redelivered or
    duplicated message) finds the lock held or the row no longer queued and
    returns ``{"status": "skipped"}``. Database outages propagate so the
    task retries; anything else fails the file with the reason recorded.
    """
    with locks.file_lock(file_id) as held:
        if not held:
            return _skipped(file_id, "another worker is importing it")
        row = _file_claim(file_id, task_id)
        if row is None:
            return _skipped(file_id, "it is not waiting to be imported")
        if row.attempts > conf.max_attempts():
            return _file_fail(
                row,
                Reason(
                    gettext_noop(
                        "Gave up after %(attempts)d attempts: every worker died on it."
                    ),
                    attempts=row.attempts - 1,
                ),
            )
        try:
            # The COPY writer talks to the driver directly; translate its
            # errors too, so an outage mid-COPY retries instead of failing.
            with connection.wrap_database_errors:
                return _file_run(row, progress_sink)
        except FileRejected as exc:
            return _file_fail(row, exc.reason)
        except (OperationalError, InterfaceError):
            raise
        except StoreTransient:
            # The remote store went away for a moment: no worker died, so
            # this try does not count towards INGEST_MAX_ATTEMPTS.
            InboxFile.objects.filter(pk=file_id, state=State.IMPORTING).update(
                state=State.QUEUED, queued_at=timezone.now(), attempts=F("attempts") - 1
            )
            raise
        except Exception as exc:
            logger.exception("Import of file #%s failed", file_id)
            return _file_fail(
                row,
                Reason(
                    gettext_noop("Unexpected error: %(error)s"),
                    error=f"{type(exc).__name__}: {exc}",
                ),
            )
        finally:
            if row.is_remote:
                spool_clear(row)


def _skipped(file_id: int, reason: str) -> dict:
    logger.info("Skipping file #%s: %s.", file_id, reason)
    return {"status": "skipped", "file_id": file_id, "reason": reason}


def _file_claim(file_id: int, task_id: str | None) -> InboxFile | None:
    """Take a queued file for import; None if it is not ours to take.

    Called with the file's lock held, so a row still IMPORTING belongs to a
    dead worker and may be taken over. A message carrying another task id
    than the ledger's is stale (the file was requeued since) and is ignored.
    """
    claim = InboxFile.objects.filter(
        pk=file_id, state__in=[State.QUEUED, State.IMPORTING]
    )
    if task_id is not None:
        claim = claim.filter(task_id=task_id)
    if not claim.update(
        state=State.IMPORTING, attempts=F("attempts") + 1, started_at=timezone.now()
    ):
        return None
    return InboxFile.objects.select_related("inbox").get(pk=file_id)


def _file_locate(row: InboxFile) -> Path:
    """Return the file in its processing folder, fetching it back if needed.

    A remote file is streamed into the worker's spool folder instead.
    """
    if row.is_remote:
        return remote_fetch(row)
    target = row.processing_path
    if not os.path.lexists(target) and row.stored_path:
        if Path(row.stored_path) != target:
            with contextlib.suppress(FileNotFoundError):
                storage.move_exclusive(Path(row.stored_path), target)
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        raise FileRejected(
            Reason(
                gettext_noop(
                    "The file is gone: neither %(path)s nor %(other)s exists."
                ),
                path=str(target),
                other=row.stored_path or Reason(gettext_noop("(no other copy)")),
            )
        ) from None
    if not stat.S_ISREG(mode):
        # A refused symlink sent back by a re-import must not be read either.
        raise FileRejected(
            Reason(
                gettext_noop(
                    "Refused: the file is a symbolic link or not a regular file; "
                    "links are never followed."
                )
            )
        )
    return target


def _file_run(row: InboxFile, progress_sink: ProgressSink | None) -> dict:
    """Import a claimed file, step by step; each step may end it early."""
    started = time.monotonic()
    path, size = _file_checked(row)
    digest = storage.sha256_file(path)
    confirmed = row.preview.get("confirmed_sha256")
    if confirmed and digest != confirmed:
        raise FileRejected(
            Reason(
                gettext_noop(
                    "The file changed after a person confirmed its preview; "
                    "nothing was imported. Preview it again."
                )
            )
        )
    # Known from here on, also to a failure recorded before the claim below.
    row.sha256, row.size = digest, size
    if filekinds.is_archive(row.name):
        if (ended := _content_claim(row, digest, size)) is not None:
            return ended
        summary = archives.archive_expand(row, path)
        file_settle(row)
        if archives.archive_members_done(row):
            outcome_tell(row)  # Else the last member to finish tells it.
        return summary
    importer = _file_route(row, path, record=False)
    ended = _content_claim(row, digest, size)
    if ended is not None:
        return ended
    if row.attempts > 1 or row.preview:
        # Row errors of an earlier run are stale whatever happens now. Only
        # an earlier attempt (one that died after recording them) or a
        # preview can have left any: a re-import deletes its file's when it
        # queues it, and a new file has none.
        RowRejection.objects.filter(file_id=row.pk).delete()
    with Staging(importer) as staging:
        staged = _file_stage(row, importer, path, staging, progress_sink)
        _reject_policy(row, staged)
        imported, updated = _file_apply(row, importer, staging, staged)
    file_settle(row)
    summary = file_summary(row, seconds=time.monotonic() - started)
    summary["duplicates_in_file"] = staged.total - staged.rejected - imported - updated
    logger.info("Imported file #%s: %s", row.pk, summary)
    outcome_tell(row)
    return summary


def _file_checked(row: InboxFile) -> tuple[Path, int]:
    """Return the file and its size; refuse one over the size limit."""
    path = _file_locate(row)
    size = path.stat().st_size
    if size > conf.max_file_size():
        raise FileRejected(
            Reason(
                gettext_noop(
                    "The file is %(size)s bytes, more than the %(limit)s allowed "
                    "(INGEST_MAX_FILE_SIZE); split it into smaller files."
                ),
                size=Grouped(size),
                limit=Grouped(conf.max_file_size()),
            )
        )
    return path, size


def _content_claim(row: InboxFile, digest: str, size: int) -> dict | None:
    """Claim the content for this row; return a summary if it ends here.

    The partial unique index on sha256 lets one row per content be
    importing or done: an imported twin makes this a duplicate, one that
    is importing right now defers this row until its verdict. The same
    statement records the dataset :func:`_file_route` chose.
    """
    try:
        # Optimistic: new content passes in one statement; only a twin
        # (imported, or importing now) costs the look for it.
        with transaction.atomic():
            InboxFile.objects.filter(pk=row.pk).update(
                sha256=digest,
                size=size,
                importer=row.importer,
                importer_chosen_by=row.importer_chosen_by,
            )
    except IntegrityError:
        original = _content_done(digest, row.pk)
        if original is not None:
            return _file_duplicate(row, original, digest, size)
        return _file_defer(row)
    return None


def _file_route(row: InboxFile, path: Path, *, record: bool = True) -> Importer:
    """Choose the file's dataset from its header (see :mod:`..importers.routing`).

    Records the choice and how it was made on the ledger at once (or, with
    *record* False, on *row* only, for the caller's next statement to
    write), so a file refused later still shows which dataset it was read
    as.
    """
    inbox = row.inbox
    encoding = (inbox.encoding if inbox else "") or None
    overrides = inbox.dialect_overrides() if inbox else {}
    with source_open(path, encoding=encoding, **overrides) as source:
        header = source.header
    inbox_importer = inbox.importer if inbox else ""
    if not inbox and row.importer_chosen_by == InboxFile.ChosenBy.INBOX:
        inbox_importer = row.importer  # From a deprecated kwargs-only schedule.
    try:
        route = route_choose(
            header=header,
            requested=row.importer_requested,
            inbox_importer=inbox_importer,
            filename=row.name,
            aliases=inbox.column_aliases if inbox else None,
        )
    except FileRejected:
        # An earlier run's choice must not show for a file no dataset fits.
        InboxFile.objects.filter(pk=row.pk).update(importer="", importer_chosen_by="")
        raise
    importer = route.importer
    # An inbox's declared encoding beats the importer's (e.g. a 1C drop folder).
    importer.encoding = encoding or importer.encoding
    row.importer, row.importer_chosen_by = importer.name, str(route.chosen_by)
    if record:
        InboxFile.objects.filter(pk=row.pk).update(
            importer=row.importer, importer_chosen_by=row.importer_chosen_by
        )
    return importer


def _file_stage(
    row: InboxFile,
    importer: Importer,
    path: Path,
    staging: Staging,
    progress_sink: ProgressSink | None,
) -> StageResult:
    """Validate every row and stream the good ones into the staging table."""
    reporter = ProgressReporter(progress_sink, conf.progress_interval())
    inbox, max_errors = row.inbox, conf.max_row_errors()
    with staging.writer() as write:
        staged = rows_stage(
            importer=importer,
            path=path,
            write=write,
            progress=reporter,
            max_errors=max_errors,
            aliases=inbox.column_aliases if inbox else None,
            dialect=inbox.dialect_overrides() if inbox else None,
            formats=importer.formats_declared(
                **(inbox.formats_overrides() if inbox else {})
            ),
        )
    with connection.cursor() as cursor:
        unknown, kept = importer.lookups_reject(cursor, staging.table, limit=max_errors)
    if unknown:
        # Foreign keys no record has: rejected rows like any bad value.
        staged.rejected += unknown
        staged.errors[:] = sorted(staged.errors + kept, key=lambda e: e.line)
        del staged.errors[max_errors:]
    return staged


def _share_check(row: InboxFile, staged: StageResult) -> None:
    """Raise FileRejected if too large a share of *staged*'s rows is invalid.

    The limit is the inbox's, else ``INGEST_MAX_REJECT_RATE``; the preview
    asks the same question without recording anything.
    """
    inbox = row.inbox
    max_rate = conf.max_reject_rate()
    if inbox is not None and inbox.max_reject_rate is not None:
        max_rate = inbox.max_reject_rate
    rejected_share_check(
        total=staged.total,
        rejected=staged.rejected,
        max_rate=max_rate,
        first_errors=[_error_text(e) for e in staged.errors[:REASON_ERRORS]],
    )


def _reject_policy(row: InboxFile, staged: StageResult) -> None:
    """Refuse the file if too many rows are invalid, keeping the bad rows."""
    try:
        _share_check(row, staged)
    except FileRejected:
        # Nothing is imported, but people need the bad rows to fix them.
        with transaction.atomic():
            _rejections_record(row.pk, staged)
        raise


def _file_apply(
    row: InboxFile, importer: Importer, staging: Staging, staged: StageResult
) -> tuple[int, int]:
    """Upsert the staged rows and mark the file DONE, in one transaction."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            imported, updated = importer.apply(cursor, staging.table)
        # The run's first step deleted an earlier run's; the lock kept others off.
        _rejections_insert(row.pk, staged)
        finished = timezone.now()
        destination = _destination(row, when=finished)
        done = {
            "state": State.DONE.value,
            **_staged_facts(staged),
            "rows_imported": imported,
            "rows_updated": updated,
            "finished_at": finished,
            "stored_path": str(destination),
            "error": "",
        }
        if not InboxFile.objects.filter(pk=row.pk, state=State.IMPORTING).update(
            **done
        ):
            raise RuntimeError(
                f"File #{row.pk} left IMPORTING while its lock was held."
            )
    # The row as just written, without reading it back.
    for field, value in done.items():
        setattr(row, field, value)
    return imported, updated


def _rejections_record(file_id: int, staged: StageResult) -> None:
    """Replace the file's recorded row errors and counts with *staged*'s.

    Each reason is kept as text in the site's language and as its message
    id and values, for each reader's language (:mod:`ingest.reasons`).
    """
    RowRejection.objects.filter(file_id=file_id).delete()
    _rejections_insert(file_id, staged)
    InboxFile.objects.filter(pk=file_id).update(**_staged_facts(staged))


def _rejections_insert(file_id: int, staged: StageResult) -> None:
    """Record *staged*'s row errors (none: no statement)."""
    if not staged.errors:
        return
    with site_language():
        RowRejection.objects.bulk_create(
            (
                RowRejection(
                    file_id=file_id,
                    line=error.line,
                    column=error.column[:64],
                    message=reason_text(reason, error.message)[:500],
                    reason=reason,
                    raw=error.raw,
                )
                for error in staged.errors
                for reason in [reason_json(error.message)]
            ),
            batch_size=1000,
        )


def _staged_facts(staged: StageResult) -> dict:
    """Return the ledger fields that reading the file established."""
    return {
        "rows_total": staged.total,
        "rows_rejected": staged.rejected,
        "encoding": staged.encoding,
        "delimiter": staged.delimiter,
        "dialect": staged.dialect,
        "ignored_columns": staged.extra_columns,
    }


def _error_text(error: RejectedRow) -> Reason:
    if error.column:
        return Reason(
            gettext_noop("line %(line)d (%(column)s): %(message)s"),
            line=error.line,
            column=error.column,
            message=error.message,
        )
    return Reason(
        gettext_noop("line %(line)d: %(message)s"),
        line=error.line,
        message=error.message,
    )


def _content_done(digest: str, exclude_id: int) -> InboxFile | None:
    return (
        InboxFile.objects.filter(sha256=digest, state=State.DONE)
        .exclude(pk=exclude_id)
        .order_by("pk")
        .first()
    )


def _file_duplicate(
    row: InboxFile, original: InboxFile, digest: str, size: int
) -> dict:
    finished = timezone.now()
    destination = _destination(row, when=finished)
    InboxFile.objects.filter(pk=row.pk, state=State.IMPORTING).update(
        state=State.DUPLICATE,
        sha256=digest,
        size=size,
        duplicate_of=original,
        finished_at=finished,
        stored_path=str(destination),
        **_error_fields(
            Reason(
                gettext_noop(
                    "Same content as file #%(id)d (%(name)s); nothing imported."
                ),
                id=original.pk,
                name=original.name,
            )
        ),
    )
    row.refresh_from_db(from_queryset=InboxFile.objects.select_related("inbox"))
    file_settle(row)
    outcome_tell(row)
    return file_summary(row)


def _file_defer(row: InboxFile) -> dict:
    """Put a file back in the queue for later; its twin decides its fate."""
    if InboxFile.objects.filter(pk=row.pk, state=State.IMPORTING).update(
        state=State.QUEUED, queued_at=timezone.now(), attempts=F("attempts") - 1
    ):
        import_publish(row.pk, row.task_id, countdown=TWIN_RETRY_COUNTDOWN)
    return {
        "status": "deferred",
        "file_id": row.pk,
        "reason": "identical file importing",
    }


def _error_fields(reason: "Reason | str") -> dict:
    """Return the ledger fields that record *reason* (text, message id)."""
    text, stored = reason_stored(reason)
    return {"error": text, "error_reason": stored}


def _file_fail(row: InboxFile, reason: "Reason | str") -> dict:
    """Record a failed import, move the file to failed/ with its reason."""
    destination = _destination(row, failed=True)
    fields = _error_fields(reason)
    InboxFile.objects.filter(pk=row.pk, state=State.IMPORTING).update(
        state=State.FAILED,
        finished_at=timezone.now(),
        stored_path=str(destination),
        # The content seen, also when the file failed before its claim.
        sha256=row.sha256,
        size=row.size,
        **fields,
    )
    row.refresh_from_db(from_queryset=InboxFile.objects.select_related("inbox"))
    logger.warning("File #%s (%s) failed: %s", row.pk, row.name, fields["error"])
    file_settle(row)
    outcome_tell(row)
    return file_summary(row)


def _destination(
    row: InboxFile, *, failed: bool = False, when: datetime.datetime | None = None
) -> Path | str:
    """Return where a finished file goes: archive/YYYY/MM/DD/ or failed/."""
    when = when or timezone.now()
    if row.is_remote:
        return remote_destination(row, failed=failed, when=when)
    if failed:
        return storage.failed_path(file_id=row.pk, name=row.name)
    return storage.archive_path(file_id=row.pk, name=row.name, when=when)


def outcome_tell(row: InboxFile) -> None:
    """Tell people about finished *row* once its outcome has committed.

    The email is sent from here, by the task that finished the file, not
    by a task of its own: a message, a result row and a worker's turn fewer
    per file. The ledger row is its outbox: ``notify_state`` stays PENDING
    until the send is claimed, so a worker that dies in between leaves the
    email to the scan's repair past ``INGEST_NOTIFY_GRACE`` (a
    ``notify_file`` message), and only the claim sends, so never twice. A
    failure here is logged and never undoes the import. The webhook, which
    retries for minutes, keeps its own task.
    """
    webhook_publish(row)
    if row.archive_id:
        # A member is told in its archive's email, once all are final.
        transaction.on_commit(lambda: _archive_tell(row.archive_id))
        return

    def send() -> None:
        try:
            notify.file_notify(file_id=row.pk, row=row)
        except Exception:
            logger.warning(
                "Could not email the outcome of file #%s; the scan retries "
                "it if it is still pending.",
                row.pk,
                exc_info=True,
            )

    transaction.on_commit(send)


def _archive_tell(archive_id: int) -> None:
    """Tell about the archive once its last member is final (else nothing yet)."""
    archive = InboxFile.objects.select_related("inbox").get(pk=archive_id)
    if archive.is_final and archives.archive_members_done(archive):
        outcome_tell(archive)


def file_settle(row: InboxFile) -> None:
    """Move a finished file from processing to where the ledger says it goes."""
    if row.is_remote:
        remote_settle(row)
        return
    source, destination = row.processing_path, Path(row.stored_path)
    if row.stored_path and source != destination and source.exists():
        try:
            storage.move_exclusive(source, destination)
        except FileExistsError:
            logger.error("Cannot settle %s: %s already exists.", source, destination)
            return
        except FileNotFoundError:
            pass  # Settled concurrently.
    if row.state == State.FAILED and row.stored_path:
        reason = storage.reason_path(destination)
        with translation.override(file_language(row)):
            text = file_failure_paragraph(row) + "\n"
        # Rewritten when a re-import failed for another reason than before.
        if not reason.exists() or reason.read_text(encoding="utf-8") != text:
            storage.write_text_atomic(reason, text)


def file_failure_paragraph(row: InboxFile) -> str:
    """Return one paragraph telling people why a file failed and what to do.

    Written in the active language; the ``.error.txt`` beside a failed file
    is written in its inbox's (see :func:`file_settle`).
    """
    error = " ".join(row.error_text.split()) or Reason(
        gettext_noop("No reason was recorded.")
    )
    if not error.endswith((".", "!", "?")):
        error += "."
    return str(
        Reason(
            gettext_noop(
                "%(name)s (ledger #%(id)d) was not imported: %(error)s Nothing "
                "from this file was written to the database. Fix it and drop it "
                "into the inbox again, or re-import it from the admin once fixed "
                "in place."
            ),
            name=row.name,
            id=row.pk,
            error=error,
        )
    )


def file_summary(row: InboxFile, *, seconds: float | None = None) -> dict:
    """Return the small JSON summary stored as the task result and emailed."""
    if seconds is None:
        seconds = row.duration or 0.0
    return {
        "status": row.state,
        "file_id": row.pk,
        "file": row.name,
        "inbox": row.inbox.name if row.inbox_id else "",
        "dataset": row.importer,
        "dataset_chosen_by": row.importer_chosen_by,
        "imported": row.rows_imported,
        "updated": row.rows_updated,
        "rejected": row.rows_rejected,
        "total": row.rows_total,
        "seconds": round(seconds, 3),
        **({"error": row.error} if row.error else {}),
        **({"ignored_columns": row.ignored_columns} if row.ignored_columns else {}),
    }
