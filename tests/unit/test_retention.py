"""Retention: task results expire; old stored files and ledger entries go.

Off by default; only final entries, in batches, logged; the schedule is
created once by ``ingest_setup`` and the results cleanup by beat's
scheduler, both visible in the admin's periodic tasks.
"""

import datetime
import logging
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from ingest import services
from ingest.models import InboxFile, RowRejection
from myproject.celery import app as celery_app
from tests.factories import ledger_row

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State
NOW = timezone.now()


def stored(name: str, folder: str, days_ago: float, state=State.DONE, **fields):
    """Create a ledger entry finished *days_ago* with its file stored."""
    from django.conf import settings

    root = Path(
        settings.INGEST_FAILED_DIR
        if folder == "failed"
        else settings.INGEST_ARCHIVE_DIR
    )
    path = root / "2026" / f"{name}" if folder == "archive" else root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("title,author\nx,y\n")
    row = ledger_row(
        name,
        state,
        stored_path=str(path),
        finished_at=NOW - datetime.timedelta(days=days_ago),
        **fields,
    )
    return row, path


def test_nothing_is_deleted_by_default(settings):
    _row, path = stored("old.csv", "archive", 400)
    assert services.retention_apply() == {
        "files_deleted": 0,
        "bytes_deleted": 0,
        "entries_deleted": 0,
    }
    assert path.exists() and InboxFile.objects.count() == 1


def test_archive_keep_days_deletes_old_stored_files_and_keeps_their_entries(
    settings, caplog
):
    settings.INGEST_ARCHIVE_KEEP_DAYS = 30
    old, old_path = stored("old.csv", "archive", 31)
    _failed, failed_path = stored("bad.csv", "failed", 90, State.FAILED)
    reason = failed_path.with_name("bad.csv.error.txt")
    reason.write_text("why")
    _recent, recent_path = stored("recent.csv", "archive", 29)
    # Not final: being re-imported from its old place; never touched.
    busy, busy_path = stored("busy.csv", "archive", 99, State.QUEUED)
    with caplog.at_level(logging.INFO, logger="ingest.services.retention"):
        summary = services.retention_apply()
    size = len("title,author\nx,y\n")
    assert summary == {
        "files_deleted": 2,
        "bytes_deleted": 2 * size,
        "entries_deleted": 0,
    }
    assert not old_path.exists() and not failed_path.exists() and not reason.exists()
    assert recent_path.exists() and busy_path.exists()
    assert InboxFile.objects.count() == 4
    assert InboxFile.objects.get(pk=old.pk).stored_path == ""
    assert InboxFile.objects.get(pk=busy.pk).stored_path == str(busy_path)
    assert f"deleted {old_path} (file #{old.pk}, {size} bytes)" in caplog.text
    assert "2 stored files (34 bytes) and 0 ledger entries deleted" in caplog.text
    # Again: nothing left to do.
    assert services.retention_apply()["files_deleted"] == 0


def test_a_stored_path_outside_archive_and_failed_is_never_deleted(settings, tmp_path):
    settings.INGEST_ARCHIVE_KEEP_DAYS = 1
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text("keep me")
    ledger_row(
        "odd.csv",
        stored_path=str(elsewhere),
        finished_at=NOW - datetime.timedelta(days=5),
    )
    assert services.retention_apply()["files_deleted"] == 0
    assert elsewhere.read_text() == "keep me"


def test_ledger_keep_days_deletes_old_final_entries_in_batches(settings, caplog):
    settings.INGEST_LEDGER_KEEP_DAYS = 10
    olds = [stored(f"old{i}.csv", "archive", 11 + i)[0] for i in range(5)]
    RowRejection.objects.create(file=olds[0], line=2, message="bad", raw=["x"])
    ledger_row("new.csv", finished_at=NOW - datetime.timedelta(days=9))
    ledger_row(
        "stuck.csv", State.IMPORTING, finished_at=NOW - datetime.timedelta(days=50)
    )
    with caplog.at_level(logging.INFO, logger="ingest.services.retention"):
        summary = services.retention_apply(batch_size=2)
    assert summary["entries_deleted"] == 5
    assert summary["files_deleted"] == 5  # Their stored copies went too.
    assert sorted(InboxFile.objects.values_list("name", flat=True)) == [
        "new.csv",
        "stuck.csv",
    ]
    assert not RowRejection.objects.exists()
    assert caplog.text.count("Retention: deleted ledger entries") == 3


def test_ingest_setup_creates_the_retention_schedule_once(capsys):
    call_command("ingest_setup")
    call_command("ingest_setup")
    task = PeriodicTask.objects.get(name="Apply retention")
    assert task.task == "ingest.tasks.apply_retention"
    assert (task.crontab.minute, task.crontab.hour) == ("30", "3")
    assert PeriodicTask.objects.filter(task="ingest.tasks.apply_retention").count() == 1
    assert capsys.readouterr().out.count('"Apply retention" schedule') == 1


def test_task_results_expire_after_seven_days_by_default():
    assert celery_app.conf.result_expires == 7 * 24 * 3600


def test_beat_puts_the_results_cleanup_in_the_admins_periodic_tasks(admin_client):
    """The DatabaseScheduler writes celery.backend_cleanup into the database
    when beat starts; staff then see (and may reschedule) it in the admin."""
    DatabaseScheduler(app=celery_app)
    task = PeriodicTask.objects.get(name="celery.backend_cleanup")
    assert task.task == "celery.backend_cleanup" and task.enabled
    assert (task.crontab.minute, task.crontab.hour) == ("0", "4")
    page = admin_client.get("/admin/django_celery_beat/periodictask/")
    assert page.status_code == 200
    assert "celery.backend_cleanup" in page.content.decode()


def test_the_task_applies_the_service(settings, eager):
    settings.INGEST_ARCHIVE_KEEP_DAYS = 1
    _row, path = stored("old.csv", "archive", 2)
    from ingest.tasks import apply_retention

    assert apply_retention.delay().get()["files_deleted"] == 1
    assert not path.exists()
