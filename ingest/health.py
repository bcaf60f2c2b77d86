"""Readiness checks: database, broker, beat's scans and a worker's answer.

``/healthz`` says only that the web process runs (no I/O, for a liveness
probe); ``/readyz`` runs :func:`readiness` and answers 503 when a check
fails, so a load balancer or an orchestrator stops sending work to a stack
whose files would wait forever.

A scan's last run is ``Inbox.last_scanned_at``, which every finished scan
sets (django-celery-beat's ``PeriodicTask.last_run_at`` says when beat sent
it, and reaches the database only every three minutes).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from celery import current_app
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

#: A scan is late once its schedule's interval has passed this many times.
SCAN_LATE_FACTOR = 3
#: Seconds a worker has to answer the ping.
PING_TIMEOUT = 1.0
#: Seconds the broker has to accept a connection.
BROKER_TIMEOUT = 2.0


@dataclass(frozen=True)
class InboxScan:
    """An enabled inbox, when its last scan finished, and how often it runs."""

    name: str
    folder: str
    last_scanned_at: datetime.datetime | None
    #: Seconds between scans; None for a crontab or no schedule.
    interval: float | None


@dataclass
class Check:
    """The outcome of one readiness check."""

    ok: bool
    detail: str
    seconds: float = 0.0


def inbox_scans() -> list[InboxScan]:
    """Return every enabled inbox with its last scan and its interval."""
    from .models import Inbox

    found = []
    inboxes = Inbox.objects.filter(enabled=True).select_related(
        "periodic_task__interval"
    )
    for inbox in inboxes.order_by("name"):
        task = inbox.periodic_task
        interval = None
        if task is not None and task.enabled and task.interval is not None:
            interval = task.interval.schedule.run_every.total_seconds()
        found.append(
            InboxScan(
                name=inbox.name,
                folder=inbox.folder if inbox.is_remote else str(inbox.path),
                last_scanned_at=inbox.last_scanned_at,
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
    # The probe is public: it names no host, user or worker.
    return Check(True, _("reachable"))


def beat_check() -> Check:
    """Pass when every scheduled inbox was scanned recently enough."""
    inboxes = inbox_scans()
    timed = [inbox for inbox in inboxes if inbox.interval is not None]
    if not inboxes:
        return Check(False, _("no enabled inbox"))
    now = timezone.now()
    late = []
    for inbox in timed:
        if inbox.last_scanned_at is None:
            late.append(_("%(name)s was never scanned") % {"name": inbox.name})
            continue
        age = (now - inbox.last_scanned_at).total_seconds()
        if age > SCAN_LATE_FACTOR * inbox.interval:
            late.append(
                _("%(name)s last scanned %(age).0f s ago (every %(every).0f s)")
                % {"name": inbox.name, "age": age, "every": inbox.interval}
            )
    if late:
        return Check(False, "; ".join(late))
    # A crontab has no fixed interval to be late against.
    return Check(
        True,
        ngettext(
            "%(count)d scheduled inbox scanned on time",
            "%(count)d scheduled inboxes scanned on time",
            len(timed),
        )
        % {"count": len(timed)},
    )


def worker_check() -> Check:
    replies = current_app.control.ping(timeout=PING_TIMEOUT, limit=1)
    if not replies:
        return Check(
            False,
            _("no worker answered a ping within %(timeout).0f s")
            % {"timeout": PING_TIMEOUT},
        )
    # limit=1: the first answer is enough, no need to wait out the second.
    return Check(True, _("a worker answered"))


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
