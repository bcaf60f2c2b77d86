"""``manage.py ingest_watch`` with real workers, on both setups.

Each test runs against PostgreSQL + Redis (the test database) and against
the embedded default (a set-up SQLite file and the filesystem broker in
the test's own folder). The watcher takes a file on its close or rename-in;
beat's scan stays the safety net; racing each other they import every file
once.
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection

from tests.e2e.harness import ROOT, Services, process_env, scan_schedule_set, wait_until

pytestmark = pytest.mark.e2e

#: Seconds any single outcome may take on a busy two-core machine.
DEADLINE = 90
HEADER = "title,author,year\n"
END_STATES = {"failed", "duplicate"}


@dataclass
class Stack:
    """Processes on one setup, its inbox, and SQL on the database they share."""

    services: Services
    inbox: Path
    query: Callable[..., list[tuple]]
    scan_on: Callable[[], None]

    def ledger(self) -> dict[str, list[tuple]]:
        """Return (state, rows_total, rows_imported) per file name."""
        found: dict[str, list[tuple]] = {}
        for name, *fields in self.query(
            "SELECT name, state, rows_total, rows_imported FROM ingest_inboxfile"
        ):
            found.setdefault(name, []).append(tuple(fields))
        return found

    def done(self, *names: str) -> bool:
        """Return whether every file of *names* is done; fail on another end."""
        ledger = self.ledger()
        for name in names:
            ends = {state for state, *_ in ledger.get(name, [])} & END_STATES
            assert not ends, f"{name} ended {ends}: {ledger[name]}"
        return all(
            [state for state, *_ in ledger.get(name, [])] == ["done"] for name in names
        )


def rows_csv(tag: str, count: int) -> str:
    return HEADER + "".join(
        f"Book {tag} {n},Author {tag},{1900 + n}\n" for n in range(count)
    )


def drop(inbox: Path, name: str, text: str) -> float:
    """Drop a file atomically (hidden name, then a rename); return the time."""
    hidden = inbox / f".{name}.part"
    hidden.write_text(text, encoding="utf-8")
    os.rename(hidden, inbox / name)
    return time.monotonic()


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory) -> Path:
    """Return a set-up SQLite database ("Scan inbox" every second) to copy.

    Made by ``ingest_setup``, as an installation is: ``migrate`` alone
    creates no schedule.
    """
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "db.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CELERY_")},
        "DATABASE_URL": f"sqlite:///{path}",
        "INGEST_VAR_DIR": str(folder / "var"),
        **{
            f"INGEST_{name}_DIR": str(folder / name.lower())
            for name in ("INBOX", "ARCHIVE", "FAILED")
        },
        "INGEST_SCAN_INTERVAL": "1",
        "DJANGO_SUPERUSER_PASSWORD": "e2e-watcher-password",
    }
    subprocess.run(
        [sys.executable, "manage.py", "ingest_setup"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    return path


@pytest.fixture
def postgres_stack(services, ingest_dirs) -> Stack:
    def query(sql: str, *params) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    # Enabled (so watched); scanned only where a test starts beat.
    scan_schedule_set(every=60)
    return Stack(
        services,
        ingest_dirs["INGEST_INBOX_DIR"],
        query,
        lambda: scan_schedule_set(every=1),
    )


@pytest.fixture
def embedded_stack(
    sqlite_template, tmp_path, ingest_dirs, mail_dir, services_factory
) -> Stack:
    database = tmp_path / "db.sqlite3"
    shutil.copyfile(sqlite_template, database)

    def query(sql: str, *params) -> list[tuple]:
        with sqlite3.connect(database, timeout=30) as db:
            return db.execute(sql, params).fetchall()

    def scan_on() -> None:
        query("UPDATE django_celery_beat_periodictask SET enabled = 1")

    query("UPDATE django_celery_beat_periodictask SET enabled = 0")
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    env = process_env(
        database={"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)},
        broker_url="filesystem://localhost/",
        folders=ingest_dirs,
        var_dir=var_dir,
        mail_dir=mail_dir,
    )
    return Stack(services_factory(env), ingest_dirs["INGEST_INBOX_DIR"], query, scan_on)


@pytest.fixture(
    params=[
        pytest.param(
            "postgres",
            marks=[
                pytest.mark.postgres,
                pytest.mark.django_db(transaction=True, databases="__all__"),
            ],
        ),
        pytest.param("embedded", marks=pytest.mark.embedded),
    ]
)
def stack(request) -> Stack:
    return request.getfixturevalue(f"{request.param}_stack")


def test_a_file_written_in_chunks_is_imported_once_complete_after_its_close(stack):
    """Ten writes over two seconds on one open file: nothing is taken until the
    writer closes it; then it is imported whole, once (the scan's minimum
    age is an hour here, so only the watcher can take it)."""
    stack.services.worker(INGEST_MIN_FILE_AGE="3600")
    stack.services.watcher(INGEST_MIN_FILE_AGE="3600")
    text = rows_csv("chunked", 20)
    lines = text.splitlines(keepends=True)
    path = stack.inbox / "books-chunked.csv"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(lines[0])
        for chunk in range(10):
            handle.writelines(lines[1 + chunk * 2 : 3 + chunk * 2])
            handle.flush()
            time.sleep(0.2)
            assert stack.ledger() == {}, f"taken while open, after chunk {chunk}"
            assert path.exists()
    wait_until(
        lambda: stack.done("books-chunked.csv"),
        DEADLINE,
        message="books-chunked.csv done",
        services=stack.services,
    )
    assert stack.ledger() == {"books-chunked.csv": [("done", 20, 20)]}


def test_a_file_renamed_into_the_inbox_is_done_within_seconds(stack):
    stack.services.worker(INGEST_MIN_FILE_AGE="3600")
    stack.services.watcher()
    dropped = drop(stack.inbox, "books-renamed.csv", rows_csv("renamed", 20))
    wait_until(
        lambda: stack.done("books-renamed.csv"),
        DEADLINE,
        0.05,
        message="books-renamed.csv done",
        services=stack.services,
    )
    # The target is 2 s (ingest_bench --latency measures it); generous here.
    assert time.monotonic() - dropped < 10
    assert stack.ledger() == {"books-renamed.csv": [("done", 20, 20)]}


def test_with_the_watcher_killed_beat_still_imports_the_next_file(stack):
    stack.scan_on()
    stack.services.worker()
    stack.services.beat()
    watcher = stack.services.watcher()
    drop(stack.inbox, "books-first.csv", rows_csv("first", 3))
    wait_until(lambda: stack.done("books-first.csv"), DEADLINE, services=stack.services)
    watcher.expect_exit = True
    os.killpg(watcher.pid, signal.SIGKILL)
    watcher.popen.wait(10)

    drop(stack.inbox, "books-second.csv", rows_csv("second", 3))
    wait_until(
        lambda: stack.done("books-second.csv"), DEADLINE, services=stack.services
    )
    assert stack.ledger() == {
        "books-first.csv": [("done", 3, 3)],
        "books-second.csv": [("done", 3, 3)],
    }


def test_two_watchers_and_a_scan_every_second_import_100_files_once_each(stack):
    """All three take files by the same service; with no minimum age the scan
    competes for every file (renamed in, so none is ever half-written)."""
    stack.scan_on()
    stack.services.worker(INGEST_MIN_FILE_AGE="0")
    stack.services.beat()
    stack.services.watcher(name="watcher-1")
    stack.services.watcher(name="watcher-2")
    names = [f"books-race-{n:03d}.csv" for n in range(100)]
    for number, name in enumerate(names):
        drop(stack.inbox, name, rows_csv(str(number), 2))
        if number % 10 == 9:
            time.sleep(0.1)

    def settled() -> bool:
        ledger = stack.ledger()
        states = [state for rows in ledger.values() for state, *_ in rows]
        return len(ledger) == 100 and set(states) == {"done"}

    wait_until(settled, DEADLINE * 2, 0.5, services=stack.services)
    assert stack.ledger() == {name: [("done", 2, 2)] for name in names}
    leftovers = [p.name for p in stack.inbox.rglob("*") if p.is_file()]
    assert leftovers == []
