"""The live list: files that arrive after the dashboard loaded, by cursor."""

import datetime

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from ingest import selectors
from ingest.models import Inbox, InboxFile
from tests.factories import ledger_row

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

SETTLE = datetime.timedelta(seconds=selectors.POLL_SETTLE_SECONDS + 1)


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create_user("ops", password="pw", is_staff=True))
    return client


def settled(row: InboxFile) -> InboxFile:
    """Age *row* past the settle time, as if it had committed long ago."""
    InboxFile.objects.filter(pk=row.pk).update(discovered_at=timezone.now() - SETTLE)
    row.refresh_from_db()
    return row


def poll(client, **params) -> dict:
    response = client.get(reverse("ingest:file-index"), params)
    assert response.status_code == 200, response.content
    return response.json()


def test_files_after_the_cursor_arrive_newest_first_once_settled(staff):
    """A poll answers the files newer than its cursor, and a cursor past them."""
    old = settled(ledger_row("old.csv"))
    cursor = selectors.file_cursor()
    assert cursor == old.pk
    first = settled(ledger_row("first.csv", "queued"))
    second = settled(ledger_row("second.csv"))

    answer = poll(staff, since=cursor)

    assert [f["id"] for f in answer["files"]] == [second.pk, first.pk]
    assert answer["cursor"] == second.pk
    assert answer["files"][0]["source_display"] == "Inbox"
    assert answer["files"][0]["discovered_display"]
    assert poll(staff, since=answer["cursor"])["files"] == []


def test_a_young_file_is_answered_again_until_it_has_settled(staff):
    """The cursor stops short of rows that may still be committing around them."""
    older = settled(ledger_row("older.csv"))
    young = ledger_row("young.csv")

    answer = poll(staff, since=older.pk - 1)

    assert [f["id"] for f in answer["files"]] == [young.pk, older.pk]
    assert answer["cursor"] == older.pk
    again = poll(staff, since=answer["cursor"])
    assert [f["id"] for f in again["files"]] == [young.pk]
    settled(young)
    assert poll(staff, since=answer["cursor"])["cursor"] == young.pk


def test_the_poll_also_answers_the_rows_asked_for_by_id(staff):
    """Rows on the page come back by id, arrivals beside them, none twice."""
    running = settled(ledger_row("running.csv", "importing"))
    arrived = settled(ledger_row("new.csv"))

    answer = poll(staff, since=running.pk, ids=f"{running.pk},{arrived.pk}")

    assert sorted(f["id"] for f in answer["files"]) == [running.pk, arrived.pk]


def test_arrivals_follow_the_dashboards_inbox_and_state_filter(staff):
    """A filtered dashboard only gets arrivals its filter would show."""
    inbox = Inbox.objects.create(name="feed", folder="/srv/feed")
    mine = settled(ledger_row("mine.csv", "failed", inbox=inbox))
    settled(ledger_row("other-inbox.csv", "failed"))
    settled(ledger_row("other-state.csv", "done", inbox=inbox))

    answer = poll(staff, since=0, inbox=inbox.pk, state="failed")

    assert [f["id"] for f in answer["files"]] == [mine.pk]


@pytest.mark.parametrize(
    "params", [{"since": "x"}, {"since": "1", "inbox": "9999"}, {"since": "-1"}]
)
def test_a_bad_cursor_or_inbox_is_a_400(staff, params):
    response = staff.get(reverse("ingest:file-index"), params)
    assert response.status_code == 400
    assert "error" in response.json()


def test_only_the_first_dashboard_page_is_live(staff):
    """Page 1 carries the cursor and a row template; later pages do not."""
    for number in range(30):
        settled(ledger_row(f"f{number}.csv"))
    first = staff.get(reverse("ingest:home")).content.decode()
    later = staff.get(reverse("ingest:home"), {"page": 2}).content.decode()

    assert f'data-live-cursor="{selectors.file_cursor()}"' in first
    assert 'id="file-row-template"' in first
    assert "data-live-cursor" not in later


def test_the_live_poll_needs_staff(client):
    response = client.get(reverse("ingest:file-index"), {"since": 0})
    assert response.status_code == 401
