"""Real worker, beat and scan processes for the chaos scenarios, and their env.

Each process runs in its own session (process group), so a scenario can kill
one process, its pool children, or the whole group as a host crash would.
The environment points the processes at the test database (or a private
server) and at the test's own inbox folders.
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
#: Seconds to wait for a worker or beat to come up on a busy machine.
START_TIMEOUT = 90


def database_url(name: str | None = None) -> str:
    """Return a URL for the database this test uses (the pytest-django one)."""
    db = settings.DATABASES["default"]
    auth = db.get("USER") or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{name or db['NAME']}"


def process_env(**overrides: Any) -> dict[str, str]:
    """Return the environment of a process sharing this test's world."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "myproject.settings",
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "INGEST_INBOX_DIR": settings.INGEST_INBOX_DIR,
        "INGEST_ARCHIVE_DIR": settings.INGEST_ARCHIVE_DIR,
        "INGEST_FAILED_DIR": settings.INGEST_FAILED_DIR,
        "INGEST_LOCK_DIR": settings.INGEST_LOCK_DIR,
        "INGEST_MIN_FILE_AGE": str(settings.INGEST_MIN_FILE_AGE),
        "INGEST_REDISPATCH_AFTER": str(settings.INGEST_REDISPATCH_AFTER),
        "INGEST_NOTIFY_EMAILS": ",".join(settings.INGEST_NOTIFY_EMAILS),
        "INGEST_PROGRESS_INTERVAL": "0.2",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(Path(settings.INGEST_LOCK_DIR).parent / "mail"),
        "CELERY_BEAT_MAX_LOOP_INTERVAL": "1",
    }
    env.update({key: str(value) for key, value in overrides.items()})
    return env


class Process:
    """One command running in its own process group, logging to a file."""

    def __init__(self, name: str, command: list[str], env: dict, log: Path) -> None:
        self.name, self.command, self.env, self.log = name, command, env, log
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def children(self) -> list[int]:
        """Return the pids of this process's direct children (the pool)."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            return []

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal only the main process (its children are left orphaned)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def kill_group(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group: the main process and its pool."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def stop(self, timeout: float = 20) -> None:
        """Stop warmly (SIGTERM), then kill the group if it lingers."""
        if self.popen is None:
            return
        if self.alive():
            self.kill_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(10)


def wait_until(
    condition: Callable[[], Any],
    *,
    timeout: float,
    interval: float = 0.25,
    message: str | Callable[[], str] = "",
) -> Any:
    """Poll *condition* until it returns something truthy; fail after *timeout*."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"Timed out after {timeout} s: {text}")
        time.sleep(interval)


class Fleet:
    """The processes a scenario started; every one is stopped at teardown."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.processes: list[Process] = []

    def _start(self, name: str, command: list[str], env: dict) -> Process:
        log = self.folder / f"{name}-{len(self.processes)}.log"
        process = Process(name, command, env, log).start()
        self.processes.append(process)
        return process

    def worker(self, *, concurrency: int = 2, ready: bool = True, **env) -> Process:
        """Start a celery worker; wait until it consumes unless *ready* is False."""
        node = f"chaos-{uuid.uuid4().hex[:8]}@%h"
        process = self._start(
            "worker",
            [
                CELERY,
                "-A",
                "myproject",
                "worker",
                "-l",
                "INFO",
                "-P",
                "prefork",
                "-c",
                str(concurrency),
                "-n",
                node,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            process_env(**env),
        )
        if ready:
            wait_until(
                lambda: " ready." in process.output() or not process.alive(),
                timeout=START_TIMEOUT,
                message=lambda: f"worker did not start:\n{process.output()[-3000:]}",
            )
            assert process.alive(), process.output()[-3000:]
        return process

    def beat(self, **env) -> Process:
        """Start celery beat on the database schedule (no pidfile: two may run)."""
        return self._start(
            "beat",
            [
                CELERY,
                "-A",
                "myproject",
                "beat",
                "-l",
                "INFO",
                "-S",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--pidfile=",
            ],
            process_env(**env),
        )

    def manage(self, *args: str, timeout: float = 300, **env) -> str:
        """Run ``manage.py`` to completion and return its output."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=process_env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def logs(self) -> str:
        return "\n".join(
            f"===== {p.name} (pid {p.pid}) =====\n{p.output()[-4000:]}"
            for p in self.processes
        )


@contextlib.contextmanager
def scan_loop(interval: float = 1.0) -> Iterator[list[dict]]:
    """Scan the inbox in a background thread every *interval* s, as beat would.

    Yields the summaries so far. Errors are kept, not raised: a scan that
    fails is retried by the next one, as with the real schedule.
    """
    from ingest import services

    summaries: list[dict] = []
    stop = threading.Event()

    def run() -> None:
        try:
            while not stop.is_set():
                try:
                    summaries.append(services.inbox_scan())
                except Exception as exc:
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


def scan_schedule(*, every: int = 1, using: str = "default", kwargs: str = "{}"):
    """Create the periodic scan beat sends every *every* seconds; return it.

    A transactional test's flush removed the one the migration made.
    """
    import json

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
