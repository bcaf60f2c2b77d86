"""Inboxes and their scan schedules, kept in step with django-celery-beat.

An :class:`~ingest.models.Inbox` owns exactly one ``PeriodicTask`` calling
``ingest.tasks.scan_inbox(inbox_id=…)``. It is created, changed, disabled
and deleted together with the inbox, in the caller's transaction; saving a
``PeriodicTask`` bumps django-celery-beat's change marker, so a running
beat (``DatabaseScheduler``) follows within ``CELERY_BEAT_MAX_LOOP_INTERVAL``
seconds, without a restart.
"""

import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from .. import conf
from ..models import Inbox
from .dispatch import scan_publish

logger = logging.getLogger(__name__)

#: The task every inbox schedule calls.
SCAN_TASK = "ingest.tasks.scan_inbox"
#: Name of the default inbox, created by ``ingest_setup`` or on first use.
DEFAULT_INBOX_NAME = "default"
#: A scan that waited longer than this behind busy workers is useless: a
#: newer one is already on its way.
SCAN_EXPIRES = 60


@dataclass(frozen=True)
class Schedule:
    """An inbox's scan schedule: every *every* seconds, or a crontab line."""

    every: int | None = None
    crontab: str = ""

    def __str__(self) -> str:
        """Return the schedule in the active language (``every 10 s``)."""
        if self.crontab:
            return _("crontab %(line)s") % {"line": self.crontab}
        if self.every:
            return _("every %(seconds)s s") % {"seconds": self.every}
        return _("none")


def importer_column_names() -> set[str]:
    """Return every column name of every dataset: what an alias may point at."""
    from ..importers.registry import importer_classes

    return {column.name for cls in importer_classes() for column in cls.columns}


def inbox_default() -> Inbox:
    """Return the default inbox (``INGEST_INBOX_DIR``), creating it if needed."""
    inbox = Inbox.objects.filter(folder="").first()
    if inbox is not None:
        return inbox
    name = DEFAULT_INBOX_NAME
    if Inbox.objects.filter(name=name).exists():
        name = f"{DEFAULT_INBOX_NAME} ({conf.inbox_dir().name})"
    try:
        with transaction.atomic():
            return Inbox.objects.create(name=name, folder="")
    except IntegrityError:
        # Created concurrently: the unique folder made sure there is one.
        return Inbox.objects.get(folder="")


def inboxes_enabled() -> list[Inbox]:
    """Return every enabled inbox, the default one included (created if new)."""
    inbox_default()
    return list(Inbox.objects.filter(enabled=True))


def inbox_get(*, inbox_id: int) -> Inbox | None:
    """Return the inbox with *inbox_id*, or None if it was deleted."""
    return Inbox.objects.filter(pk=inbox_id).first()


def inbox_folder_clean(folder: str) -> str:
    """Return *folder* as stored ("" = the default inbox), or raise ValidationError.

    A folder must be absolute and, once symbolic links are resolved, lie
    under one of ``INGEST_ALLOWED_ROOTS``: a scan moves and reads every
    file in it, so staff cannot point it at ``/etc``. ``..`` is refused
    outright rather than resolved.
    """
    folder = folder.strip()
    if not folder:
        return ""
    if "://" in folder:
        return _remote_folder_clean(folder)
    raw = Path(folder)
    if not raw.is_absolute():
        raise ValidationError(
            _("%(folder)s is not an absolute path.") % {"folder": repr(folder)},
            code="relative",
        )
    if ".." in raw.parts:
        raise ValidationError(
            _("%(folder)s contains '..'; give the folder's real path.")
            % {"folder": repr(folder)},
            code="dotdot",
        )
    resolved = raw.resolve()
    if resolved == conf.inbox_dir():
        return ""
    roots = [Path(r).resolve() for r in conf.setting("INGEST_ALLOWED_ROOTS")]
    if not any(resolved == root or root in resolved.parents for root in roots):
        allowed = ", ".join(str(root) for root in roots) or _("none are set")
        if resolved != raw:
            message = _(
                "%(folder)s (it resolves to %(resolved)s) is outside "
                "INGEST_ALLOWED_ROOTS (%(allowed)s)."
            )
        else:
            message = _("%(folder)s is outside INGEST_ALLOWED_ROOTS (%(allowed)s).")
        raise ValidationError(
            message
            % {"folder": repr(folder), "resolved": resolved, "allowed": allowed},
            code="outside",
        )
    return str(resolved)


def _remote_folder_clean(folder: str) -> str:
    """Return a remote inbox URL normalised, or raise ValidationError.

    ``INGEST_ALLOWED_ROOTS`` bounds local paths only: a remote store is
    bounded by the credentials the inbox is given.
    """
    from ..stores import library_missing, location_parse

    try:
        location = location_parse(folder)
    except ValueError as exc:
        raise ValidationError(str(exc), code="remote") from None
    if missing := library_missing(location.scheme):
        raise ValidationError(missing, code="library")
    return location.url


def inbox_schedule(*, inbox: Inbox) -> Schedule:
    """Return the inbox's current schedule, read from its PeriodicTask."""
    task = inbox.periodic_task
    if task is None:
        return Schedule()
    if task.crontab_id:
        c = task.crontab
        fields = (c.minute, c.hour, c.day_of_month, c.month_of_year, c.day_of_week)
        return Schedule(crontab=" ".join(fields))
    if task.interval_id:
        every, period = task.interval.every, task.interval.period
        factor = {"days": 86400, "hours": 3600, "minutes": 60}.get(period, 1)
        return Schedule(every=every * factor)
    return Schedule()


def crontab_parse(line: str) -> tuple[str, str, str, str, str]:
    """Return the five fields of a crontab line, or raise ValidationError."""
    fields = line.split()
    if len(fields) != 5:
        raise ValidationError(
            _(
                "%(line)s is not a crontab line: give five fields, minute hour "
                "day-of-month month day-of-week (e.g. '*/5 * * * *')."
            )
            % {"line": repr(line)},
            code="crontab",
        )
    from celery.schedules import ParseException, crontab

    try:
        crontab(*fields)
    except (ParseException, ValueError) as exc:
        raise ValidationError(f"{line!r}: {exc}", code="crontab") from None
    return tuple(fields)  # type: ignore[return-value]


def inbox_save(*, inbox: Inbox, schedule: Schedule | None = None) -> Inbox:
    """Save *inbox* and its PeriodicTask together; return the inbox.

    *schedule* None keeps the current one (a new inbox gets
    ``INGEST_SCAN_INTERVAL``). Side effects: the inbox row, its
    PeriodicTask and schedule rows; beat notices through django-celery-
    beat's change marker. Safe to repeat.
    """
    with transaction.atomic():
        inbox.folder = inbox_folder_clean(inbox.folder)
        inbox.save()
        if schedule is None or not (schedule.every or schedule.crontab):
            current = inbox_schedule(inbox=inbox)
            schedule = current if (current.every or current.crontab) else None
        if schedule is None:
            schedule = Schedule(every=conf.scan_interval())
        _periodic_task_sync(inbox, schedule)
    return inbox


def _periodic_task_sync(inbox: Inbox, schedule: Schedule) -> PeriodicTask:
    if schedule.crontab:
        minute, hour, dom, month, dow = crontab_parse(schedule.crontab)
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_month=dom,
            month_of_year=month,
            day_of_week=dow,
            timezone=settings.TIME_ZONE,
        )
        timing = {"crontab": crontab, "interval": None}
    else:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=int(schedule.every), period=IntervalSchedule.SECONDS
        )
        timing = {"interval": interval, "crontab": None}
    task = inbox.periodic_task or PeriodicTask(
        name=_task_name(inbox), expire_seconds=SCAN_EXPIRES
    )
    task.task = SCAN_TASK
    task.kwargs = json.dumps({"inbox_id": inbox.pk})
    task.enabled = inbox.enabled
    where = inbox.folder if inbox.is_remote else inbox.path
    task.description = f"Scan inbox {inbox.name!r} ({where})."
    task.interval, task.crontab = timing["interval"], timing["crontab"]
    task.save()
    if inbox.periodic_task_id != task.pk:
        inbox.periodic_task = task
        inbox.save(update_fields=["periodic_task"])
    return task


#: The default inbox's PeriodicTask keeps the name it had before inboxes.
DEFAULT_TASK_NAME = "Scan inbox"


def _task_name(inbox: Inbox) -> str:
    name = DEFAULT_TASK_NAME if inbox.is_default else f"Scan inbox: {inbox.name}"
    if PeriodicTask.objects.filter(name=name).exists():
        name = f"{name} (#{inbox.pk})"
    return name[:200]


def inbox_delete(*, inbox: Inbox) -> None:
    """Delete *inbox* and its PeriodicTask; its ledger rows stay, unlinked."""
    with transaction.atomic():
        task = inbox.periodic_task
        inbox.delete()
        if task is not None:
            task.delete()


def inbox_scan_request(*, inbox: Inbox) -> bool:
    """Ask a worker to scan *inbox* now; False if the broker is unreachable."""
    return scan_publish(inbox.pk)


def inbox_legacy(*, folder: str | None, importer: str | None) -> Inbox:
    """Return the inbox a pre-Inbox schedule's kwargs mean (deprecated).

    ``{"inbox": "/path", "importer": "authors"}`` kwargs keep working for
    one release: the inbox with that folder, else an unsaved one whose
    dataset is *importer*.
    """
    warnings.warn(
        "scan_inbox(inbox=…, importer=…) is deprecated: create an Inbox in "
        "the admin and schedule scan_inbox(inbox_id=…).",
        DeprecationWarning,
        stacklevel=3,
    )
    logger.warning(
        "Deprecated scan_inbox kwargs inbox=%r importer=%r: create an Inbox in "
        "the admin instead.",
        folder,
        importer,
    )
    if not folder:
        inbox = inbox_default()
    else:
        stored = str(conf.resolve_inbox(folder))
        if Path(stored) == conf.inbox_dir():
            stored = ""
        inbox = Inbox.objects.filter(folder=stored).first() or Inbox(
            name=stored, folder=stored
        )
    if importer:
        inbox.importer = importer
    return inbox
