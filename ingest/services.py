"""The write side of ingest: scan, claim, import, finish, requeue.

Every function here is safe to call twice and from several processes at
once. Ledger state moves only by conditional UPDATEs
(``filter(state=…).update(…)``: the database decides who won), files only
by exclusive moves (:mod:`ingest.storage`), and an import runs under its
file's liveness lock (:mod:`ingest.locks`). Broker messages are doorbells:
losing one delays a file until the next scan, delivering one twice changes
nothing.
"""

import codecs
import contextlib
import datetime
import logging
import os
import re
import shutil
import stat
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import F, Q
from django.utils import timezone

from . import conf, locks, scanner, storage
from .importers import FileRejected, importer_for
from .importers.base import rejected_share_check
from .importers.pipeline import RejectedRow, StageResult, rows_stage
from .importers.registry import importer_names
from .importers.staging import Staging
from .models import InboxFile, RowRejection
from .progress import ProgressReporter, ProgressSink

logger = logging.getLogger(__name__)

State = InboxFile.State
FINAL = InboxFile.FINAL_STATES
#: Seconds a finished file may wait for its email before a scan resends it.
NOTIFY_GRACE = 60
#: Seconds before retrying a file whose identical twin is importing right now.
TWIN_RETRY_COUNTDOWN = 30
#: Errors quoted in a rejected file's reason (the rest are in the ledger).
REASON_ERRORS = 3


# --- Scan -----------------------------------------------------------------


def inbox_scan(*, inbox: str | None = None, importer: str | None = None) -> dict:
    """Register new stable files in *inbox*, queue them, and repair the ledger.

    *importer* (a scheduled scan's kwarg) names the dataset of every file
    in the inbox; without it each file's name prefix decides. Side effects:
    ledger rows created/updated, files moved into the inbox's processing
    folder, import and notify messages published. Safe to run concurrently
    with itself and with imports.
    """
    root = conf.resolve_inbox(inbox)
    if importer and importer not in importer_names():
        raise ImproperlyConfigured(
            f"Unknown importer {importer!r} in the scan's kwargs; known: "
            f"{', '.join(importer_names())}."
        )
    processing = storage.processing_dir(root)
    if processing.is_symlink():
        # Files moved through it would leave the inbox for wherever it points.
        raise ImproperlyConfigured(
            f"{processing} is a symbolic link; refusing to scan {root}."
        )
    processing.mkdir(parents=True, exist_ok=True)
    summary: Counter[str] = Counter()
    seen: set[str] = set()
    for found in scanner.inbox_list(root):
        seen.add(str(found.path))
        try:
            summary[_found_register(found=found, inbox=root, importer=importer)] += 1
        except Exception:
            # One odd file must not stop the scan of the others.
            logger.exception("Could not register %s", found.path)
            summary["errors"] += 1
    summary.update(_inbox_repair(inbox=root, seen=seen))
    return {"inbox": str(root), "seen": len(seen), **summary}


def _found_register(
    *, found: scanner.FoundFile, inbox: Path, importer: str | None = None
) -> str:
    if found.refused:
        return _found_refuse(found=found, inbox=inbox)
    try:
        row, created = InboxFile.objects.get_or_create(
            inbox_path=str(found.path),
            state=State.DISCOVERED,
            defaults={
                "name": found.name,
                "inbox": str(inbox),
                "size": found.size,
                "mtime": found.mtime,
                "importer": importer or _importer_name(found.name),
            },
        )
    except IntegrityError:
        # A concurrent scan registered it and queued it before our get.
        return "raced"
    if not created and (row.size, row.mtime) != (found.size, found.mtime):
        InboxFile.objects.filter(pk=row.pk, state=State.DISCOVERED).update(
            size=found.size, mtime=found.mtime
        )
        return "changing"
    if time.time() - found.mtime < conf.min_file_age():
        return "waiting"
    try:
        storage.move_exclusive(found.path, row.processing_path)
    except FileNotFoundError:
        # A concurrent scan moved it; it queues it too. If our listing was
        # older than its move, the row we just made is a stale sighting.
        _sighting_forget(row)
        return "raced"
    except FileExistsError:
        logger.error(
            "%s is taken; leaving %s in the inbox", row.processing_path, found.path
        )
        return "conflicts"
    return "queued" if _file_queue(row.pk, from_states=[State.DISCOVERED]) else "raced"


def _sighting_forget(row: InboxFile) -> bool:
    """Delete a DISCOVERED row made from a listing older than the file's move.

    A scan that listed a file just before a concurrent scan took it can
    register it again after the other row left DISCOVERED. Such a row has
    no file behind it (neither in the inbox nor in its processing path)
    and the same path, size and mtime as an entry that already took the
    file; only then is it deleted, so a file really deleted from the inbox
    is still recorded as vanished.
    """
    if os.path.lexists(row.inbox_path) or os.path.lexists(row.processing_path):
        return False
    taken = (
        InboxFile.objects.filter(
            inbox_path=row.inbox_path, size=row.size, mtime=row.mtime
        )
        .exclude(pk=row.pk)
        .exclude(state=State.DISCOVERED)
    )
    if not taken.exists():
        return False
    deleted, _ = InboxFile.objects.filter(pk=row.pk, state=State.DISCOVERED).delete()
    return bool(deleted)


def _importer_name(filename: str) -> str:
    try:
        return importer_for(filename=filename).name
    except FileRejected:
        return ""  # Recorded as the failure reason when it is imported.


def _found_refuse(*, found: scanner.FoundFile, inbox: Path) -> str:
    """Record a file the scanner will not read and move it out of the way."""
    row = InboxFile.objects.create(
        name=found.name,
        inbox=str(inbox),
        inbox_path=str(found.path),
        state=State.FAILED,
        error=found.refused,
        finished_at=timezone.now(),
    )
    destination = storage.failed_path(file_id=row.pk, name=row.name)
    InboxFile.objects.filter(pk=row.pk).update(stored_path=str(destination))
    try:
        storage.move_exclusive(found.path, destination)
        storage.write_text_atomic(
            storage.reason_path(destination), found.refused + "\n"
        )
    except FileNotFoundError:
        # A concurrent scan refused it first and keeps the only record.
        InboxFile.objects.filter(pk=row.pk).delete()
        return "raced"
    except OSError:
        logger.exception("Could not move refused %s", found.path)
    _notify_publish(row.pk)
    return "refused"


def _inbox_repair(*, inbox: Path, seen: set[str]) -> Counter[str]:
    """Finish what crashed scans, dead workers and lost messages left undone."""
    repaired: Counter[str] = Counter()
    now = timezone.now()
    in_inbox = InboxFile.objects.filter(inbox=str(inbox))

    # Moved into processing by a scan that died before queueing it.
    for row in in_inbox.filter(state=State.DISCOVERED):
        if row.inbox_path in seen:
            continue
        if row.processing_path.exists():
            if _file_queue(row.pk, from_states=[State.DISCOVERED]):
                repaired["recovered"] += 1
        elif _sighting_forget(row):
            repaired["forgotten"] += 1
        elif not Path(row.inbox_path).exists():
            repaired["vanished"] += InboxFile.objects.filter(
                pk=row.pk, state=State.DISCOVERED
            ).update(
                state=State.FAILED,
                finished_at=now,
                error="The file disappeared from the inbox before it was taken.",
            )

    # Finished (done/failed/duplicate) but the file never left processing.
    processing = storage.processing_dir(inbox)
    ids = [_id_prefix(entry.name) for entry in processing.iterdir()]
    for row in InboxFile.objects.filter(pk__in=[i for i in ids if i], state__in=FINAL):
        _file_settle(row)
        repaired["settled"] += 1

    # Importing, but nobody holds the lock: the worker died mid-import.
    for file_id in in_inbox.filter(state=State.IMPORTING).values_list("pk", flat=True):
        with locks.file_lock(file_id) as free:
            if free and InboxFile.objects.filter(
                pk=file_id, state=State.IMPORTING
            ).update(state=State.QUEUED, queued_at=now, dispatched_at=None):
                logger.warning("Import of file #%s was interrupted; requeued.", file_id)
                row = InboxFile.objects.get(pk=file_id)
                _publish_import(file_id, row.task_id)
                repaired["resumed"] += 1

    # Queued, but the doorbell may have been lost (a broker restart).
    stale = now - datetime.timedelta(seconds=conf.redispatch_after())
    for file_id, task_id in in_inbox.filter(
        Q(dispatched_at__lt=stale) | Q(dispatched_at__isnull=True, queued_at__lt=stale),
        state=State.QUEUED,
    ).values_list("pk", "task_id"):
        _publish_import(file_id, task_id)
        repaired["redispatched"] += 1

    # Finished, but the email never went out.
    for file_id in in_inbox.filter(
        state__in=FINAL,
        notify_state=InboxFile.Notify.PENDING,
        finished_at__lt=now - datetime.timedelta(seconds=NOTIFY_GRACE),
    ).values_list("pk", flat=True):
        _notify_publish(file_id)
        repaired["renotified"] += 1
    return repaired


def _id_prefix(name: str) -> int | None:
    head, _sep, _rest = name.partition("-")
    return int(head) if head.isdigit() else None


# --- Queue and publish ----------------------------------------------------


def _file_queue(file_id: int, *, from_states: Iterable[str], **changes) -> bool:
    """Move a file to QUEUED with a fresh task id and publish it after commit."""
    task_id = str(uuid.uuid4())
    moved = InboxFile.objects.filter(pk=file_id, state__in=list(from_states)).update(
        state=State.QUEUED,
        task_id=task_id,
        queued_at=timezone.now(),
        dispatched_at=None,
        **changes,
    )
    if moved:
        transaction.on_commit(lambda: _publish_import(file_id, task_id))
    return bool(moved)


def _publish_import(file_id: int, task_id: str) -> None:
    """Ring the doorbell for one file; a broker failure waits for the next scan."""
    # Imported here: tasks import this module.
    from .tasks import import_file

    try:
        import_file.apply_async(args=(file_id,), task_id=task_id)
    except Exception:
        logger.warning(
            "Could not publish the import of file #%s; the next scan retries.",
            file_id,
            exc_info=True,
        )
        return
    InboxFile.objects.filter(pk=file_id, state=State.QUEUED, task_id=task_id).update(
        dispatched_at=timezone.now()
    )


def _notify_publish(file_id: int) -> None:
    from .tasks import notify_file

    def publish() -> None:
        try:
            notify_file.apply_async(args=(file_id,))
        except Exception:
            logger.warning(
                "Could not publish the email for file #%s.", file_id, exc_info=True
            )

    transaction.on_commit(publish)


def files_requeue(*, files: Iterable[InboxFile]) -> int:
    """Queue finished files for another import; return how many were queued.

    Side effects: ledger rows reset to QUEUED, import messages published.
    The file is fetched back from archive/failed by the import itself.
    """
    count = 0
    for row in files:
        count += _file_queue(
            row.pk,
            from_states=FINAL,
            sha256="",
            error="",
            attempts=0,
            duplicate_of=None,
            rows_total=0,
            rows_imported=0,
            rows_updated=0,
            rows_rejected=0,
            started_at=None,
            finished_at=None,
            notify_state=InboxFile.Notify.PENDING,
            notify_error="",
        )
    return count


def file_register_path(*, path: Path) -> InboxFile:
    """Copy a file from anywhere into the default inbox's processing folder.

    Used by ``ingest_file``; the caller's file is left where it is.
    """
    inbox = conf.inbox_dir()
    storage.processing_dir(inbox).mkdir(parents=True, exist_ok=True)
    info = path.stat()
    row = InboxFile.objects.create(
        name=path.name,
        inbox=str(inbox),
        inbox_path=str(path.resolve()),
        source=InboxFile.Source.COMMAND,
        size=info.st_size,
        mtime=info.st_mtime,
        importer=_importer_name(path.name),
        state=State.QUEUED,
        task_id=str(uuid.uuid4()),
        queued_at=timezone.now(),
    )
    temporary = row.processing_path.with_name(f".{row.processing_path.name}.tmp")
    storage.move_exclusive(_copy(path, temporary), row.processing_path)
    return row


def _copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


# --- Upload ---------------------------------------------------------------

#: Longest original name kept, in UTF-8 bytes: ``<id>-<name>`` and the
#: hidden temporary names built from it must fit a 255-byte file name.
UPLOAD_NAME_MAX_BYTES = 160
_UPLOAD_NAME_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
_WIDE_BOMS = (
    codecs.BOM_UTF32_LE,
    codecs.BOM_UTF32_BE,
    codecs.BOM_UTF16_LE,
    codecs.BOM_UTF16_BE,
)


class UploadRejected(Exception):
    """An upload refused before it reached the ledger; the message says why."""


def upload_name(name: str) -> str:
    """Return the client's file name reduced to one safe path component.

    Only the last component survives (``../../x.csv`` → ``x.csv``), control
    characters and leading dots go, long names are shortened keeping
    ``.csv``. The result is only ever used after ``<ledger id>-``.
    """
    base = re.split(r"[/\\]", name)[-1]
    base = _UPLOAD_NAME_UNSAFE.sub("", base).strip().lstrip(".").strip()
    stem, dot, suffix = base.rpartition(".")
    if not dot or suffix.lower() != "csv" or not stem.strip():
        raise UploadRejected(
            f"{name or '(no name)'!r} is not a .csv file: only CSV files are imported."
        )
    encoded = stem.encode("utf-8")[: UPLOAD_NAME_MAX_BYTES - len(".csv")]
    return encoded.decode("utf-8", errors="ignore").strip() + "." + suffix


def file_upload(*, name: str, chunks: Iterable[bytes]) -> InboxFile:
    """Store one uploaded CSV, register it in the ledger and queue its import.

    The bytes go to a hidden temporary file in the default inbox's
    processing folder (the scanner never lists it), checked on the way
    (size limit; text, not binary). The ledger row
    (``source=upload``) is created, the file moved to its processing path
    and the row queued in one transaction, so no scan ever sees the row
    before it is QUEUED and none can import it a second time; the import
    message is published on commit. Not idempotent: every call is a new
    upload (a second copy of the same content becomes a duplicate).

    Raises :class:`UploadRejected` with a message for the uploader.
    """
    display = upload_name(name)
    inbox = conf.inbox_dir()
    processing = storage.processing_dir(inbox)
    processing.mkdir(parents=True, exist_ok=True)
    temporary = processing / f".upload-{uuid.uuid4().hex}.tmp"
    committed: list[bool] = []
    stored: Path | None = None
    try:
        size = _upload_write(chunks, temporary, limit=conf.max_upload_size())
        with transaction.atomic():
            row = InboxFile.objects.create(
                name=display,
                inbox=str(inbox),
                inbox_path=str(temporary),
                source=InboxFile.Source.UPLOAD,
                size=size,
                mtime=time.time(),
                importer=_importer_name(display),
                state=State.DISCOVERED,
            )
            stored = row.processing_path
            storage.move_exclusive(temporary, stored)
            transaction.on_commit(lambda: committed.append(True))
            if not _file_queue(
                row.pk, from_states=[State.DISCOVERED], inbox_path=str(stored)
            ):
                raise RuntimeError(f"Upload #{row.pk} left DISCOVERED unexpectedly.")
    except BaseException:
        # Nothing may stay behind for a row that never committed.
        temporary.unlink(missing_ok=True)
        if stored is not None and not committed:
            stored.unlink(missing_ok=True)
        raise
    row.refresh_from_db()
    return row


def _upload_write(chunks: Iterable[bytes], path: Path, *, limit: int) -> int:
    """Write *chunks* to the new file *path*, refusing what is not CSV text.

    Binary content (a NUL byte: no text encoding the importers read has
    one) and UTF-16/32 are refused here, as is a file that declares UTF-8
    with a BOM but is not; which 8-bit encoding the rest is in is the
    importer's call, and its verdict is recorded in the ledger.
    """
    decoder: codecs.IncrementalDecoder | None = None
    size = 0
    with open(path, "xb") as handle:
        for chunk in chunks:
            if not chunk:
                continue
            if size + len(chunk) > limit:
                raise UploadRejected(
                    f"The file is larger than the upload limit of {limit:,} bytes."
                )
            if not size:
                if chunk.startswith(_WIDE_BOMS):
                    raise UploadRejected(
                        'The file is UTF-16/32 text (Excel\'s "Unicode text"); '
                        'save it as "CSV UTF-8" instead.'
                    )
                if chunk.startswith(codecs.BOM_UTF8):
                    decoder = codecs.getincrementaldecoder("utf-8")()
            if b"\0" in chunk:
                raise UploadRejected(
                    "The file contains NUL bytes: it is binary, not CSV text."
                )
            if decoder is not None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    raise UploadRejected(
                        "The file starts with a UTF-8 mark but is not UTF-8 "
                        f"text (bad byte at offset {size + exc.start})."
                    ) from None
            handle.write(chunk)
            size += len(chunk)
        if decoder is not None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise UploadRejected(
                    "The file is not UTF-8 text (it ends inside a character)."
                ) from None
        if not size:
            raise UploadRejected("The file is empty.")
        handle.flush()
        os.fsync(handle.fileno())
    return size


# --- Import ---------------------------------------------------------------


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
                f"Gave up after {row.attempts - 1} attempts: every worker died on it.",
            )
        try:
            # The COPY writer talks to the driver directly; translate its
            # errors too, so an outage mid-COPY retries instead of failing.
            with connection.wrap_database_errors:
                return _file_run(row, progress_sink)
        except FileRejected as exc:
            return _file_fail(row, str(exc))
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:
            logger.exception("Import of file #%s failed", file_id)
            return _file_fail(row, f"Unexpected error: {type(exc).__name__}: {exc}")


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
    return InboxFile.objects.get(pk=file_id)


def _file_locate(row: InboxFile) -> Path:
    """Return the file in its processing folder, fetching it back if needed."""
    target = row.processing_path
    if not os.path.lexists(target) and row.stored_path:
        if Path(row.stored_path) != target:
            with contextlib.suppress(FileNotFoundError):
                storage.move_exclusive(Path(row.stored_path), target)
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        raise FileRejected(
            f"The file is gone: neither {target} nor "
            f"{row.stored_path or '(no other copy)'} exists."
        ) from None
    if not stat.S_ISREG(mode):
        # A refused symlink sent back by a re-import must not be read either.
        raise FileRejected(
            "Refused: the file is a symbolic link or not a regular file; "
            "links are never followed."
        )
    return target


def _file_run(row: InboxFile, progress_sink: ProgressSink | None) -> dict:
    path = _file_locate(row)
    started = time.monotonic()
    size = path.stat().st_size
    if size > conf.max_file_size():
        raise FileRejected(
            f"The file is {size:,} bytes, more than the {conf.max_file_size():,} "
            "allowed (INGEST_MAX_FILE_SIZE); split it into smaller files."
        )
    digest = storage.sha256_file(path)
    original = _content_done(digest, row.pk)
    if original is not None:
        return _file_duplicate(row, original, digest, size)
    try:
        with transaction.atomic():
            InboxFile.objects.filter(pk=row.pk).update(sha256=digest, size=size)
    except IntegrityError:
        # Its twin (same content) is importing right now: wait for its verdict.
        original = _content_done(digest, row.pk)
        if original is not None:
            return _file_duplicate(row, original, digest, size)
        return _file_defer(row)

    importer = importer_for(name=row.importer, filename=row.name)
    # An inbox's declared encoding beats the importer's (e.g. a 1C drop folder).
    importer.encoding = conf.inbox_encoding(row.inbox) or importer.encoding
    # Row errors of an earlier run of this file are stale whatever happens now.
    RowRejection.objects.filter(file_id=row.pk).delete()
    reporter = ProgressReporter(progress_sink, conf.progress_interval())
    with Staging(importer) as staging:
        with staging.writer() as write:
            staged = rows_stage(
                importer=importer,
                path=path,
                write=write,
                progress=reporter,
                max_errors=conf.max_row_errors(),
            )
        try:
            rejected_share_check(
                total=staged.total,
                rejected=staged.rejected,
                max_rate=conf.max_reject_rate(),
                first_errors=[_error_text(e) for e in staged.errors[:REASON_ERRORS]],
            )
        except FileRejected:
            # Nothing is imported, but people need the bad rows to fix them.
            with transaction.atomic():
                _rejections_record(row.pk, staged)
            raise
        with transaction.atomic():
            with connection.cursor() as cursor:
                imported, updated = importer.apply(cursor, staging.table)
            _rejections_record(row.pk, staged)
            finished = timezone.now()
            destination = storage.archive_path(
                file_id=row.pk, name=row.name, when=finished
            )
            if not InboxFile.objects.filter(pk=row.pk, state=State.IMPORTING).update(
                state=State.DONE,
                rows_total=staged.total,
                rows_imported=imported,
                rows_updated=updated,
                rows_rejected=staged.rejected,
                finished_at=finished,
                stored_path=str(destination),
                error="",
                importer=importer.name,
                ignored_columns=staged.extra_columns,
            ):
                raise RuntimeError(
                    f"File #{row.pk} left IMPORTING while its lock was held."
                )
    row.refresh_from_db()
    _file_settle(row)
    _notify_publish(row.pk)
    summary = file_summary(row, seconds=time.monotonic() - started)
    summary["duplicates_in_file"] = staged.total - staged.rejected - imported - updated
    logger.info("Imported file #%s: %s", row.pk, summary)
    return summary


def _rejections_record(file_id: int, staged: StageResult) -> None:
    """Replace the file's recorded row errors and counts with *staged*'s."""
    RowRejection.objects.filter(file_id=file_id).delete()
    RowRejection.objects.bulk_create(
        (
            RowRejection(
                file_id=file_id,
                line=error.line,
                column=error.column[:64],
                message=error.message[:500],
                raw=error.raw,
            )
            for error in staged.errors
        ),
        batch_size=1000,
    )
    InboxFile.objects.filter(pk=file_id).update(
        rows_total=staged.total,
        rows_rejected=staged.rejected,
        encoding=staged.encoding,
        delimiter=staged.delimiter,
        ignored_columns=staged.extra_columns,
    )


def _error_text(error: RejectedRow) -> str:
    column = f" ({error.column})" if error.column else ""
    return f"line {error.line}{column}: {error.message}"


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
    destination = storage.archive_path(file_id=row.pk, name=row.name, when=finished)
    InboxFile.objects.filter(pk=row.pk, state=State.IMPORTING).update(
        state=State.DUPLICATE,
        sha256=digest,
        size=size,
        duplicate_of=original,
        finished_at=finished,
        stored_path=str(destination),
        error=(
            f"Same content as file #{original.pk} ({original.name}); nothing imported."
        ),
    )
    row.refresh_from_db()
    _file_settle(row)
    _notify_publish(row.pk)
    return file_summary(row)


def _file_defer(row: InboxFile) -> dict:
    """Put a file back in the queue for later; its twin decides its fate."""
    from .tasks import import_file

    if InboxFile.objects.filter(pk=row.pk, state=State.IMPORTING).update(
        state=State.QUEUED, queued_at=timezone.now(), attempts=F("attempts") - 1
    ):
        try:
            import_file.apply_async(
                args=(row.pk,), task_id=row.task_id, countdown=TWIN_RETRY_COUNTDOWN
            )
        except Exception:
            logger.warning("Could not defer file #%s; the next scan retries.", row.pk)
    return {
        "status": "deferred",
        "file_id": row.pk,
        "reason": "identical file importing",
    }


def _file_fail(row: InboxFile, reason: str) -> dict:
    """Record a failed import, move the file to failed/ with its reason."""
    destination = storage.failed_path(file_id=row.pk, name=row.name)
    InboxFile.objects.filter(pk=row.pk, state=State.IMPORTING).update(
        state=State.FAILED,
        error=reason,
        finished_at=timezone.now(),
        stored_path=str(destination),
    )
    row.refresh_from_db()
    logger.warning("File #%s (%s) failed: %s", row.pk, row.name, reason)
    _file_settle(row)
    _notify_publish(row.pk)
    return file_summary(row)


def _file_settle(row: InboxFile) -> None:
    """Move a finished file from processing to where the ledger says it goes."""
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
        text = file_failure_paragraph(row) + "\n"
        # Rewritten when a re-import failed for another reason than before.
        if not reason.exists() or reason.read_text(encoding="utf-8") != text:
            storage.write_text_atomic(reason, text)


def file_failure_paragraph(row: InboxFile) -> str:
    """Return one paragraph telling people why a file failed and what to do."""
    error = " ".join(row.error.split()) or "No reason was recorded."
    if not error.endswith((".", "!", "?")):
        error += "."
    return (
        f"{row.name} (ledger #{row.pk}) was not imported: {error} Nothing from "
        "this file was written to the catalogue. Fix it and drop it into the "
        "inbox again, or re-import it from the admin once fixed in place."
    )


def file_summary(row: InboxFile, *, seconds: float | None = None) -> dict:
    """Return the small JSON summary stored as the task result and emailed."""
    if seconds is None:
        seconds = row.duration or 0.0
    return {
        "status": row.state,
        "file_id": row.pk,
        "file": row.name,
        "imported": row.rows_imported,
        "updated": row.rows_updated,
        "rejected": row.rows_rejected,
        "total": row.rows_total,
        "seconds": round(seconds, 3),
        **({"error": row.error} if row.error else {}),
        **({"ignored_columns": row.ignored_columns} if row.ignored_columns else {}),
    }
