"""Management commands: ingest_scan, ingest_status, ingest_setup, ingest_file."""

import io
import json
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from ingest import services
from ingest.models import Inbox, InboxFile
from tests.factories import drop, journals_csv
from tests.testapp.models import Journal, Publisher

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_ingest_scan_queues_new_files_and_prints_a_json_summary(published, settings):
    drop("journals.csv", journals_csv(("0028-0836", "Nature", 1869)))
    summary = json.loads(run("ingest_scan"))
    assert summary["inbox"] == "default"
    assert summary["folder"] == str(Path(settings.INGEST_INBOX_DIR).resolve())
    assert (summary["seen"], summary["queued"]) == (1, 1)
    row = InboxFile.objects.get()
    assert row.state == State.QUEUED
    assert [call["task_id"] for call in published] == [row.task_id]


def test_ingest_scan_refuses_an_inbox_outside_the_allowed_roots(tmp_path, published):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(CommandError, match="outside INGEST_ALLOWED_ROOTS"):
        run("ingest_scan", "--inbox", str(elsewhere))
    assert published == []


def test_ingest_scan_accepts_an_inbox_under_an_allowed_root(
    tmp_path, settings, published
):
    other = tmp_path / "partners" / "acme"
    other.mkdir(parents=True)
    settings.INGEST_ALLOWED_ROOTS = [str(tmp_path / "partners")]
    drop("acme.csv", journals_csv(("A", "Alpha", 2000)), inbox=other)
    summary = json.loads(run("ingest_scan", "--inbox", str(other)))
    assert (summary["folder"], summary["queued"]) == (str(other.resolve()), 1)
    assert InboxFile.objects.get().folder == str(other.resolve())


def test_ingest_status_shows_times_in_the_configured_time_zone(settings):
    settings.TIME_ZONE = "Europe/Kyiv"
    row = InboxFile.objects.create(
        name="journals.csv",
        folder="/in",
        inbox_path="/in/journals.csv",
        state=State.DONE,
    )
    local = timezone.localtime(row.discovered_at).strftime("%Y-%m-%d %H:%M:%S")
    assert run("ingest_status").splitlines()[1].endswith(local)


def test_ingest_status_prints_recent_files_as_a_table():
    InboxFile.objects.create(
        name="journals.csv",
        folder="/in",
        inbox_path="/in/journals.csv",
        state=State.DONE,
    )
    InboxFile.objects.create(
        name="broken.csv", folder="/in", inbox_path="/in/b.csv", state=State.FAILED
    )
    header, *lines = run("ingest_status").splitlines()
    assert header.split() == [
        "id",
        "state",
        "file",
        "imported",
        "updated",
        "rejected",
        "seconds",
        "seen",
    ]
    assert [line.split()[1:3] for line in lines] == [
        ["failed", "broken.csv"],
        ["done", "journals.csv"],
    ]
    only_failed = run("ingest_status", "--state", "failed").splitlines()[1:]
    assert [line.split()[2] for line in only_failed] == ["broken.csv"]


def test_ingest_setup_creates_the_admin_from_env_and_is_idempotent(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "chief")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-secret-9")
    first = run("ingest_setup")
    second = run("ingest_setup")
    assert (
        first.splitlines()[-1] == "Created admin user 'chief' with password (from env)"
    )
    assert "a-long-secret-9" not in first
    assert second.strip() == "Admin user 'chief' exists."
    user = User.objects.get()
    assert user.is_superuser and user.check_password("a-long-secret-9")
    assert PeriodicTask.objects.filter(name="Scan inbox").count() == 1


def test_ingest_setup_prints_a_generated_password_when_none_is_given(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    # docker-compose passes an unset variable through as an empty one.
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "")
    output = run("ingest_setup")
    match = re.search(
        r"^Created admin user 'admin' with password (\S+)\n\Z", output, re.M
    )
    assert match, output
    assert User.objects.get(username="admin").check_password(match.group(1))


def test_ingest_setup_creates_the_inbox_folders(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-secret-9")
    settings.INGEST_INBOX_DIR = str(tmp_path / "new" / "inbox")
    settings.INGEST_ARCHIVE_DIR = str(tmp_path / "new" / "archive")
    run("ingest_setup")
    assert (tmp_path / "new" / "inbox" / ".processing").is_dir()
    assert (tmp_path / "new" / "archive").is_dir()


def test_ingest_file_imports_one_file_and_prints_its_summary(tmp_path, published):
    path = tmp_path / "journals.csv"
    path.write_text(journals_csv(("0028-0836", "Nature", 1869)), encoding="utf-8")
    summary = json.loads(run("ingest_file", str(path)))
    assert (summary["status"], summary["imported"]) == ("done", 1)
    assert Journal.objects.get().title == "Nature"
    assert path.exists(), "the caller's file is left where it is"


def test_ingest_file_exits_non_zero_when_no_dataset_fits(tmp_path, published):
    path = tmp_path / "notes.csv"
    path.write_text("colour,size\nred,3\n", encoding="utf-8")
    with pytest.raises(CommandError, match='Header "colour, size" matches no dataset'):
        run("ingest_file", str(path))
    assert InboxFile.objects.get().state == State.FAILED


def test_ingest_file_exits_non_zero_when_too_many_rows_are_rejected(
    tmp_path, published
):
    path = tmp_path / "journals.csv"
    path.write_text(
        journals_csv(("A", "Alpha", 2000), ("", "Beta", 2001)), encoding="utf-8"
    )
    with pytest.raises(CommandError, match=r"1 of 2 rows \(50.0%\) are invalid"):
        run("ingest_file", str(path))
    row = InboxFile.objects.get()
    assert (row.state, row.rows_rejected, row.importer) == (
        State.FAILED,
        1,
        "journals",
    )
    assert not Journal.objects.exists()


def test_ingest_file_imports_as_the_dataset_given(tmp_path, published):
    path = tmp_path / "journals.csv"
    path.write_text("issn,title,publisher\n0028-0836,Nature,Springer\n")
    summary = json.loads(run("ingest_file", str(path), "--importer", "publishers"))
    assert (summary["dataset"], summary["dataset_chosen_by"]) == (
        "publishers",
        "person",
    )
    assert Publisher.objects.get().name == "Springer"
    assert not Journal.objects.exists()


def test_ingest_scan_takes_an_inbox_by_name_and_a_dataset(
    tmp_path, settings, published
):
    other = tmp_path / "partners"
    other.mkdir()
    settings.INGEST_ALLOWED_ROOTS = [str(other)]
    inbox = services.inbox_save(inbox=Inbox(name="partners", folder=str(other)))
    drop("x.csv", journals_csv(("A", "Alpha", 2000)), inbox=other)
    summary = json.loads(
        run("ingest_scan", "--inbox", "partners", "--importer", "journals")
    )
    assert (summary["inbox"], summary["queued"]) == ("partners", 1)
    row = InboxFile.objects.get()
    assert (row.inbox, row.importer_requested) == (inbox, "journals")
    with pytest.raises(CommandError, match="No inbox is named 'nope'"):
        run("ingest_scan", "--inbox", "nope")
