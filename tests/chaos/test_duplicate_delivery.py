"""Scenario 7: the same import message delivered twice (and late) imports once."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from ingest import services
from ingest.models import InboxFile
from ingest.tasks import import_file
from tests.chaos.audit import Dataset, ledger_audit
from tests.chaos.processes import wait_until

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

#: Long enough for the twin message to arrive while the first still imports.
ROWS = 30_000


def test_the_same_import_message_twice_and_once_more_later_imports_once(
    fleet, broker_flush, chaos_settings, chaos_record
):
    """Two deliveries at once and a third after the end: one import, two skips."""
    dataset = Dataset()
    dataset.add("books-twice.csv", ROWS)
    dataset.drop(Path(settings.INGEST_INBOX_DIR))
    assert services.inbox_scan()["queued"] == 1
    row = InboxFile.objects.get()
    # The broker hands out the very same message again (same id, same task id).
    import_file.apply_async(args=(row.pk,), task_id=row.task_id)
    worker = fleet.worker(concurrency=2)

    def handled() -> int:
        pattern = rf"Task ingest\.tasks\.import_file\[{row.task_id}\] succeeded"
        return len(re.findall(pattern, worker.log()))

    wait_until(
        lambda: handled() == 2, timeout=240, message="both deliveries to be handled"
    )
    import_file.apply_async(args=(row.pk,), task_id=row.task_id)
    wait_until(
        lambda: handled() == 3, timeout=120, message="the late delivery to be handled"
    )

    log = worker.log()
    assert log.count(f"Imported file #{row.pk}:") == 1
    assert log.count(f"Skipping file #{row.pk}:") == 2
    row.refresh_from_db()
    assert row.attempts == 1
    audit = chaos_record(ledger_audit(dataset), scenario="7 same message delivered 3x")
    assert audit.problems == []
    assert (audit.lost, audit.duplicated) == (0, 0)
