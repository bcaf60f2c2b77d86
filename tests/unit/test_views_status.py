"""The JSON status contract: task states through the ledger, file listings.

``/task/<id>/`` keeps the seed's Celery-like contract (PENDING, PROGRESS,
SUCCESS, FAILURE) but answers from the ledger, so an id nobody issued is a
404 instead of Celery's eternal PENDING.
"""

import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django_celery_results.models import TaskResult

from ingest.models import InboxFile

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create_user("clerk", is_staff=True))
    return client


def ledger_row(name: str, state: str, **fields) -> InboxFile:
    defaults = {"folder": "/in", "inbox_path": f"/in/{name}", "task_id": f"t-{name}"}
    return InboxFile.objects.create(name=name, state=state, **{**defaults, **fields})


def task(client, row_or_id) -> tuple[int, dict]:
    task_id = getattr(row_or_id, "task_id", row_or_id)
    response = client.get(reverse("ingest:task-status", args=[task_id]))
    body = json.loads(response.content) if response.status_code != 404 else {}
    return response.status_code, body


@pytest.mark.parametrize("state", [State.DISCOVERED, State.QUEUED])
def test_a_file_waiting_for_import_is_pending(staff, state):
    row = ledger_row("books.csv", state)
    assert task(staff, row) == (200, {"state": "PENDING", "status": state.label})


def test_a_running_import_reports_its_last_progress(staff):
    row = ledger_row("big.csv", State.IMPORTING, size=1000)
    meta = {"current": 250, "total": 1000, "percent": 25.0, "rows": 40}
    TaskResult.objects.create(
        task_id=row.task_id, status="PROGRESS", result=json.dumps(meta)
    )
    assert task(staff, row) == (200, {"state": "PROGRESS", **meta})


def test_a_running_import_without_a_report_yet_is_at_zero(staff):
    row = ledger_row("big.csv", State.IMPORTING, size=1000)
    assert task(staff, row) == (
        200,
        {"state": "PROGRESS", "current": 0, "total": 1000, "percent": 0.0},
    )


@pytest.mark.parametrize("state", [State.DONE, State.DUPLICATE])
def test_a_finished_file_is_a_success_with_its_summary(staff, state):
    row = ledger_row("books.csv", state, rows_total=3, rows_imported=2, rows_updated=1)
    status, body = task(staff, row)
    assert (status, body["state"]) == (200, "SUCCESS")
    assert body["result"] == {
        "status": state,
        "file_id": row.pk,
        "file": "books.csv",
        "inbox": "",
        "dataset": "",
        "dataset_chosen_by": "",
        "imported": 2,
        "updated": 1,
        "rejected": 0,
        "total": 3,
        "seconds": 0.0,
    }


def test_a_failed_file_is_a_failure_with_its_reason(staff):
    row = ledger_row("bad.csv", State.FAILED, error="No title column.")
    assert task(staff, row) == (200, {"state": "FAILURE", "status": "No title column."})


def test_an_unknown_task_id_is_404_not_an_eternal_pending(staff):
    ledger_row("books.csv", State.QUEUED)
    status, _body = task(staff, "never-issued")
    assert status == 404


def test_file_detail_returns_the_ledger_entry(staff):
    row = ledger_row("books.csv", State.DONE, rows_total=3, rows_imported=3)
    response = staff.get(reverse("ingest:file-detail", args=[row.pk]))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["file"], body["state"]) == (row.pk, "books.csv", "done")
    assert (body["imported"], body["total"], body["task_id"]) == (3, 3, row.task_id)
    assert body["discovered_at"] and body["progress"] is None
    assert (
        staff.get(reverse("ingest:file-detail", args=[row.pk + 99])).status_code == 404
    )


def test_file_index_lists_files_and_filters_by_state(staff):
    ledger_row("a.csv", State.DONE)
    ledger_row("b.csv", State.FAILED)
    ledger_row("c.csv", State.DONE)
    url = reverse("ingest:file-index")
    everything = staff.get(url).json()["files"]
    assert [f["file"] for f in everything] == ["c.csv", "b.csv", "a.csv"]
    done = staff.get(url, {"state": "done"}).json()["files"]
    assert [f["file"] for f in done] == ["c.csv", "a.csv"]


@pytest.mark.parametrize("who", ["anonymous", "not staff"])
def test_outsiders_get_no_data(client, who):
    row = ledger_row("secret-books.csv", State.DONE)
    if who == "not staff":
        client.force_login(User.objects.create_user("visitor"))
    for url in (
        reverse("ingest:task-status", args=[row.task_id]),
        reverse("ingest:file-detail", args=[row.pk]),
        reverse("ingest:file-index"),
    ):
        response = client.get(url)
        assert response.status_code in (302, 401, 403), url
        assert b"secret-books" not in response.content, url
