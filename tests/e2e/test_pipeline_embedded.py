"""The README's run command, ``bin/serve``, on the embedded default.

No services: SQLite and kombu's filesystem broker in a temporary
``INGEST_VAR_DIR``. The test runs ``bin/serve`` itself, the way a new user
does, drops ``catalogue/data/books.csv`` into the inbox, and reads the outcome from the
SQLite file, the folders and the file mailbox. It brings its own database,
so it takes no ``django_db`` mark.
"""

import json
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.request import urlopen

import psutil
import pytest
from django.contrib.auth.hashers import check_password

from tests.e2e.harness import Mailbox, Service, free_port, wait_until

pytestmark = [pytest.mark.embedded, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
BOOKS = ROOT / "catalogue" / "data" / "books.csv"
PASSWORD = "e2e-embedded-password"
#: bin/serve may install requirements first; then Django and Celery start.
START_DEADLINE = 240
DEADLINE = 90


@pytest.fixture
def serve(tmp_path, ingest_dirs, mail_dir, services_factory):
    """Run ``bin/serve`` on a fresh embedded installation; stop it after."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "CELERY_", "INGEST_", "EMAIL_"))
        and key not in {"DJANGO_SETTINGS_MODULE", "PORT"}
    }
    env.update(
        {
            "INGEST_VAR_DIR": str(tmp_path / "var"),
            **{name: str(path) for name, path in ingest_dirs.items()},
            "PORT": str(port),
            # Read by ingest_setup (which bin/serve runs) when it creates
            # "Scan inbox"; migrate alone creates no schedule.
            "INGEST_SCAN_INTERVAL": "2",
            "INGEST_MIN_FILE_AGE": "1",
            "DJANGO_SUPERUSER_USERNAME": "admin",
            "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
            "INGEST_NOTIFY_EMAILS": "ops@example.com",
            "PYTHONUNBUFFERED": "1",
        }
    )
    process = services_factory(env).start("bin-serve", ["bin/serve"])
    return Serve(process, port, tmp_path / "var" / "db.sqlite3")


@dataclass
class Serve:
    """A running ``bin/serve``, where its web server listens, its database."""

    process: Service
    port: int
    database: Path


def query(database: Path, sql: str, *params) -> list[tuple]:
    """Read the service's SQLite database (WAL: readers never block it)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        return db.execute(sql, params).fetchall()


def test_bin_serve_runs_the_whole_pipeline_on_the_embedded_default(
    serve, ingest_dirs, mailbox: Mailbox
):
    """``bin/serve`` sets up a fresh installation and runs web, worker, beat
    and the watcher: a dropped books.csv is imported, archived and emailed,
    the admin answers, and SIGTERM stops every process it started."""
    inbox, archive = ingest_dirs["INGEST_INBOX_DIR"], ingest_dirs["INGEST_ARCHIVE_DIR"]
    process = serve.process
    process.wait_for_log("Drop CSV files into:", START_DEADLINE)
    assert f"Drop CSV files into:  {inbox}" in process.log()
    assert f"http://127.0.0.1:{serve.port}/admin/" in process.log()
    process.wait_for_log("Scheduler: Sending due task Scan inbox", DEADLINE)
    assert query(
        serve.database,
        "SELECT s.every, s.period, t.enabled FROM django_celery_beat_periodictask t"
        " JOIN django_celery_beat_intervalschedule s ON s.id = t.interval_id"
        " WHERE t.name = 'Scan inbox'",
    ) == [(2, "seconds", 1)]

    (inbox / "books.csv").write_bytes(BOOKS.read_bytes())

    def ledger() -> list[tuple]:
        rows = query(
            serve.database,
            "SELECT id, state, rows_total, rows_imported, rows_updated,"
            " rows_rejected, stored_path, task_id, notify_state FROM ingest_inboxfile",
        )
        return rows if rows and rows[0][8] == "sent" else []

    def served() -> list[tuple]:
        if not process.alive():
            raise AssertionError(f"bin/serve exited; log: {process.log_path}")
        return ledger()

    ((file_id, state, total, imported, updated, rejected, stored, task_id, _),) = (
        wait_until(served, DEADLINE, 0.5, message="books.csv imported and emailed")
    )
    assert (state, total, imported, updated, rejected) == ("done", 3, 3, 0, 0)
    assert sorted(
        query(
            serve.database,
            "SELECT b.title, a.name, b.published_year FROM ingest_book b"
            " JOIN ingest_author a ON a.id = b.author_id",
        )
    ) == [
        ("Захар Беркут", "Іван Франко", 1883),
        ("Кобзар", "Тарас Шевченко", 1840),
        ("Лісова пісня", "Леся Українка", 1911),
    ]
    stored = Path(stored)
    assert re.fullmatch(
        rf"{re.escape(str(archive))}/\d{{4}}/\d{{2}}/\d{{2}}/{file_id}-books\.csv",
        str(stored),
    )
    assert stored.read_bytes() == BOOKS.read_bytes()
    assert [p for p in inbox.rglob("*") if p.is_file()] == []
    ((status, result),) = query(
        serve.database,
        "SELECT status, result FROM django_celery_results_taskresult WHERE task_id = ?",
        task_id,
    )
    assert status == "SUCCESS"
    assert json.loads(result)["imported"] == 3

    (message,) = mailbox.messages()
    assert mailbox.subject(message).startswith(
        "Import finished: books.csv — 3 imported, 0 updated, 0 rejected rows, "
    )
    assert message["To"] == "ops@example.com"

    with urlopen(f"http://127.0.0.1:{serve.port}/admin/login/", timeout=10) as page:
        assert page.status == 200
        assert b"Django administration" in page.read()
    ((encoded, superuser),) = query(
        serve.database,
        "SELECT password, is_superuser FROM auth_user WHERE username = 'admin'",
    )
    assert superuser and check_password(PASSWORD, encoded)

    children = process.descendants()
    commands = [" ".join(child.cmdline()) for child in children]
    for expected in ("runserver", "worker", "beat", "ingest_watch"):
        assert any(expected in command for command in commands), commands
    started = time.monotonic()
    process.terminate()  # SIGTERM, as systemd or Ctrl-C would send.
    stopped = process.stop(grace=60)
    assert stopped.returncode == 0, process.log()[-3000:]
    assert stopped.leftovers == []
    assert time.monotonic() - started < 60
    assert not [child for child in children if child.is_running()]


def test_bin_serve_stops_everything_when_one_process_dies(serve):
    """If beat dies, ``bin/serve`` stops the web server and the worker too and
    exits non-zero, so a supervisor sees the failure and restarts it all."""
    process = serve.process
    process.wait_for_log("Drop CSV files into:", START_DEADLINE)
    process.wait_for_log(" ready.", DEADLINE)  # The worker.
    children = process.descendants()
    (beat,) = [c for c in children if "beat" in " ".join(c.cmdline())]
    beat.kill()

    wait_until(
        lambda: not process.alive(), 60, 0.2, message="bin/serve to stop by itself"
    )
    assert process.popen.returncode not in (0, None)
    assert "beat exited" in process.log()
    _, alive = psutil.wait_procs(children, timeout=5)
    assert alive == []
