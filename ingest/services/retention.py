"""Forget what has been kept long enough: archived files and old ledger rows.

Off by default. ``INGEST_ARCHIVE_KEEP_DAYS`` deletes the stored file (in
``archive/`` or ``failed/``, with its ``.error.txt``) of entries finished
longer ago, keeping the entry; ``INGEST_LEDGER_KEEP_DAYS`` deletes the
entries themselves (their rejected rows, and any file still stored, go
with them). Only final entries are touched, in batches, each batch's rows
locked and changed in one short transaction before any file is deleted, so
a re-import that races with it finds either its file or a clear "file is
gone", never half of one. Task results expire on their own schedule
(``CELERY_RESULT_EXPIRES``, Celery's ``celery.backend_cleanup``).
"""

import datetime
import logging
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from .. import conf, storage
from ..models import InboxFile

logger = logging.getLogger(__name__)

FINAL = InboxFile.FINAL_STATES
#: Ledger entries handled per transaction.
BATCH_SIZE = 500
#: The schedule ``ingest_setup`` creates (staff may change or disable it).
RETENTION_TASK_NAME = "Apply retention"
RETENTION_TASK = "ingest.tasks.apply_retention"


def retention_apply(
    *, now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE
) -> dict:
    """Delete stored files and ledger entries past their keep days.

    Returns what was removed. Safe to repeat and to run beside imports:
    what is gone is not found again, and non-final entries are never read.
    """
    now = now or timezone.now()
    summary = {"files_deleted": 0, "bytes_deleted": 0, "entries_deleted": 0}
    if days := conf.archive_keep_days():
        files, size = _stored_files_delete(
            cutoff=now - datetime.timedelta(days=days), batch_size=batch_size
        )
        summary.update(files_deleted=files, bytes_deleted=size)
    if days := conf.ledger_keep_days():
        entries, files, size = _entries_delete(
            cutoff=now - datetime.timedelta(days=days), batch_size=batch_size
        )
        summary["entries_deleted"] = entries
        summary["files_deleted"] += files
        summary["bytes_deleted"] += size
    logger.info(
        "Retention: %(files_deleted)s stored files (%(bytes_deleted)s bytes) and "
        "%(entries_deleted)s ledger entries deleted.",
        summary,
    )
    return summary


def _old_final(cutoff: datetime.datetime, after: int):
    return (
        InboxFile.objects.select_for_update(skip_locked=True)
        .filter(pk__gt=after, state__in=FINAL, finished_at__lt=cutoff)
        .order_by("pk")
    )


def _stored_files_delete(
    *, cutoff: datetime.datetime, batch_size: int
) -> tuple[int, int]:
    files = size = 0
    after = 0
    while True:
        with transaction.atomic():
            batch = list(
                _old_final(cutoff, after)
                .exclude(stored_path="")
                # A remote inbox's archive is the bucket's or server's to expire.
                .exclude(folder__contains="://")
                .values_list("pk", "stored_path")[:batch_size]
            )
            if not batch:
                return files, size
            after = batch[-1][0]
            InboxFile.objects.filter(
                pk__in=[pk for pk, _path in batch], state__in=FINAL
            ).update(stored_path="")
        for pk, path in batch:
            removed = _stored_delete(pk, Path(path))
            files += bool(removed)
            size += removed or 0


def _entries_delete(
    *, cutoff: datetime.datetime, batch_size: int
) -> tuple[int, int, int]:
    entries = files = size = 0
    after = 0
    while True:
        with transaction.atomic():
            batch = list(
                _old_final(cutoff, after).values_list("pk", "stored_path")[:batch_size]
            )
            if not batch:
                return entries, files, size
            after = batch[-1][0]
            InboxFile.objects.filter(pk__in=[pk for pk, _path in batch]).delete()
        entries += len(batch)
        logger.info(
            "Retention: deleted ledger entries #%s-#%s finished before %s.",
            batch[0][0],
            after,
            cutoff.isoformat(timespec="seconds"),
        )
        for pk, path in batch:
            if path:
                removed = _stored_delete(pk, Path(path))
                files += bool(removed)
                size += removed or 0


def _stored_delete(file_id: int, path: Path) -> int | None:
    """Delete a stored file and its reason; return its size, None if not deleted.

    Only inside ``archive/`` or ``failed/``: a path elsewhere was never ours.
    """
    resolved = path.resolve()
    roots = (conf.archive_dir(), conf.failed_dir())
    if not any(root in resolved.parents for root in roots):
        logger.warning(
            "Retention: not deleting %s of file #%s: outside archive/ and failed/.",
            path,
            file_id,
        )
        return None
    try:
        size = path.lstat().st_size
        path.unlink()
    except FileNotFoundError:
        return None
    reason = storage.reason_path(path)
    reason.unlink(missing_ok=True)
    logger.info("Retention: deleted %s (file #%s, %s bytes).", path, file_id, size)
    return size


def retention_schedule_ensure() -> bool:
    """Create the daily "Apply retention" schedule once; return if it was new.

    Staff own it afterwards: a changed time or a disabled schedule stays so.
    """
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="3",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=timezone.get_default_timezone_name(),
    )
    _task, created = PeriodicTask.objects.get_or_create(
        name=RETENTION_TASK_NAME,
        defaults={
            "task": RETENTION_TASK,
            "crontab": crontab,
            "description": (
                "Delete archived files and ledger entries older than "
                "INGEST_ARCHIVE_KEEP_DAYS / INGEST_LEDGER_KEEP_DAYS (off by default)."
            ),
        },
    )
    return created
