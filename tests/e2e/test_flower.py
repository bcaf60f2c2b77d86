"""Flower, the Celery monitor, as an operator runs it: beside a real worker.

The test starts ``celery -A myproject flower`` with basic auth on a free
port, against the test broker, next to a worker and beat; a file is
imported, and Flower's HTTP API must name the worker and the finished
``import_file`` task. Flower turns task events on in the workers itself
(its ``enable_events`` default) in a worker with heartbeats, as the
compose file's; the test's worker runs without them, so it starts with
``-E``.
"""

import ast
import base64
import json
import sys
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

from ingest.models import InboxFile
from tests.e2e.harness import free_port, scan_schedule_set, wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

USER, PASSWORD = "ops", "flower-test-password"
BOOKS = "title,author,year\nКобзар,Тарас Шевченко,1840\n"


def api(url: str, *, auth: bool = True) -> tuple[int, object]:
    """GET a Flower URL; return (status, parsed JSON or text)."""
    headers = {}
    if auth:
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    try:
        with urlopen(Request(url, headers=headers), timeout=10) as response:  # noqa: S310
            body = response.read().decode()
            status = response.status
    except HTTPError as error:
        return error.code, error.read().decode()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def test_flower_shows_the_worker_and_a_finished_import(services, ingest_dirs):
    """Behind basic auth, Flower lists the running worker and the import
    task of a dropped file as SUCCESS, run by that worker, with its id."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    scan_schedule_set(every=1)
    services.worker(events=True)
    services.beat()
    flower = services.start(
        "flower",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "myproject",
            "flower",
            "--address=127.0.0.1",
            f"--port={port}",
            f"--basic-auth={USER}:{PASSWORD}",
        ],
    )

    def answering() -> bool:
        try:
            return api(f"{base}/healthcheck", auth=False)[0] == 200
        except OSError:
            return False

    wait_until(answering, 60, message="Flower to answer", services=services)
    assert flower.alive()
    assert api(f"{base}/api/workers", auth=False)[0] == 401

    def worker_listed():
        status, workers = api(f"{base}/api/workers?refresh=1")
        return status == 200 and isinstance(workers, dict) and list(workers)

    (name,) = wait_until(
        worker_listed, 60, message="Flower to list the worker", services=services
    )
    assert name.startswith("worker-")
    (ingest_dirs["INGEST_INBOX_DIR"] / "books.csv").write_text(BOOKS, encoding="utf-8")
    row = wait_until(
        lambda: InboxFile.objects.filter(name="books.csv", state="done").first(),
        90,
        message="the import",
        services=services,
    )

    def task_seen():
        status, task = api(f"{base}/api/task/info/{row.task_id}")
        return status == 200 and task.get("state") == "SUCCESS" and task

    task = wait_until(
        task_seen, 60, message="Flower to see the finished import", services=services
    )
    assert task["name"] == "ingest.tasks.import_file"
    assert task["worker"] == name
    assert list(ast.literal_eval(task["args"])) == [row.pk]
    status, tasks = api(f"{base}/api/tasks?taskname=ingest.tasks.import_file")
    assert status == 200 and row.task_id in tasks
