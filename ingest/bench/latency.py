"""Drop-to-done latency: one file at a time through the watcher and a worker."""

import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from .. import conf
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
from .small_files import drop_atomically, log_wait, wait_done
from .tables import folder_forget, tables_guard, tables_restore

#: How often the ledger is read while a file is on its way, in seconds.
POLL = 0.01


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile of *values* (share 0.95 = p95)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _wait_final(name: str, inbox: Path, deadline: float) -> str | None:
    """Poll the ledger until the file *name* is final; return its state."""
    rows = InboxFile.objects.filter(
        folder=str(inbox), name=name, state__in=InboxFile.FINAL_STATES
    )
    while time.monotonic() < deadline:
        state = rows.values_list("state", flat=True).first()
        if state:
            return state
        time.sleep(POLL)
    return None


def bench_latency(
    *,
    importer: str,
    files: int,
    seed: int,
    scan_every: float,
    keep: bool = False,
    force: bool = False,
    timeout: float = 60,
) -> dict:
    """Drop *files* 20-row files one after the other; report drop-to-done.

    Starts ``celery worker --concurrency 2``, ``celery beat`` and
    ``manage.py ingest_watch`` on this database and broker, with a private
    inbox that a benchmark-only periodic scan visits every *scan_every*
    seconds (the safety net, as deployed; removed afterwards) and the
    configured minimum file age. Each file is renamed into the inbox (the
    atomic-drop convention) once the previous one is final; its latency runs
    from the rename until the ledger shows it done, read every 10 ms.
    """
    dataset = importer_get(importer)
    marks = tables_guard(dataset, force=force)
    root = Path(tempfile.mkdtemp(prefix="ingest-bench-latency-"))
    folders = folders_make(root)
    inbox = folders["inbox"].resolve()
    task_name = f"ingest_bench scan {root.name}"
    bench_inbox_make(name=task_name, folder=inbox, scan_every=scan_every)
    env = child_env(
        folders, INGEST_ALLOWED_ROOTS=str(inbox), CELERY_TASK_ALWAYS_EAGER="0"
    )
    celery = [sys.executable, "-m", "celery", "-A", "myproject"]
    commands = [
        [*celery, "worker", "--concurrency", "2", "--loglevel", "WARNING"],
        [*celery, "beat", "--loglevel", "WARNING"],
        [sys.executable, "manage.py", "ingest_watch"],
    ]
    file_names = [f"{importer}-latency-{seed}-{n:05d}.csv" for n in range(files)]
    latencies: list[float] = []
    states: dict[str, int] = {}
    finished = False
    try:
        with background(commands, env, root):
            # Warm up: the watcher watches, the worker processes have started
            # and opened their connections before the clock runs.
            log_wait(root / "process-2.log", "ingest_watch ready", 120)
            warm = [f"{importer}-warmup-{seed}-{n}.csv" for n in range(2)]
            for number, name in enumerate(warm):
                drop_atomically(inbox, name, small_csv(dataset, number=-1 - number))
                if wait_done([name], inbox, time.monotonic() + 120) < 1:
                    raise RuntimeError(
                        f"No warm-up file was imported in 120 s; see the logs in "
                        f"{root}."
                    )
            load_before = machine_load()
            for number, name in enumerate(file_names):
                text = small_csv(dataset, number=number)
                started = time.monotonic()
                drop_atomically(inbox, name, text)
                state = _wait_final(name, inbox, started + timeout)
                states[state or "timeout"] = states.get(state or "timeout", 0) + 1
                if state is None:
                    break
                latencies.append(time.monotonic() - started)
            load_after = machine_load()
        finished = True
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        return {
            "mode": "latency",
            "files": files,
            "rows_per_file": SMALL_FILE_ROWS,
            "database": connection.vendor,
            "broker": settings.CELERY_BROKER_URL.split("://")[0],
            "worker_concurrency": 2,
            "watcher": "polling" if conf.watch_polling() else "inotify",
            "broker_polling_interval_s": options.get("polling_interval"),
            "min_file_age_s": conf.min_file_age(),
            "scan_every_s": scan_every,
            "states": states,
            "p50_s": round(statistics.median(latencies), 3) if latencies else None,
            "p95_s": round(percentile(latencies, 0.95), 3) if latencies else None,
            "max_s": round(max(latencies), 3) if latencies else None,
            "min_s": round(min(latencies), 3) if latencies else None,
            "load_before": load_before,
            "load_after": load_after,
            "cpus": os.cpu_count(),
            "kept": keep,
        }
    finally:
        bench_inbox_forget(name=task_name)
        if not keep:
            folder_forget(str(inbox))
            tables_restore(dataset, marks)
        if finished:  # Else its process logs are what the error points to.
            shutil.rmtree(root, ignore_errors=True)
