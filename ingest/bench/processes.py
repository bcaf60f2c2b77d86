"""The benchmark's other processes: the import child, a worker and beat."""

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection


def database_url() -> str:
    """Return a URL for the database this process uses (tests rename it)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db.get("USER") or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    host = f"{auth}@" if auth else ""
    host += f"{db.get('HOST') or ''}"
    if db.get("PORT"):
        host += f":{db['PORT']}"
    return f"postgres://{host}/{db['NAME']}"


def child_env(folders: dict[str, Path], **extra: str) -> dict[str, str]:
    """Return the environment of a child: this database, private folders."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get(
            "DJANGO_SETTINGS_MODULE", "myproject.settings"
        ),
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        # Finished-import emails stay in the child's memory.
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "INGEST_NOTIFY_EMAILS": "",
        "DJANGO_ADMINS": "",
        "PYTHONPATH": os.pathsep.join(
            [str(settings.BASE_DIR), os.environ.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep),
        **{f"INGEST_{name.upper()}_DIR": str(path) for name, path in folders.items()},
        **extra,
    }
    return env


def folders_make(root: Path) -> dict[str, Path]:
    folders = {name: root / name for name in ("inbox", "archive", "failed", "lock")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return folders


def import_in_child(
    paths: list[Path], folders: dict[str, Path], *, importer: str
) -> list[dict]:
    """Import *paths* as *importer* one after the other in a fresh process.

    Each report is the service's summary plus ``seconds`` (register + import,
    Python start-up excluded), the child's peak RSS right after it and
    ``rows_after``, the row count of the importer's first table then.
    """
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, importer, *map(str, paths)],
        env=child_env(folders, CELERY_TASK_ALWAYS_EAGER="1"),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = completed.stdout.strip().splitlines()
    if completed.returncode or not lines:
        raise RuntimeError(
            f"The import child failed ({completed.returncode}): "
            f"{completed.stderr.strip()[-2000:]}"
        )
    return json.loads(lines[-1])


#: What the child runs: Django first, since this package imports models.
_CHILD = (
    "import sys, django; django.setup(); "
    "from ingest.bench.processes import child_main; "
    "child_main(sys.argv[1], sys.argv[2:])"
)


def child_main(importer: str, paths: list[str]) -> None:
    """Run in the child: import each path through the services, print JSON."""
    import psutil

    from ingest import services
    from ingest.importers import importer_get

    target = importer_get(importer).models_written()[0]
    reports = []
    for name in paths:
        rss_before = psutil.Process().memory_info().rss
        started = time.monotonic()
        row = services.file_register_path(path=Path(name), importer=importer)
        summary = services.file_import(file_id=row.pk, task_id=row.task_id)
        seconds = time.monotonic() - started
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rows_after = target.objects.count()
        reports.append(
            {
                **summary,
                "seconds": seconds,
                "rss_before_mb": round(rss_before / 2**20, 1),
                "peak_rss_mb": round(peak_kb / 1024, 1),
                "rows_after": rows_after,
            }
        )
    print(json.dumps(reports))


def machine_load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


@contextlib.contextmanager
def background(commands: list[list[str]], env: dict, logs: Path) -> Iterator[None]:
    """Run *commands* in the background; stop them (TERM, then KILL) on exit."""
    running = []
    try:
        for number, command in enumerate(commands):
            log = open(logs / f"process-{number}.log", "wb")
            running.append(
                (
                    subprocess.Popen(
                        command,
                        env=env,
                        cwd=settings.BASE_DIR,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    ),
                    log,
                )
            )
        yield
    finally:
        for process, _log in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process, log in running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            log.close()


def bench_inbox_make(*, name: str, folder: Path, scan_every: float) -> None:
    """Create the benchmark's own inbox, scanned every *scan_every* seconds.

    Made directly, not through ``inbox_save``: the folder is allowed only in
    the children's environment (their ``INGEST_ALLOWED_ROOTS``).
    """
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from ..models import Inbox

    interval, _ = IntervalSchedule.objects.get_or_create(
        every=max(1, round(scan_every)), period=IntervalSchedule.SECONDS
    )
    inbox = Inbox.objects.create(name=name, folder=str(folder))
    inbox.periodic_task = PeriodicTask.objects.create(
        name=name,
        task="ingest.tasks.scan_inbox",
        interval=interval,
        kwargs=json.dumps({"inbox_id": inbox.pk}),
        expire_seconds=max(2, round(scan_every * 2)),
    )
    inbox.save(update_fields=["periodic_task"])


def bench_inbox_forget(*, name: str) -> None:
    """Delete the benchmark's inbox and its schedule."""
    from django_celery_beat.models import PeriodicTask

    from ..models import Inbox

    PeriodicTask.objects.filter(name=name).delete()
    Inbox.objects.filter(name=name).delete()
