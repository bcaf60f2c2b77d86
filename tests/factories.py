"""Small helpers to drop files the way users do."""

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings

BOOKS_HEADER = "title,author,year\n"
JOURNALS_HEADER = "issn,title,year\n"


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
    """Return a catalogue books file of (title, author, year) rows."""
    return BOOKS_HEADER + "".join(f"{t},{a},{y}\n" for t, a, y in rows)


def journals_csv(*rows: tuple[str, str, object]) -> str:
    """Return a test-only journals file of (issn, title, year) rows."""
    return JOURNALS_HEADER + "".join(f"{i},{t},{y}\n" for i, t, y in rows)


def issn(number: int) -> str:
    """Return a distinct ISSN-shaped key for *number* (below 10**8)."""
    return f"{number // 10_000:04d}-{number % 10_000:04d}"


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

    Made through the service staff use, so its PeriodicTask is the real one
    (``migrate`` creates none; ``ingest_setup`` would, through the same
    service).
    """
    from ingest import services

    inbox = services.inbox_default()
    inbox.enabled = enabled
    schedule = services.Schedule(every=None if crontab else every, crontab=crontab)
    return services.inbox_save(inbox=inbox, schedule=schedule)


@contextlib.contextmanager
def row_versions(model) -> Iterator[Callable[[], object]]:
    """Yield a function whose value changes whenever a row of *model* is written.

    PostgreSQL: the table's ``xmin`` values, the transactions that wrote each
    row version; any UPDATE (even to equal values), or a DELETE and INSERT,
    makes a new version with a new ``xmin``. SQLite keeps no row versions,
    so triggers count every row inserted, updated or deleted into a side
    table while the block runs.
    """
    from django.db import connection

    table, key = model._meta.db_table, model._meta.pk.column
    if connection.vendor == "postgresql":

        def xmins() -> object:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT xmin::text FROM {table} ORDER BY {key}")
                return [xmin for (xmin,) in cursor.fetchall()]

        yield xmins
        return
    counter, events = f"test_writes_{table}", ("insert", "update", "delete")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {counter} (n INTEGER NOT NULL)")
        cursor.execute(f"INSERT INTO {counter} (n) VALUES (0)")
        for event in events:
            cursor.execute(
                f"CREATE TRIGGER {counter}_{event} AFTER {event.upper()} ON {table}"
                f" BEGIN UPDATE {counter} SET n = n + 1; END"
            )

    def writes() -> object:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT n FROM {counter}")
            return cursor.fetchone()[0]

    try:
        yield writes
    finally:
        with connection.cursor() as cursor:
            for event in events:
                cursor.execute(f"DROP TRIGGER IF EXISTS {counter}_{event}")
            cursor.execute(f"DROP TABLE IF EXISTS {counter}")
