"""Task results: one statement a state, upstream's columns, outage-proof."""

import json
import uuid
from types import SimpleNamespace

import pytest
from django.db import connections, router
from django.test.utils import CaptureQueriesContext
from django_celery_results.models import TaskResult

from myproject.celery import app

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

TRANSACTION_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK")


def results_connection():
    return connections[router.db_for_write(TaskResult) or "default"]


def statements(captured: CaptureQueriesContext) -> list[str]:
    """Return the SQL sent, without the transaction control around it."""
    return [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].lstrip().upper().startswith(TRANSACTION_CONTROL)
    ]


def request(task_id: str) -> SimpleNamespace:
    """Return what a worker's task request carries into the backend."""
    return SimpleNamespace(
        id=task_id,
        task="ingest.tasks.import_file",
        argsrepr="(7,)",
        kwargsrepr="{}",
        hostname="worker@test",
        periodic_task_name=None,
        chord=None,
        group=None,
        children=[],
    )


def test_each_state_of_a_task_is_stored_in_one_statement():
    task_id = str(uuid.uuid4())
    backend = app.backend
    with CaptureQueriesContext(results_connection()) as started:
        backend.store_result(task_id, {"pid": 1}, "STARTED", request=request(task_id))
    with CaptureQueriesContext(results_connection()) as progress:
        backend.store_result(
            task_id, {"percent": 50.0}, "PROGRESS", request=request(task_id)
        )
    with CaptureQueriesContext(results_connection()) as done:
        backend.store_result(
            task_id,
            {"status": "done", "imported": 3},
            "SUCCESS",
            request=request(task_id),
        )
    assert [len(statements(c)) for c in (started, progress, done)] == [1, 1, 1]
    result = TaskResult.objects.get(task_id=task_id)
    assert result.status == "SUCCESS"
    assert json.loads(result.result) == {"status": "done", "imported": 3}
    assert (result.task_name, result.worker) == (
        "ingest.tasks.import_file",
        "worker@test",
    )
    assert json.loads(result.task_args) == "(7,)"
    assert result.date_started is not None  # Kept from STARTED.
    assert result.date_done >= result.date_started


def test_a_result_without_started_is_created_by_its_final_state():
    task_id = str(uuid.uuid4())
    app.backend.store_result(task_id, {"status": "done"}, "SUCCESS")
    result = TaskResult.objects.get(task_id=task_id)
    assert (result.status, result.date_started) == ("SUCCESS", None)
    assert app.backend.get_task_meta(task_id)["result"] == {"status": "done"}


def test_the_file_tasks_store_no_started_row():
    """Their ledger row says IMPORTING (PREVIEW) with its start; progress is
    the PROGRESS state."""
    from ingest import tasks

    assert tasks.import_file.track_started is False
    assert tasks.preview_file.track_started is False
    assert tasks.scan_inbox.track_started is True  # The project's default.
