"""Scenario 5: ten scans at once over the same 200 files dispatch each once."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from ingest import services
from ingest.models import InboxFile
from tests.chaos.audit import book_files, ledger_audit

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

SCANS = 10
FILES = 200


def _in_own_connection(function, *args, **kwargs):
    """Run *function* in this thread's own database connection, then close it."""
    try:
        return function(*args, **kwargs)
    finally:
        connection.close()


def test_ten_concurrent_scans_dispatch_each_file_once(published, chaos_record):
    """Ten scans racing over 200 files publish one import per file, no more."""
    dataset = book_files("scan", FILES, rows=5)
    dataset.drop(Path(settings.INGEST_INBOX_DIR))
    start = threading.Barrier(SCANS)

    def scan() -> dict:
        start.wait()
        return services.inbox_scan()

    with ThreadPoolExecutor(SCANS) as pool:
        summaries = list(pool.map(lambda _: _in_own_connection(scan), range(SCANS)))

    imports = [c for c in published if c["task"] == "ingest.tasks.import_file"]
    per_file = Counter(c["args"][0] for c in imports)
    assert sum(s.get("queued", 0) + s.get("recovered", 0) for s in summaries) == FILES
    assert InboxFile.objects.count() == FILES
    assert len(per_file) == FILES and set(per_file.values()) == {1}, per_file

    # Deliver every message, four at a time, as a worker pool would.
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(
                lambda c: _in_own_connection(
                    services.file_import, file_id=c["args"][0], task_id=c["task_id"]
                ),
                imports,
            )
        )
    assert Counter(r["status"] for r in results) == {"done": FILES}
    audit = chaos_record(ledger_audit(dataset), scenario="5 concurrent scans")
    assert audit.problems == []
    assert (audit.lost, audit.duplicated) == (0, 0)
