"""Queue files and ring the doorbell: the only code that publishes messages.

A message is published after the ledger change that needs it has committed;
if the broker is down the ledger still says QUEUED and a later scan
resends it.
"""

import contextlib
import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence

from celery import current_app
from django.db import transaction
from django.db.models import Case, CharField, Value, When
from django.utils import timezone

from .. import notify
from ..models import InboxFile, RowRejection

logger = logging.getLogger(__name__)

State = InboxFile.State
FINAL = InboxFile.FINAL_STATES
#: The tasks published here, by name: services never import the task module
#: (it imports them), and a worker finds each by the same name.
IMPORT_TASK = "ingest.tasks.import_file"
NOTIFY_TASK = "ingest.tasks.notify_file"
SCAN_TASK = "ingest.tasks.scan_inbox"
WEBHOOK_TASK = "ingest.tasks.webhook_file"
PREVIEW_TASK = "ingest.tasks.preview_file"


def _task(name: str):
    """Return the registered task *name* (eager mode and test doubles apply)."""
    return current_app.tasks[name]


def file_queue(
    file_id: int,
    *,
    from_states: Iterable[str],
    where: dict | None = None,
    **changes,
) -> bool:
    """Move a file to QUEUED with a fresh task id and publish it after commit.

    *where* adds conditions the row must still meet (a confirmed preview's
    version and content hash).
    """
    task_id = str(uuid.uuid4())
    moved = InboxFile.objects.filter(
        pk=file_id, state__in=list(from_states), **(where or {})
    ).update(
        state=State.QUEUED,
        task_id=task_id,
        queued_at=timezone.now(),
        dispatched_at=None,
        **changes,
    )
    if moved:
        transaction.on_commit(lambda: import_publish(file_id, task_id))
    return bool(moved)


def files_queue(file_ids: Sequence[int], *, from_states: Iterable[str]) -> set[int]:
    """Move files to QUEUED in one UPDATE, each with a fresh task id.

    Returns the ids this call queued: a row no longer in *from_states* (a
    concurrent scan queued it first) is left alone, and only its winner
    publishes. The messages go out together once the change has committed
    (:func:`imports_publish`).
    """
    task_ids = {file_id: str(uuid.uuid4()) for file_id in file_ids}
    if not task_ids:
        return set()
    moved = InboxFile.objects.filter(
        pk__in=list(task_ids), state__in=list(from_states)
    ).update(
        state=State.QUEUED,
        task_id=Case(
            *(When(pk=file_id, then=Value(tid)) for file_id, tid in task_ids.items()),
            output_field=CharField(),
        ),
        queued_at=timezone.now(),
        dispatched_at=None,
    )
    if moved < len(task_ids):
        # Some rows were another caller's: ours are those with our task ids.
        ours = (
            set(
                InboxFile.objects.filter(
                    task_id__in=list(task_ids.values())
                ).values_list("pk", flat=True)
            )
            if moved
            else set()
        )
        task_ids = {pk: tid for pk, tid in task_ids.items() if pk in ours}
    if task_ids:
        queued = list(task_ids.items())
        transaction.on_commit(lambda: imports_publish(queued))
    return set(task_ids)


@contextlib.contextmanager
def _producer() -> Iterator[object | None]:
    """Yield one producer whose publishes go out together, where the broker can.

    kombu's ``Producer.batch`` sends Redis publishes as one pipeline when the
    batch ends; other transports publish at once, all on this one
    connection. Eager runs (tests, debugging) need no broker at all.
    """
    app = current_app
    if app.conf.task_always_eager:
        yield None
        return
    with app.producer_or_acquire() as producer, producer.batch():
        yield producer


def imports_publish(files: Sequence[tuple[int, str]]) -> None:
    """Ring the doorbells of several files in one broker round trip, where possible.

    *files* are ``(file id, task id)`` pairs. The published get their
    ``dispatched_at`` in one UPDATE; if the broker fails, none does (on
    Redis a failed pipeline's delivery is uncertain) and the scan's
    redispatch sends them again, which the ledger makes harmless.
    """
    task = _task(IMPORT_TASK)
    try:
        with _producer() as producer:
            for file_id, task_id in files:
                task.apply_async(args=(file_id,), task_id=task_id, producer=producer)
    except Exception:
        logger.warning(
            "Could not publish the imports of %d files; the next scan retries.",
            len(files),
            exc_info=True,
        )
        return
    InboxFile.objects.filter(
        task_id__in=[task_id for _file_id, task_id in files], state=State.QUEUED
    ).update(dispatched_at=timezone.now())


def import_publish(file_id: int, task_id: str, *, countdown: float = 0) -> None:
    """Ring the doorbell for one file; a broker failure waits for the next scan.

    *countdown* delays the import (a twin of the file is importing now).
    """
    options = {"countdown": countdown} if countdown else {}
    try:
        _task(IMPORT_TASK).apply_async(args=(file_id,), task_id=task_id, **options)
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


def preview_queue(file_id: int, *, from_states: Iterable[str], **changes) -> bool:
    """Move a file to PREVIEW, pending, and publish its preview after commit.

    A fresh task id is the preview's version: a computation started for an
    older one records nothing (the dataset or inbox changed meanwhile).
    """
    task_id = str(uuid.uuid4())
    moved = InboxFile.objects.filter(pk=file_id, state__in=list(from_states)).update(
        state=State.PREVIEW,
        task_id=task_id,
        preview={"status": "pending"},
        queued_at=timezone.now(),
        dispatched_at=None,
        **changes,
    )
    if moved:
        transaction.on_commit(lambda: preview_publish(file_id, task_id))
    return bool(moved)


def preview_publish(file_id: int, task_id: str) -> None:
    """Ring the doorbell for one preview; a lost one is resent by a scan."""
    try:
        _task(PREVIEW_TASK).apply_async(args=(file_id,), task_id=task_id)
    except Exception:
        logger.warning(
            "Could not publish the preview of file #%s; the next scan retries.",
            file_id,
            exc_info=True,
        )
        return
    InboxFile.objects.filter(pk=file_id, state=State.PREVIEW, task_id=task_id).update(
        dispatched_at=timezone.now()
    )


def scan_publish(inbox_id: int) -> bool:
    """Ask a worker to scan one inbox now; False if the broker is unreachable.

    Nothing is lost when it is: the inbox's schedule scans it anyway.
    """
    try:
        _task(SCAN_TASK).apply_async(kwargs={"inbox_id": inbox_id}, expires=60)
    except Exception:
        logger.warning(
            "Could not publish a scan of inbox #%s.", inbox_id, exc_info=True
        )
        return False
    return True


def notify_publish(row: InboxFile) -> None:
    """Queue the email about finished *row*, once the outcome has committed.

    With nobody to tell, record that at once instead: a task whose only
    work is writing "no recipients" costs every small file a broker round
    trip and a worker slot.
    """
    file_id = row.pk
    webhook_publish(row)
    if not notify.file_recipients(row):
        transaction.on_commit(lambda: notify.file_notify(file_id=file_id))
        return

    transaction.on_commit(lambda: _publish(NOTIFY_TASK, file_id, "email"))


def webhook_publish(row: InboxFile) -> bool:
    """Queue the webhook of finished *row* once per outcome, after commit.

    Only for an inbox with a webhook URL, and only the first time for this
    outcome (``webhook_state`` blank; a re-import blanks it again), so the
    scan's re-sending of lost emails does not POST twice.
    """
    inbox = row.inbox if row.inbox_id else None
    if inbox is None or not inbox.webhook_url:
        return False
    if not InboxFile.objects.filter(pk=row.pk, webhook_state="").update(
        webhook_state=InboxFile.Notify.PENDING, webhook_error=""
    ):
        return False
    file_id = row.pk
    transaction.on_commit(lambda: _publish(WEBHOOK_TASK, file_id, "webhook"))
    return True


def webhook_republish(file_id: int) -> None:
    """Ring again for a webhook whose message was lost (the scan's repair)."""
    _publish(WEBHOOK_TASK, file_id, "webhook")


def _publish(task: str, file_id: int, what: str) -> None:
    """Publish *task* for one file; a broker failure is logged, not raised.

    The ledger still says pending, so the next scan's repair publishes again.
    """
    try:
        _task(task).apply_async(args=(file_id,))
    except Exception:
        logger.warning(
            "Could not publish the %s of file #%s.", what, file_id, exc_info=True
        )


def files_requeue(*, files: Iterable[InboxFile], importer: str = "") -> int:
    """Queue finished files for another import; return how many were queued.

    *importer* is the dataset a person chose for them ("" keeps each
    file's routing as it was: a person's earlier choice, else the inbox,
    else the header). Side effects: ledger rows reset to QUEUED, import
    messages published. The file is fetched back from archive/failed by
    the import itself.
    """
    chosen = {"importer_requested": importer} if importer else {}
    count = 0
    for row in files:
        with transaction.atomic():
            queued = _requeue(row.pk, chosen)
            if queued:
                # The last run's rejected rows: the import relies on their
                # being gone (it only looks after an attempt that died).
                RowRejection.objects.filter(file_id=row.pk).delete()
        count += queued
    return count


def _requeue(file_id: int, chosen: dict) -> bool:
    """Reset one finished file to QUEUED as if new; publish after commit."""
    return file_queue(
        file_id,
        from_states=FINAL,
        **chosen,
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
        webhook_state="",
        webhook_error="",
        # A re-import reads the file as it is now, previewed or not.
        preview={},
    )
