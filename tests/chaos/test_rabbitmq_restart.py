"""Scenario 9: a private RabbitMQ restarts while 50 files are queued.

Unlike Redis without persistence, RabbitMQ keeps the durable ``celery``
queue and its persistent messages across a restart; what a restart does
lose is the worker's channel, and with it the acknowledgement of whatever
the worker was importing (``acks_late``), so those messages come again.
The ledger turns every second delivery (and every redispatch of a
scan) into a skip: each file is imported exactly once.
"""

import json
import socket
from pathlib import Path

import pytest
from django.conf import settings
from django_celery_results.models import TaskResult
from kombu import Connection

from ingest.models import InboxFile
from tests.chaos.audit import book_files, ledger_audit
from tests.chaos.processes import scan_schedule, wait_until

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

FILES = 50
#: Rows per file: enough for the worker to be mid-queue when the node stops.
ROWS = 1500
#: The machine's shared node, which the scenario must leave alone.
SHARED = ("127.0.0.1", 5672)


def waiting(url: str, queue: str = "celery") -> int:
    """Return how many messages *queue* holds, not counting unacknowledged ones."""
    with Connection(url) as broker:
        return broker.default_channel.queue_declare(queue, passive=True).message_count


def shared_node_up() -> bool:
    try:
        with socket.create_connection(SHARED, timeout=2):
            return True
    except OSError:
        return False


def test_a_rabbitmq_restart_with_50_queued_files_imports_each_exactly_once(
    private_rabbitmq, fleet, chaos_settings, chaos_record
):
    """50 queued files; the node restarts mid-queue; all 50 imported once."""
    shared_before = shared_node_up()
    broker = private_rabbitmq.url()
    dataset = book_files("rabbitmq", FILES, rows=ROWS)
    dataset.drop(Path(settings.INGEST_INBOX_DIR))
    summary = json.loads(fleet.manage("ingest_scan", CELERY_BROKER_URL=broker))
    assert summary["queued"] == FILES
    assert waiting(broker) == FILES

    # Durable queue, persistent messages: a clean restart keeps them all.
    private_rabbitmq.stop()
    private_rabbitmq.start()
    assert waiting(broker) == FILES

    done = InboxFile.objects.filter(state=InboxFile.State.DONE)
    fleet.worker(concurrency=1, CELERY_BROKER_URL=broker)
    wait_until(lambda: done.count() >= 3, timeout=120, message="a few imports")
    # Again, now with the worker consuming and an import under way.
    private_rabbitmq.stop()
    during = done.count()
    private_rabbitmq.start()
    assert during < FILES, "the worker finished before the restart; add rows"

    scan_schedule(every=1)
    fleet.beat(CELERY_BROKER_URL=broker)
    wait_until(
        lambda: done.count() == FILES,
        timeout=240,
        message="every file to be imported",
    )
    # One claim per file: a redelivered message found its file done and
    # skipped (its result then overwrote the first under the same task id).
    assert set(done.values_list("attempts", flat=True)) == {1}
    statuses = {
        json.loads(result.result)["status"]
        for result in TaskResult.objects.filter(task_name="ingest.tasks.import_file")
    }
    assert statuses <= {"done", "skipped"}, statuses
    audit = chaos_record(
        ledger_audit(dataset), scenario="9 RabbitMQ restarted with 50 queued"
    )
    assert audit.problems == []
    assert (audit.lost, audit.duplicated) == (0, 0)
    assert shared_node_up() == shared_before
