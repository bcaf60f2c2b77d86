"""The watcher takes a file on its close or rename-in, never while it is open.

The tests run a real watchdog observer (inotify, or polling) on the test's
inbox and drive the watcher's loop in the test's own thread, where the test
database lives; the broker is faked by ``published``.
"""

import os
import queue
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError
from watchdog.events import (
    FileClosedEvent,
    FileClosedNoWriteEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileOpenedEvent,
)

from ingest import selectors, services, watcher
from ingest.models import Inbox, InboxFile
from ingest.services import scan
from tests.factories import journals_csv

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State
JOURNALS = journals_csv(("A", "Alpha", 2000), ("C", "Gamma", 2001))


@pytest.fixture
def inbox(ingest_dirs) -> Path:
    return ingest_dirs["INGEST_INBOX_DIR"].resolve()


@pytest.fixture
def watching(settings):
    """Start watchers on the test's inboxes; stop them afterwards."""
    started = []

    def make(**options) -> watcher.Watcher:
        options.setdefault("refresh_every", 3600)
        made = watcher.Watcher(**options)
        made.refresh()
        made.start()
        started.append(made)
        return made

    yield make
    for made in started:
        made.stop()


def pump_until(made: watcher.Watcher, predicate, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        made.pump(0.05)


def pump_for(made: watcher.Watcher, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        made.pump(0.05)


def test_a_file_open_for_writing_is_taken_only_after_its_close(
    settings, inbox, watching, published
):
    """Writes, opens and read-only closes prove nothing; the close does."""
    settings.INGEST_MIN_FILE_AGE = 3600  # The scan's rule would never take it.
    made = watching(polling=False)
    path = inbox / "journals.csv"
    with open(path, "w", encoding="utf-8") as handle:
        for line in JOURNALS.splitlines(keepends=True):
            handle.write(line)
            handle.flush()
            path.read_bytes()  # An open and a close without a write.
            pump_for(made, 0.2)
        assert not InboxFile.objects.exists()
        assert path.exists()
    pump_until(made, lambda: InboxFile.objects.filter(state=State.QUEUED).exists())
    row = InboxFile.objects.get()
    assert row.size == len(JOURNALS) and row.processing_path.read_text() == JOURNALS
    assert [c["args"] for c in published] == [(row.pk,)]


def test_a_file_renamed_into_the_inbox_is_taken_at_once(
    settings, inbox, tmp_path, watching, published
):
    settings.INGEST_MIN_FILE_AGE = 3600
    made = watching(polling=False)
    hidden = inbox / ".journals.csv.part"
    hidden.write_text(JOURNALS)  # A hidden name is never a candidate.
    outside = tmp_path / "elsewhere.csv"
    outside.write_text(journals_csv(("E", "Epsilon", 2002)))
    hidden.rename(inbox / "journals.csv")
    outside.rename(inbox / "other.csv")  # From a folder nobody watches.
    pump_until(made, lambda: InboxFile.objects.filter(state=State.QUEUED).count() == 2)
    assert sorted(InboxFile.objects.values_list("name", flat=True)) == [
        "journals.csv",
        "other.csv",
    ]


def test_only_close_after_write_and_moves_in_make_sightings(inbox):
    """The handler ignores opens, read-only closes, creations and writes."""
    sink = queue.Queue()
    handler = watcher.InboxEventHandler(
        selectors.WatchedInbox(inbox=Inbox(name="default"), folder=inbox),
        sink,
        polling=False,
    )
    csv, other = str(inbox / "a.csv"), str(inbox / "b.csv.part")
    for event in (
        FileOpenedEvent(csv),
        FileClosedNoWriteEvent(csv),
        FileCreatedEvent(csv),
        FileModifiedEvent(csv),
        FileClosedEvent(other),
        FileClosedEvent(str(inbox / ".hidden.csv")),
        FileClosedEvent(str(inbox / "sub" / "a.csv")),
        FileMovedEvent(csv, ""),  # Moved out, into .processing.
    ):
        handler.dispatch(event)
    assert sink.empty()
    handler.dispatch(FileClosedEvent(csv))
    handler.dispatch(FileMovedEvent("", csv))
    # Another kind of file is sighted too: registering it refuses it.
    handler.dispatch(FileClosedEvent(str(inbox / "report.pdf")))
    assert [(s.path.name, s.write_finished) for s in sink.queue] == [
        ("a.csv", True),
        ("a.csv", True),
        ("report.pdf", True),
    ]


def test_the_polling_observer_leaves_a_young_file_to_the_minimum_age(
    settings, inbox, watching, published
):
    """Polling sees no close: a new file waits for the minimum age as in a scan."""
    settings.INGEST_MIN_FILE_AGE = 1.5
    made = watching(polling=True)
    assert made.polling
    started = time.monotonic()
    (inbox / "journals.csv").write_text(JOURNALS)
    pump_until(made, lambda: InboxFile.objects.exists())
    assert InboxFile.objects.get().state == State.DISCOVERED
    pump_until(made, lambda: InboxFile.objects.filter(state=State.QUEUED).exists())
    assert time.monotonic() - started >= 1.5


def test_a_database_outage_delays_a_sighting_and_loses_none(
    settings, inbox, watching, published, monkeypatch
):
    settings.INGEST_MIN_FILE_AGE = 3600
    monkeypatch.setattr(watcher, "RETRY_FIRST", 0.05)
    real = scan.found_register_many
    failures = []

    def flaky(**kwargs):
        if len(failures) < 3:
            failures.extend(found.name for found in kwargs["found"])
            raise OperationalError("the database is restarting")
        return real(**kwargs)

    monkeypatch.setattr(scan, "found_register_many", flaky)
    made = watching(polling=False)
    (inbox / "journals.csv").write_text(JOURNALS)
    pump_until(made, lambda: InboxFile.objects.filter(state=State.QUEUED).exists())
    assert failures == ["journals.csv"] * 3
    assert made.outcomes == {"retrying": 3, "queued": 1}


def test_files_a_scan_took_first_are_not_registered_again_by_two_watchers(
    settings, inbox, watching, published
):
    settings.INGEST_MIN_FILE_AGE = 0
    made, twin = watching(polling=False), watching(polling=False)
    for n in range(20):
        (inbox / f"journals-{n}.csv").write_text(journals_csv((f"T{n}", "Tau", 2000)))
        services.inbox_scan()
    pump_for(made, 0.5)
    pump_for(twin, 0.5)
    services.inbox_scan()
    assert InboxFile.objects.count() == 20
    assert InboxFile.objects.filter(state=State.QUEUED).count() == 20
    assert len(published) == 20
    assert made.outcomes.get("queued", 0) + twin.outcomes.get("queued", 0) <= 20


def test_inboxes_added_changed_and_disabled_are_picked_up_on_refresh(
    settings, inbox, tmp_path, watching
):
    other = tmp_path / "other"
    other.mkdir()
    settings.INGEST_ALLOWED_ROOTS = [str(tmp_path)]
    made = watching(polling=False)
    assert set(made.watches) == {inbox}
    added = Inbox.objects.create(name="ERP", folder=str(other))
    made.refresh()
    assert set(made.watches) == {inbox, other.resolve()}
    added.importer = "publishers"
    added.save()
    made.refresh()
    assert made.watches[other.resolve()][0].importer == "publishers"
    added.enabled = False
    added.save()
    made.refresh()
    assert set(made.watches) == {inbox}


def test_the_inbox_list_is_every_enabled_inbox_a_scan_would_accept(
    settings, inbox, tmp_path
):
    settings.INGEST_ALLOWED_ROOTS = [str(tmp_path / "allowed")]
    allowed = tmp_path / "allowed" / "erp"
    default = services.inbox_default()
    erp = Inbox.objects.create(name="ERP", folder=str(allowed), importer="publishers")
    Inbox.objects.create(name="Outside", folder=str(tmp_path / "forbidden"))
    Inbox.objects.create(
        name="Unknown", folder=str(tmp_path / "allowed" / "x"), importer="nonsense"
    )
    Inbox.objects.create(
        name="Old", folder=str(tmp_path / "allowed" / "old"), enabled=False
    )
    watched = selectors.inboxes_watched()
    assert [(w.key, w.folder, w.importer) for w in watched] == [
        (default.pk, inbox, ""),
        (erp.pk, allowed.resolve(), "publishers"),
    ]


def test_a_finished_write_is_taken_though_an_earlier_scan_saw_it_smaller(
    settings, inbox, published
):
    """The scan holds a changing file back; the watcher's proof of a close wins."""
    path = inbox / "journals.csv"
    path.write_text(JOURNALS)
    InboxFile.objects.create(
        name="journals.csv", folder=str(inbox), inbox_path=str(path), size=1, mtime=1.0
    )
    found = watcher.scanner.file_found(path)
    default = services.inbox_default()
    assert (
        scan.found_register(found=found, inbox=default, root=inbox, min_age=3600)
        == "changing"
    )
    assert (
        scan.found_register(found=found, inbox=default, root=inbox, min_age=None)
        == "queued"
    )
    assert InboxFile.objects.get().state == State.QUEUED


def test_with_ingest_watch_off_the_command_idles_until_sigterm(tmp_path):
    """Off means no watching, yet no exit a supervisor would restart."""
    env = {
        **os.environ,
        "INGEST_WATCH": "0",
        "INGEST_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    }
    env.pop("CELERY_BROKER_URL", None)
    log = tmp_path / "watch.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "ingest_watch"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while "INGEST_WATCH is off" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no word from ingest_watch"
            time.sleep(0.1)
        time.sleep(1)
        assert process.poll() is None, log.read_text()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        process.kill()
    output = log.read_text()
    assert process.returncode == 0, output
    assert "INGEST_WATCH is off" in output
    assert "Watching" not in output
