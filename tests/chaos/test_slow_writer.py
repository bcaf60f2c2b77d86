"""Scenario 6: a file written slowly is taken once, complete, after it settles."""

import time
from pathlib import Path

import pytest
from django.conf import settings

from ingest.models import InboxFile
from tests.chaos.audit import Dataset, ledger_audit
from tests.chaos.processes import scan_loop, wait_until

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

#: Seconds the writer keeps appending (the issue's 20 s).
WRITE_SECONDS = 20
#: Seconds between two appends; well under the minimum file age.
APPEND_EVERY = 0.5
MIN_FILE_AGE = 3


def test_a_file_appended_to_for_20_s_is_imported_once_complete(
    fleet, broker_flush, chaos_settings, chaos_record
):
    """While it grows the scans see it and leave it DISCOVERED; then it imports whole.

    The ledger row must exist while the file grows (seen after the appends,
    its size following them), the scans that ended while it grew must have
    found it changing and queued nothing, and exactly one scan queues it,
    after the writer stopped, with every row.
    """
    chaos_settings.INGEST_MIN_FILE_AGE = MIN_FILE_AGE
    appends = int(WRITE_SECONDS / APPEND_EVERY)
    dataset = Dataset()
    name = dataset.add("books-slow.csv", appends * 20)
    header, *lines = dataset.files[name].splitlines(keepends=True)
    fleet.worker(concurrency=1)
    path = Path(settings.INGEST_INBOX_DIR) / name
    seen: list[tuple[str, int]] = []  # The ledger's (state, size) after appends.
    with scan_loop(interval=0.5) as scans:
        with open(path, "a", encoding="utf-8") as out:
            out.write(header)
            for start in range(0, len(lines), 20):
                out.writelines(lines[start : start + 20])
                out.flush()
                seen += InboxFile.objects.values_list("state", "size")
                time.sleep(APPEND_EVERY)
        while_growing = list(scans)  # Ended by 0.5 s after the last append.
        wait_until(
            lambda: InboxFile.objects.filter(state=InboxFile.State.DONE).exists(),
            timeout=120,
            message="every file to be imported",
        )
    states = {state for state, _size in seen}
    assert states == {InboxFile.State.DISCOVERED}, states
    assert len({size for _state, size in seen}) > 1, seen  # It grew, on record.
    assert any(scan.get("changing") for scan in while_growing), while_growing
    assert not any(scan.get("queued") for scan in while_growing), while_growing
    assert sum(scan.get("queued", 0) for scan in scans) == 1, scans
    row = InboxFile.objects.get()
    assert row.size == len(dataset.files[name].encode())
    assert row.rows_imported == appends * 20
    audit = chaos_record(
        ledger_audit(dataset), scenario=f"6 writer appending for {WRITE_SECONDS} s"
    )
    assert audit.problems == []
    assert (audit.lost, audit.duplicated) == (0, 0)
