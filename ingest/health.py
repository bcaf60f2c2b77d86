"""Readiness checks: database, broker, beat's scans and a worker's answer.

``/healthz`` says only that the web process runs (no I/O, for a liveness
probe); ``/readyz`` runs :func:`readiness` and answers 503 when a check
fails, so a load balancer or an orchestrator stops sending work to a stack
whose files would wait forever.

The scans' last run is django-celery-beat's ``PeriodicTask.last_run_at``:
beat writes it when it sends the task (``CELERY_BEAT_SYNC_EVERY=1`` makes
that every time, not every three minutes).
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from celery import current_app
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from . import conf

#: The task every inbox scan schedule runs.
SCAN_TASK = "ingest.tasks.scan_inbox"
#: A scan is late once its schedule's interval has passed this many times.
SCAN_LATE_FACTOR = 3
#: Seconds a worker has to answer the ping.
PING_TIMEOUT = 1.0
#: Seconds the broker has to accept a connection.
BROKER_TIMEOUT = 2.0


@dataclass(frozen=True)
class ScanSchedule:
    """An enabled scan schedule and when beat last sent it."""

    name: str
    inbox: str
    last_run_at: datetime.datetime | None
    #: Seconds between runs; None for crontab/solar/clocked schedules.
    interval: float | None


@dataclass
class Check:
    """The outcome of one readiness check."""

    ok: bool
    detail: str
    seconds: float = 0.0


def scan_schedules() -> list[ScanSchedule]:
    """Return the enabled scan schedules with their inbox and last run."""
    from django_celery_beat.models import PeriodicTask

    found = []
    tasks = PeriodicTask.objects.filter(task=SCAN_TASK, enabled=True).select_related(
        "interval"
    )
    for task in tasks.order_by("name"):
        try:
            kwargs = json.loads(task.kwargs or "{}")
        except ValueError:
            kwargs = {}
        inbox = kwargs.get("inbox") if isinstance(kwargs, dict) else None
        interval = None
        if task.interval is not None:
            interval = task.interval.schedule.run_every.total_seconds()
        found.append(
            ScanSchedule(
                name=task.name,
                inbox=str(Path(inbox).resolve()) if inbox else str(conf.inbox_dir()),
                last_run_at=task.last_run_at,
                interval=interval,
            )
        )
    return found


def database_check() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return Check(True, _("reachable"))


def broker_check() -> Check:
    app = current_app
    with app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as broker:
        broker.ensure_connection(
            max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT
        )
        return Check(True, _("reachable at %(url)s") % {"url": broker.as_uri()})


def beat_check() -> Check:
    """Pass when every enabled scan schedule was sent recently enough."""
    schedules = scan_schedules()
    if not schedules:
        return Check(False, _("no enabled scan schedule"))
    now = timezone.now()
    late = []
    for schedule in schedules:
        if schedule.interval is None:
            continue  # A crontab has no fixed interval to be late against.
        if schedule.last_run_at is None:
            late.append(_("%(name)s never ran") % {"name": schedule.name})
            continue
        age = (now - schedule.last_run_at).total_seconds()
        if age > SCAN_LATE_FACTOR * schedule.interval:
            late.append(
                _("%(name)s last ran %(age).0f s ago (every %(every).0f s)")
                % {"name": schedule.name, "age": age, "every": schedule.interval}
            )
    if late:
        return Check(False, "; ".join(late))
    return Check(
        True, _("%(count)d scan schedules on time") % {"count": len(schedules)}
    )


def worker_check() -> Check:
    replies = current_app.control.ping(timeout=PING_TIMEOUT, limit=1)
    if not replies:
        return Check(
            False,
            _("no worker answered a ping within %(timeout).0f s")
            % {"timeout": PING_TIMEOUT},
        )
    names = sorted(name for reply in replies for name in reply)
    return Check(True, _("%(names)s answered") % {"names": ", ".join(names)})


#: The checks of ``/readyz``, in the order they run.
CHECKS: dict[str, Callable[[], Check]] = {
    "database": database_check,
    "broker": broker_check,
    "beat": beat_check,
    "worker": worker_check,
}


def readiness() -> tuple[bool, dict]:
    """Run every check; return (all passed, the JSON answer).

    A check that raises fails with the exception as its detail; the others
    still run, so the answer names everything that is wrong at once.
    """
    results: dict[str, Check] = {}
    for name, check in CHECKS.items():
        if name == "worker" and not results["broker"].ok:
            # A ping through a dead broker only waits for its retries.
            results[name] = Check(False, _("not asked: the broker is unreachable"))
            continue
        started = time.monotonic()
        try:
            result = check()
        except Exception as exc:
            result = Check(False, f"{type(exc).__name__}: {exc}"[:500])
        result.seconds = round(time.monotonic() - started, 3)
        results[name] = result
    ready = all(result.ok for result in results.values())
    return ready, {
        "status": "ok" if ready else "fail",
        "checks": {name: asdict(result) for name, result in results.items()},
    }
