"""The admin: ledger list and detail, its actions, results and schedules."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django_celery_results.models import TaskResult

from ingest.models import InboxFile, RowRejection
from tests.factories import default_inbox, ledger_row

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State
CHANGELIST = "admin:ingest_inboxfile_changelist"


@pytest.fixture
def superuser_client(client):
    user = User.objects.create_superuser("boss", "boss@example.com", "pw-123456")
    client.force_login(user)
    return client


def staff_client(client, *permissions: str):
    user = User.objects.create_user("clerk", password="pw-123456", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="ingest", codename__in=permissions
        )
    )
    client.force_login(user)
    return client


@pytest.fixture
def default_schedule():
    """Create the default inbox and its schedule: ``migrate`` made none."""
    return default_inbox()


def reimport(client, *rows: InboxFile):
    return client.post(
        reverse(CHANGELIST),
        {"action": "reimport", "_selected_action": [row.pk for row in rows]},
    )


def test_the_ledger_list_shows_files_with_filters_and_search(superuser_client):
    ledger_row("books.csv")
    ledger_row("broken.csv", State.FAILED, error="No title column")
    page = superuser_client.get(reverse(CHANGELIST))
    assert page.status_code == 200
    html = page.content.decode()
    assert "books.csv" in html and "broken.csv" in html
    assert 'id="changelist-filter"' in html
    assert "Scan inboxes now" in html

    failed = superuser_client.get(reverse(CHANGELIST), {"state__exact": "failed"})
    assert [row.name for row in failed.context["cl"].result_list] == ["broken.csv"]
    found = superuser_client.get(reverse(CHANGELIST), {"q": "books"})
    assert [row.name for row in found.context["cl"].result_list] == ["books.csv"]


def test_the_change_page_shows_the_entry_read_only_with_its_rejected_rows(
    superuser_client,
):
    row = ledger_row("books.csv", rows_rejected=1)
    RowRejection.objects.create(
        file=row, line=3, column="year", message="not a year", raw=["T", "A", "x"]
    )
    page = superuser_client.get(reverse("admin:ingest_inboxfile_change", args=[row.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "not a year" in html
    assert 'name="state"' not in html, "ledger fields are not editable"
    assert 'id="rejections-group"' in html

    superuser_client.post(
        reverse("admin:ingest_inboxfile_change", args=[row.pk]),
        {"state": State.QUEUED, "name": "renamed.csv"},
    )
    row.refresh_from_db()
    assert (row.state, row.name) == (State.DONE, "books.csv")


def test_reimport_action_requeues_a_failed_file_with_a_new_task_id(
    superuser_client, published
):
    row = ledger_row("broken.csv", State.FAILED, error="boom", task_id="old-task")
    response = reimport(superuser_client, row)
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.state == State.QUEUED
    assert row.task_id and row.task_id != "old-task"
    assert (row.error, row.attempts) == ("", 0)
    assert published == [
        {"task": "ingest.tasks.import_file", "args": (row.pk,), "task_id": row.task_id}
    ]


def test_reimport_leaves_files_that_are_still_in_flight(superuser_client, published):
    row = ledger_row("busy.csv", State.IMPORTING, task_id="running")
    reimport(superuser_client, row)
    row.refresh_from_db()
    assert (row.state, row.task_id) == (State.IMPORTING, "running")
    assert published == []


def test_scan_button_queues_a_scan_on_post_only(superuser_client, published):
    url = reverse("admin:ingest_inboxfile_scan")
    assert superuser_client.get(url).status_code == 302
    assert published == []
    response = superuser_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse(CHANGELIST)
    assert [call["task"] for call in published] == ["ingest.tasks.scan_inbox"]


def test_staff_without_ingest_permissions_get_403_and_cannot_reimport(
    client, published
):
    row = ledger_row("broken.csv", State.FAILED)
    staff = staff_client(client)
    assert staff.get(reverse(CHANGELIST)).status_code == 403
    assert reimport(staff, row).status_code == 403
    assert staff.post(reverse("admin:ingest_inboxfile_scan")).status_code == 302
    row.refresh_from_db()
    assert row.state == State.FAILED
    assert published == []


def test_view_only_staff_see_the_ledger_but_cannot_reimport_or_scan(client, published):
    row = ledger_row("broken.csv", State.FAILED)
    staff = staff_client(client, "view_inboxfile")
    page = staff.get(reverse(CHANGELIST))
    assert page.status_code == 200
    assert "Re-import selected files" not in page.content.decode()
    reimport(staff, row)
    staff.post(reverse("admin:ingest_inboxfile_scan"))
    row.refresh_from_db()
    assert row.state == State.FAILED
    assert published == []


def test_task_results_and_the_scan_schedule_render_in_the_admin(
    superuser_client, default_schedule
):
    TaskResult.objects.create(
        task_id="abc-123",
        task_name="ingest.tasks.import_file",
        status="SUCCESS",
        result='{"status": "done", "file": "books.csv"}',
    )
    results = superuser_client.get(
        reverse("admin:django_celery_results_taskresult_changelist")
    )
    assert results.status_code == 200
    assert "abc-123" in results.content.decode()

    schedules = superuser_client.get(
        reverse("admin:django_celery_beat_periodictask_changelist")
    )
    assert schedules.status_code == 200
    assert "Scan inbox" in schedules.content.decode()
    task = schedules.context["cl"].result_list[0]
    change = superuser_client.get(
        reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
    )
    assert change.status_code == 200
    assert "ingest.tasks.scan_inbox" in change.content.decode()
