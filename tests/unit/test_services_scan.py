"""Scanning registers each stable file once and repairs what crashes left."""

import datetime
import os
from pathlib import Path

import pytest
from django.utils import timezone

from ingest import scanner, services
from ingest.models import Inbox, InboxFile
from ingest.services import scan
from tests.factories import drop, hold_lock_elsewhere, journals_csv

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State


def test_a_stable_file_is_registered_moved_and_published_once(published):
    drop("journals.csv", journals_csv(("A", "Alpha", 2000)))
    first = services.inbox_scan()
    second = services.inbox_scan()
    row = InboxFile.objects.get()
    assert first["queued"] == 1 and "queued" not in second
    assert row.state == State.QUEUED
    assert row.processing_path.exists()
    assert not Path(row.inbox_path).exists()
    imports = [c for c in published if c["task"] == "ingest.tasks.import_file"]
    assert imports == [
        {"task": "ingest.tasks.import_file", "args": (row.pk,), "task_id": row.task_id}
    ]
    assert InboxFile.objects.get().dispatched_at is not None


def test_a_young_file_waits_until_it_is_old_enough(settings, published):
    settings.INGEST_MIN_FILE_AGE = 30
    drop("journals.csv", journals_csv(("A", "Alpha", 2000)), age=1)
    assert services.inbox_scan()["waiting"] == 1
    assert InboxFile.objects.get().state == State.DISCOVERED
    assert published == []


def test_a_file_that_changed_since_the_last_scan_waits(published):
    path = drop("journals.csv", journals_csv(("A", "Alpha", 2000)))
    InboxFile.objects.create(  # What an earlier scan saw: a shorter file.
        name="journals.csv",
        folder=str(path.parent),
        inbox_path=str(path),
        size=1,
        mtime=1.0,
    )
    assert services.inbox_scan()["changing"] == 1
    assert InboxFile.objects.get().state == State.DISCOVERED
    assert services.inbox_scan()["queued"] == 1
    assert InboxFile.objects.count() == 1


def test_hidden_and_temporary_files_get_no_ledger_row(published):
    drop(".journals.csv", "x")
    drop("journals.csv.part", "x")
    drop("journals.csv~", "x")
    assert services.inbox_scan()["seen"] == 0
    assert not InboxFile.objects.exists()


def test_a_symlink_is_refused_recorded_and_moved_aside(ingest_dirs, published):
    link = Path(ingest_dirs["INGEST_INBOX_DIR"]) / "evil.csv"
    os.symlink("/etc/passwd", link)
    assert services.inbox_scan()["refused"] == 1
    row = InboxFile.objects.get()
    assert row.state == State.FAILED and "symbolic link" in row.error
    assert not os.path.lexists(link)
    assert os.path.islink(row.stored_path)
    assert Path(row.stored_path + ".error.txt").exists()
    assert services.inbox_scan()["seen"] == 0


def test_a_scan_that_died_after_moving_the_file_is_finished_by_the_next(published):
    path = drop("journals.csv", journals_csv(("A", "Alpha", 2000)))
    row = InboxFile.objects.create(
        name="journals.csv",
        folder=str(path.parent),
        inbox_path=str(path),
        size=path.stat().st_size,
        mtime=path.stat().st_mtime,
    )
    row.processing_path.parent.mkdir(parents=True, exist_ok=True)
    os.rename(path, row.processing_path)  # …and then the scanner was killed.
    assert services.inbox_scan()["recovered"] == 1
    assert InboxFile.objects.get().state == State.QUEUED


def test_a_lost_message_is_published_again_after_the_redispatch_delay(
    settings, published
):
    settings.INGEST_REDISPATCH_AFTER = 60
    drop("journals.csv", journals_csv(("A", "Alpha", 2000)))
    services.inbox_scan()
    assert services.inbox_scan().get("redispatched") is None
    long_ago = timezone.now() - datetime.timedelta(minutes=5)
    InboxFile.objects.update(dispatched_at=long_ago)
    assert services.inbox_scan()["redispatched"] == 1
    row = InboxFile.objects.get()
    imports = [c for c in published if c["task"] == "ingest.tasks.import_file"]
    assert [c["task_id"] for c in imports] == [row.task_id, row.task_id]


def test_an_import_whose_worker_died_is_resumed_but_a_live_one_is_not(published):
    drop("journals.csv", journals_csv(("A", "Alpha", 2000)))
    services.inbox_scan()
    InboxFile.objects.update(state=State.IMPORTING, attempts=1)
    file_id = InboxFile.objects.get().pk
    with hold_lock_elsewhere(file_id):
        assert "resumed" not in services.inbox_scan()
        assert InboxFile.objects.get().state == State.IMPORTING
    assert services.inbox_scan()["resumed"] == 1
    assert InboxFile.objects.get().state == State.QUEUED
    imports = [c for c in published if c["task"] == "ingest.tasks.import_file"]
    assert len(imports) == 2


def test_a_scan_outside_the_allowed_roots_is_refused(tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="INGEST_ALLOWED_ROOTS"):
        services.inbox_scan(inbox=Inbox(name="etc", folder="/etc"))


def test_another_allowed_inbox_is_scanned(settings, tmp_path, published):
    other = tmp_path / "partners"
    other.mkdir()
    settings.INGEST_ALLOWED_ROOTS = [str(tmp_path)]
    drop("journals.csv", journals_csv(("A", "Alpha", 2000)), inbox=other)
    inbox = services.inbox_save(inbox=Inbox(name="partners", folder=str(other)))
    assert services.inbox_scan(inbox=inbox)["queued"] == 1
    row = InboxFile.objects.get()
    assert (row.folder, row.inbox) == (str(other), inbox)


def test_a_file_deleted_before_it_was_taken_is_recorded(settings, published):
    settings.INGEST_MIN_FILE_AGE = 30
    path = drop("journals.csv", journals_csv(("A", "Alpha", 2000)), age=1)
    services.inbox_scan()
    path.unlink()
    assert services.inbox_scan()["vanished"] == 1
    row = InboxFile.objects.get()
    assert row.state == State.FAILED and "disappeared" in row.error


def test_mtime_is_recorded_and_compared_exactly(settings, published):
    """The ledger keeps the file's own mtime; a change of 1 ms is a change."""
    settings.INGEST_MIN_FILE_AGE = 3600
    path = drop("journals.csv", journals_csv(("A", "Alpha", 2000)), age=100)
    mtime = os.stat(path).st_mtime
    assert mtime != int(mtime)  # A fraction of a second to lose.
    summary = services.inbox_scan()
    assert summary.get("waiting") == 1, summary
    assert InboxFile.objects.get().mtime == mtime
    later = os.stat(path).st_mtime_ns + 1_000_000
    os.utime(path, ns=(later, later))
    summary = services.inbox_scan()
    assert summary.get("changing") == 1, summary
    assert InboxFile.objects.get().mtime == os.stat(path).st_mtime
    settings.INGEST_MIN_FILE_AGE = 0
    summary = services.inbox_scan()
    assert summary.get("queued") == 1, summary
    assert not path.exists()


def test_a_scan_whose_listing_predates_another_scans_move_adds_no_row(published):
    """A stale sighting (listed before another scan took the file) is forgotten."""
    path = drop("journals.csv", journals_csv(("A", "Alpha", 2000)))
    listed = next(scanner.inbox_list(path.parent))
    assert services.inbox_scan()["queued"] == 1
    # The slow scan registers what it listed after the fast one queued it.
    inbox = services.inbox_default()
    registered = scan.found_register(
        found=listed, inbox=inbox, root=path.parent, min_age=0
    )
    assert registered == "raced"
    assert InboxFile.objects.count() == 1
    stale = InboxFile.objects.create(
        name="journals.csv",
        folder=str(path.parent),
        inbox_path=str(path),
        size=listed.size,
        mtime=listed.mtime,
    )
    assert services.inbox_scan()["forgotten"] == 1
    assert not InboxFile.objects.filter(pk=stale.pk).exists()
    assert InboxFile.objects.get().state == State.QUEUED
