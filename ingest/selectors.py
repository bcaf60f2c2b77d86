"""Read queries shared by views, admin, commands and emails."""

import datetime
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_results.models import TaskResult

from . import conf
from .importers import importer_names
from .models import Inbox, InboxFile, RowRejection

logger = logging.getLogger(__name__)

#: States in which an import is still to come or under way.
ACTIVE_STATES = (
    InboxFile.State.DISCOVERED,
    InboxFile.State.QUEUED,
    InboxFile.State.IMPORTING,
)


def file_list(
    *, state: str = "", inbox: Inbox | None = None, limit: int | None = None
) -> QuerySet[InboxFile]:
    """Return ledger entries, newest first, optionally of one state or inbox."""
    files = InboxFile.objects.select_related("inbox")
    if state:
        files = files.filter(state=state)
    if inbox is not None:
        files = files.filter(inbox=inbox)
    return files[:limit] if limit else files


def file_by_task_id(*, task_id: str) -> InboxFile | None:
    """Return the ledger entry that issued *task_id*, or None if none did."""
    return InboxFile.objects.filter(task_id=task_id).order_by("-pk").first()


def task_result(*, task_id: str) -> TaskResult | None:
    return TaskResult.objects.filter(task_id=task_id).first()


def file_progress(*, row: InboxFile) -> dict | None:
    """Return the last progress report of a running import or preview, if any."""
    running = (InboxFile.State.IMPORTING, InboxFile.State.PREVIEW)
    if row.state not in running or not row.task_id:
        return None
    result = task_result(task_id=row.task_id)
    if result is None or result.status != "PROGRESS":
        return None
    try:
        meta = json.loads(result.result or "null")
    except ValueError:
        return None
    return meta if isinstance(meta, dict) else None


def file_recent(
    *, days: int, state: str = "", inbox: Inbox | None = None
) -> QuerySet[InboxFile]:
    """Return the files seen in the last *days* days, newest first."""
    since = timezone.now() - datetime.timedelta(days=days)
    files = InboxFile.objects.filter(discovered_at__gte=since).select_related("inbox")
    if state:
        files = files.filter(state=state)
    if inbox is not None:
        files = files.filter(inbox=inbox)
    return files.order_by("-discovered_at", "-pk")


def file_by_ids(*, ids: Iterable[int]) -> QuerySet[InboxFile]:
    """Return the ledger entries with these ids (what a dashboard is polling)."""
    return InboxFile.objects.filter(pk__in=list(ids))


#: Seconds within which a new ledger row is taken to have committed; rows
#: younger than this are sent again by every poll until they are older.
POLL_SETTLE_SECONDS = 30


def file_cursor() -> int:
    """Return the cursor of a list just rendered: see :func:`file_arrivals`."""
    cutoff = timezone.now() - datetime.timedelta(seconds=POLL_SETTLE_SECONDS)
    settled = (
        InboxFile.objects.filter(discovered_at__lte=cutoff)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return settled or 0


def file_arrivals(
    *, since: int, limit: int, state: str = "", inbox: Inbox | None = None
) -> tuple[list[InboxFile], int]:
    """Return ledger rows newer than cursor *since*, newest first, and the next.

    The cursor is a ledger id: every row the answer can lack has a larger
    id than it. An id is a cheap primary-key range scan however long the
    ledger, and, unlike a "last changed" timestamp, needs nothing from the
    writers: the ledger moves by conditional ``UPDATE`` statements that bypass
    ``auto_now``, and every one of them (here and in other apps' code)
    would have to remember to bump it. Ids are handed out in insert order
    but become visible in commit order, so a row may appear behind a
    larger id already answered; every writer's insert commits within
    moments (scans in autocommit, uploads in one short transaction), so
    the cursor stops short of rows younger than
    :data:`POLL_SETTLE_SECONDS`, and those are answered again until they
    have settled. State changes of rows already shown are not arrivals:
    the poller asks for those by id.
    """
    rows = InboxFile.objects.filter(pk__gt=since).select_related("inbox")
    if state:
        rows = rows.filter(state=state)
    if inbox is not None:
        rows = rows.filter(inbox=inbox)
    arrived = list(rows.order_by("-pk")[:limit])
    cutoff = timezone.now() - datetime.timedelta(seconds=POLL_SETTLE_SECONDS)
    unsettled = [row.pk for row in arrived if row.discovered_at > cutoff]
    if unsettled:
        cursor = max(since, min(unsettled) - 1)
    elif arrived:
        cursor = arrived[0].pk
    else:
        cursor = since
    return arrived, cursor


def file_rejections(*, row: InboxFile) -> QuerySet[RowRejection]:
    """Return the rejected rows of one file in file order."""
    return RowRejection.objects.filter(file=row).order_by("line", "pk")


@dataclass(frozen=True)
class ScanSchedule:
    """When beat scans one inbox next, as the database schedule says."""

    inbox: Inbox
    task: PeriodicTask | None
    next_run: datetime.datetime | None

    @property
    def enabled(self) -> bool:
        return self.inbox.enabled and self.task is not None and self.task.enabled

    @property
    def overdue(self) -> bool:
        return self.next_run is not None and self.next_run <= timezone.now()


def inbox_list() -> QuerySet[Inbox]:
    """Return every inbox with its schedule, by name."""
    return Inbox.objects.select_related(
        "periodic_task__interval",
        "periodic_task__crontab",
        "periodic_task__solar",
        "periodic_task__clocked",
    )


def scan_schedules() -> list[ScanSchedule]:
    """Return each inbox's schedule and next due time, by inbox name."""
    return [inbox_schedule_next(inbox=inbox) for inbox in inbox_list()]


def inbox_schedule_next(*, inbox: Inbox) -> ScanSchedule:
    """Return when *inbox* is scanned next.

    The next run is the schedule's own estimate from ``last_run_at``
    (interval: last run + interval; crontab: the next matching minute), so
    it is what beat will do, not a guess; a task never run is due now.
    """
    task = inbox.periodic_task
    if task is None or not task.enabled or task.scheduler is None:
        return ScanSchedule(inbox=inbox, task=task, next_run=None)
    now = timezone.now()
    last_run = task.last_run_at or task.start_time
    if last_run is None:
        return ScanSchedule(inbox=inbox, task=task, next_run=now)
    remaining = task.schedule.remaining_estimate(last_run)
    # To the second: the estimate reads the clock again a moment later.
    next_run = (now + remaining + datetime.timedelta(milliseconds=500)).replace(
        microsecond=0
    )
    return ScanSchedule(inbox=inbox, task=task, next_run=next_run)


@dataclass(frozen=True)
class WatchedInbox:
    """An enabled inbox as the watcher watches it: its row and resolved folder.

    Two values differ when anything the watcher uses changed (folder,
    dataset, minimum age), so a refresh re-watches an edited inbox.
    """

    inbox: Inbox
    folder: Path
    importer: str = ""
    min_file_age: float | None = None

    @property
    def key(self) -> int:
        return self.inbox.pk


def inboxes_watched() -> list[WatchedInbox]:
    """Return the enabled inboxes whose scan would run, one per folder.

    An inbox whose scan would refuse to run (a folder outside
    ``INGEST_ALLOWED_ROOTS``, an unknown dataset) is left out with a
    warning, as its scan fails.
    """
    watched: dict[Path, WatchedInbox] = {}
    for inbox in Inbox.objects.filter(enabled=True).order_by("pk"):
        if inbox.is_remote:
            # Nothing to watch on a bucket or a server: beat scans them.
            continue
        try:
            folder = conf.resolve_inbox(str(inbox.path))
        except ImproperlyConfigured as exc:
            logger.warning("Not watching inbox %r: %s", inbox.name, exc)
            continue
        if inbox.importer and inbox.importer not in importer_names():
            logger.warning(
                "Not watching inbox %r: unknown dataset %r.", inbox.name, inbox.importer
            )
            continue
        watched.setdefault(
            folder,
            WatchedInbox(
                inbox=inbox,
                folder=folder,
                importer=inbox.importer,
                min_file_age=inbox.min_file_age,
            ),
        )
    return list(watched.values())
