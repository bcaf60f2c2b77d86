"""Small helpers to drop files the way users do."""

import contextlib
import fcntl
import os
import time
from pathlib import Path

from django.conf import settings

BOOKS_HEADER = "title,author,year\n"


def drop(
    name: str, content: str | bytes, *, age: float = 60, inbox: Path | None = None
):
    """Write a file into the inbox as if it had been there for *age* seconds."""
    folder = inbox or Path(settings.INGEST_INBOX_DIR)
    path = folder / name
    data = content.encode() if isinstance(content, str) else content
    path.write_bytes(data)
    past = time.time() - age
    os.utime(path, (past, past))
    return path


def books_csv(*rows: tuple[str, str, object]) -> str:
    return BOOKS_HEADER + "".join(f"{t},{a},{y}\n" for t, a, y in rows)


@contextlib.contextmanager
def hold_lock_elsewhere(file_id: int):
    """Hold a file's import lock as a live importer in another process would."""
    from django.db import connection

    from ingest import conf, locks

    if connection.vendor == "postgresql":
        import psycopg

        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with psycopg.connect(**params, autocommit=True) as other:
            other.execute(
                "SELECT pg_advisory_lock(%s, %s)", [locks.ADVISORY_NAMESPACE, file_id]
            )
            yield
    else:
        folder = conf.lock_dir()
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / f"{file_id}.lock", os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def ledger_row(name: str, state: str = "done", **fields):
    """Create a ledger entry directly, for tests of what shows it."""
    from ingest.models import InboxFile

    defaults = {
        "folder": "/srv/inbox",
        "inbox_path": f"/srv/inbox/{name}",
        "task_id": f"task-{name}",
        "rows_total": 3,
        "rows_imported": 3,
    }
    return InboxFile.objects.create(name=name, state=state, **{**defaults, **fields})


def default_inbox(*, every: int | None = 10, crontab: str = "", enabled: bool = True):
    """Return the default inbox scheduled every *every* seconds (or *crontab*).

    Made through the service staff use, so its PeriodicTask is the real one;
    a transactional test's flush removed what the migrations made.
    """
    from ingest import services

    inbox = services.inbox_default()
    inbox.enabled = enabled
    schedule = services.Schedule(every=None if crontab else every, crontab=crontab)
    return services.inbox_save(inbox=inbox, schedule=schedule)
