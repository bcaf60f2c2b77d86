"""Small files end to end: a real worker and beat, K files, files per second."""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from ..importers import importer_get
from ..models import InboxFile
from .data import SMALL_FILE_ROWS, small_csv
from .processes import (
    background,
    bench_inbox_forget,
    bench_inbox_make,
    child_env,
    folders_make,
    machine_load,
)
from .tables import folder_forget, tables_guard, tables_restore


def drop_atomically(inbox: Path, name: str, text: str) -> None:
    """Write a file the way careful tools do: a hidden name, then a rename."""
    hidden = inbox / f".{name}.part"
    hidden.write_text(text, encoding="utf-8")
    os.rename(hidden, inbox / name)


def wait_done(names: list[str], inbox: Path, deadline: float) -> int:
    """Poll the ledger until every file in *names* is final; return how many."""
    final = 0
    while time.monotonic() < deadline:
        final = InboxFile.objects.filter(
            folder=str(inbox), name__in=names, state__in=InboxFile.FINAL_STATES
        ).count()
        if final == len(names):
            break
        time.sleep(0.05)
    return final


def _wait_notified(inbox: Path, deadline: float) -> bool:
    """Poll until every file of *inbox* has had its notification handled.

    The clock stops when the imports are done, but each file's notify task
    is still queued behind them; stopping the worker then would leave those
    messages in the broker for the next worker to find.
    """
    waiting = InboxFile.objects.filter(
        folder=str(inbox),
        notify_state__in=[InboxFile.Notify.PENDING, InboxFile.Notify.SENDING],
    )
    while time.monotonic() < deadline:
        if not waiting.exists():
            return True
        time.sleep(0.1)
    return False


def log_wait(log: Path, text: str, timeout: float) -> None:
    """Wait until a background process's *log* says *text*."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{log} did not say {text!r} in {timeout:.0f} s.")


def bench_small_files(
    *,
    importer: str,
    files: int,
    seed: int,
    scan_every: float,
    keep: bool = False,
    force: bool = False,
    timeout: float = 600,
    email: bool = True,
    watch: bool = True,
) -> dict:
    """Drop *files* small files with a real worker and beat; report files/s.

    With *email* (the default, as in any real deployment) every file's
    outcome is mailed to one recipient through Django's file-based backend
    in the benchmark's folder; without it nobody is to be told. With
    *watch* (the default, as ``bin/serve`` runs) ``manage.py ingest_watch``
    registers the files as they arrive; without it the scans do.

    Starts ``celery worker --concurrency 2`` and ``celery beat`` itself, on
    this database and broker, with a private inbox that a benchmark-only
    periodic scan visits every *scan_every* seconds (removed afterwards).
    The clock runs from the first drop until the ledger has every file in a
    final state.
    """
    dataset = importer_get(importer)
    marks = tables_guard(dataset, force=force)
    root = Path(tempfile.mkdtemp(prefix="ingest-bench-small-"))
    folders = folders_make(root)
    inbox = folders["inbox"].resolve()
    task_name = f"ingest_bench scan {root.name}"
    bench_inbox_make(name=task_name, folder=inbox, scan_every=scan_every)
    env = child_env(
        folders,
        INGEST_MIN_FILE_AGE="0",
        INGEST_ALLOWED_ROOTS=str(inbox),
        CELERY_TASK_ALWAYS_EAGER="0",
        **(
            {
                "INGEST_NOTIFY_EMAILS": "bench@example.com",
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": str(root / "mail"),
            }
            if email
            else {}
        ),
    )
    celery = [sys.executable, "-m", "celery", "-A", "myproject"]
    commands = [
        [*celery, "worker", "--concurrency", "2", "--loglevel", "WARNING"],
        [*celery, "beat", "--loglevel", "WARNING", "-s", str(root / "beat-schedule")],
    ]
    if watch:
        commands.append([sys.executable, "manage.py", "ingest_watch"])
    file_names = [f"{importer}-small-{seed}-{n:05d}.csv" for n in range(files)]
    try:
        with background(commands, env, root):
            if watch:
                log_wait(root / "process-2.log", "ingest_watch ready", 120)
            # Warm up: both worker processes import Django and open their
            # connections before the clock starts.
            warm = [f"{importer}-warmup-{seed}-{n}.csv" for n in range(2)]
            for number, name in enumerate(warm):
                drop_atomically(inbox, name, small_csv(dataset, number=-1 - number))
            if wait_done(warm, inbox, time.monotonic() + 120) < len(warm):
                raise RuntimeError(
                    f"The worker and beat did not import a warm-up file in 120 s; "
                    f"see the logs in {root}."
                )
            load_before = machine_load()
            started_wall = timezone.now()
            started = time.monotonic()
            for number, name in enumerate(file_names):
                drop_atomically(inbox, name, small_csv(dataset, number=number))
            dropped = time.monotonic() - started
            done = wait_done(file_names, inbox, started + timeout)
            seconds = time.monotonic() - started
            drained = _wait_notified(inbox, time.monotonic() + timeout)
            notified_seconds = time.monotonic() - started
        rows = InboxFile.objects.filter(folder=str(inbox), name__in=file_names)
        states = dict.fromkeys(InboxFile.State.values, 0)
        for state in rows.values_list("state", flat=True):
            states[state] += 1
        latencies = sorted(
            (row.finished_at - started_wall).total_seconds()
            for row in rows
            if row.finished_at
        )
        imports = sorted(row.duration for row in rows if row.duration is not None)
        registered = sorted(row.discovered_at for row in rows)
        return {
            "mode": "small_files",
            "files": files,
            "rows_per_file": SMALL_FILE_ROWS,
            "database": connection.vendor,
            "broker": settings.CELERY_BROKER_URL.split("://")[0],
            "worker_concurrency": 2,
            "scan_every_s": scan_every,
            "email": email,
            "watcher": watch,
            "emails_sent": rows.filter(notify_state=InboxFile.Notify.SENT).count(),
            "emails_skipped": rows.filter(
                notify_state=InboxFile.Notify.SKIPPED
            ).count(),
            # What shapes the figure besides the code: how often an idle
            # worker looks at the filesystem broker (None: another broker),
            # how many messages a worker process reserves, how many tasks a
            # worker keeps its database connections for.
            "broker_polling_interval_s": settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(
                "polling_interval"
            ),
            "prefetch_multiplier": settings.CELERY_WORKER_PREFETCH_MULTIPLIER,
            "db_reuse_max": getattr(settings, "CELERY_DB_REUSE_MAX", None),
            "seconds": round(seconds, 2),
            "files_per_s": round(done / seconds, 1),
            "drop_seconds": round(dropped, 2),
            # Until every notify task ran too (not part of files_per_s).
            "all_notified_s": round(notified_seconds, 2) if drained else None,
            "done": states[InboxFile.State.DONE],
            "states": {k: v for k, v in states.items() if v},
            "last_finished_s": round(latencies[-1], 2) if latencies else None,
            # Where the time goes: one import's own wall time (claim to
            # done, in the service) and how long the scans took to register
            # every file.
            "import_median_s": round(imports[len(imports) // 2], 3)
            if imports
            else None,
            "register_span_s": round(
                (registered[-1] - registered[0]).total_seconds(), 2
            )
            if registered
            else None,
            "load_before": load_before,
            "load_after": machine_load(),
            "cpus": os.cpu_count(),
            "kept": keep,
        }
    finally:
        bench_inbox_forget(name=task_name)
        if not keep:
            folder_forget(str(inbox))
            tables_restore(dataset, marks)
        shutil.rmtree(root, ignore_errors=True)
