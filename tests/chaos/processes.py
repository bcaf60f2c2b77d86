"""What the chaos scenarios do to real processes, on the end-to-end harness.

Workers and beats are started by :mod:`tests.e2e.harness` (each in its own
session, logging to a file, stopped in teardown); this module adds the
violence (kill a pool child, the main process, or the whole process group
as a host crash would), ``manage.py`` runs against the same environment, an
in-process scan loop and a one-second scan schedule.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import psutil
from django.db import connection
from django.utils import timezone

from tests.e2e.harness import ROOT, Service, Services, wait_until

__all__ = [
    "Fleet",
    "kill_group",
    "kill_main",
    "pool_children",
    "scan_loop",
    "scan_schedule",
    "wait_until",
]


class Fleet(Services):
    """The harness's process group, plus ``manage.py`` in the same world."""

    def manage(self, *args: str, timeout: float = 300, **env: str) -> str:
        """Run ``manage.py`` to completion and return its output."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout


def pool_children(service: Service) -> list[int]:
    """Return the pids of a worker's pool processes (its direct children)."""
    try:
        return [child.pid for child in psutil.Process(service.pid).children()]
    except psutil.NoSuchProcess:
        return []


def kill_main(service: Service) -> None:
    """SIGKILL the main process alone: its pool children are orphaned."""
    service.expect_exit = True
    with contextlib.suppress(ProcessLookupError):
        os.kill(service.pid, signal.SIGKILL)


def kill_group(service: Service) -> None:
    """SIGKILL the whole process group at once, as a host crash would."""
    service.expect_exit = True
    with contextlib.suppress(ProcessLookupError):
        os.killpg(service.pid, signal.SIGKILL)


@contextlib.contextmanager
def scan_loop(interval: float = 1.0) -> Iterator[list[dict]]:
    """Scan the inbox in a background thread every *interval* s, as beat would.

    Yields the summaries so far. A scan that raises is recorded as
    ``{"error": ...}`` and the loop goes on, as the real schedule would;
    on leaving the block the first error is raised, so a scan that fails
    fails the scenario instead of vanishing in the thread.
    """
    from ingest import services

    summaries: list[dict] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def run() -> None:
        try:
            while not stop.is_set():
                try:
                    summaries.append(services.inbox_scan())
                except Exception as exc:
                    errors.append(exc)
                    summaries.append({"error": repr(exc)})
                stop.wait(interval)
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="chaos-scan-loop", daemon=True)
    thread.start()
    try:
        yield summaries
    finally:
        stop.set()
        thread.join(60)
    assert not thread.is_alive(), "the scan loop did not stop within 60 s"
    if errors:
        raise AssertionError(
            f"{len(errors)} of {len(summaries)} scans raised; the first: {errors[0]!r}"
        ) from errors[0]


def scan_schedule(*, every: int = 1, using: str = "default", kwargs: str = "{}"):
    """Create the periodic scan beat sends every *every* seconds; return it.

    The test database has none: ``migrate`` creates no schedule.
    """
    from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

    interval, _ = IntervalSchedule.objects.using(using).get_or_create(
        every=every, period=IntervalSchedule.SECONDS
    )
    task, _ = PeriodicTask.objects.using(using).update_or_create(
        name="Scan inbox",
        defaults={
            "task": "ingest.tasks.scan_inbox",
            "interval": interval,
            "kwargs": kwargs,
            "expire_seconds": 60,
            "enabled": True,
        },
    )
    PeriodicTasks.objects.using(using).update_or_create(
        ident=1, defaults={"last_update": timezone.now()}
    )
    assert json.loads(task.kwargs) == json.loads(kwargs)
    return task
