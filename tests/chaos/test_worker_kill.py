"""Scenario 1: SIGKILL a worker in the middle of a big import; one import results.

Three deaths: the pool child alone (the main process requeues the message:
``acks_late`` + ``reject_on_worker_lost``); the main process alone (Celery
sets ``PR_SET_PDEATHSIG`` on its pool children, so the kernel kills the
orphan too; were it to live on, it would keep the file's lock and the scan
would wait for it); the whole process group, as a host crash would. In the
last two, the database drops the dead session's advisory lock, the scan
requeues the IMPORTING row, and a new worker imports the file from the
start.
"""

import os
import signal
from pathlib import Path

import pytest
from django.conf import settings
from django_celery_results.models import TaskResult

from ingest import services
from ingest.models import InboxFile
from tests.chaos.audit import Dataset, ledger_audit
from tests.chaos.processes import (
    kill_group,
    kill_main,
    pool_children,
    scan_loop,
    wait_until,
)

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

#: Big enough that a kill lands mid-import on a loaded 2-core machine.
ROWS = 200_000
State = InboxFile.State


def _progress(task_id: str) -> dict | None:
    """Return the running import's last progress report, if it made one."""
    result = TaskResult.objects.filter(task_id=task_id, status="PROGRESS").first()
    if result is None:
        return None
    import json

    meta = json.loads(result.result or "{}")
    return meta if meta.get("rows") else None


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie is dead too: it only waits for its parent to read its status.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] == "Z"


@pytest.mark.parametrize("victim", ["pool child", "main process", "process group"])
def test_a_worker_killed_mid_import_leaves_the_file_imported_once(
    victim, fleet, broker_flush, chaos_settings, chaos_record
):
    """Whatever dies mid-import, the 200,000 rows end up imported exactly once."""
    dataset = Dataset()
    dataset.add("books-big.csv", ROWS, authors=500)
    dataset.drop(Path(settings.INGEST_INBOX_DIR))
    assert services.inbox_scan()["queued"] == 1
    row = InboxFile.objects.get()

    worker = fleet.worker(concurrency=1)
    wait_until(
        lambda: _progress(row.task_id),
        timeout=180,
        interval=0.1,
        message="the import to report progress",
    )
    (child,) = pool_children(worker)
    if victim == "pool child":
        os.kill(child, signal.SIGKILL)
    elif victim == "main process":
        kill_main(worker)
    else:
        kill_group(worker)
    row.refresh_from_db()
    assert row.state == State.IMPORTING  # It was killed mid-import.
    # Even the main process's death takes its pool child with it.
    wait_until(lambda: _gone(child), timeout=30, message="the pool child to die")

    if victim != "pool child":
        # A new worker replaces the dead one (the main process of the first
        # respawns its own pool child when only the child died).
        fleet.worker(concurrency=1)
    with scan_loop(interval=1.0):
        wait_until(
            lambda: InboxFile.objects.get(pk=row.pk).is_final,
            timeout=300,
            interval=0.5,
            message="the file to reach a final state",
        )
    row.refresh_from_db()
    audit = chaos_record(
        ledger_audit(dataset), scenario=f"1 SIGKILL {victim} mid-import"
    )
    assert audit.problems == []
    assert (audit.lost, audit.duplicated) == (0, 0)
    assert row.state == State.DONE and row.rows_imported == ROWS
    assert row.attempts >= 2  # The killed attempt, then the one that finished.
