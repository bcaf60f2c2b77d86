"""Scenario 15: SIGKILL the worker between an archive's members.

A ``.zip`` of six books files: the worker unpacks it into six ledger
entries and imports them one by one (concurrency 1). Once the first member
is done and others are still waiting, the whole worker is killed; a new
one finishes. Every member has exactly one ledger entry, every book is in
the catalogue exactly once, and the archive's one email goes out once.
"""

import io
import os
import time
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

from ingest import services
from ingest.models import InboxFile
from tests.chaos.audit import Dataset, ledger_audit
from tests.chaos.processes import kill_group, scan_loop, wait_until

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

State = InboxFile.State
MEMBERS, ROWS = 6, 30_000


def _parcel(dataset: Dataset, inbox: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in dataset.files.items():
            archive.writestr(f"parcel/{name}", content)
    temporary = inbox / ".books-parcel.zip.tmp"
    temporary.write_bytes(buffer.getvalue())
    past = time.time() - 60
    os.utime(temporary, (past, past))
    os.rename(temporary, inbox / "books-parcel.zip")


def test_a_worker_killed_between_members_imports_each_member_once(
    fleet, broker_flush, chaos_settings, chaos_record
):
    dataset = Dataset()
    for index in range(MEMBERS):
        dataset.add(f"books-member-{index}.csv", ROWS, authors=300)
    _parcel(dataset, Path(settings.INGEST_INBOX_DIR))
    assert services.inbox_scan()["queued"] == 1
    archive = InboxFile.objects.get(name="books-parcel.zip")

    worker = fleet.worker(concurrency=1)

    def between_members() -> bool:
        states = list(archive.members.values_list("state", flat=True))
        return State.DONE in states and any(
            state not in InboxFile.FINAL_STATES for state in states
        )

    wait_until(
        between_members,
        timeout=240,
        interval=0.05,
        message="one member done and others still waiting",
    )
    kill_group(worker)
    done_before = archive.members.filter(state=State.DONE).count()
    assert 0 < done_before < MEMBERS

    fleet.worker(concurrency=1)
    with scan_loop(interval=1.0):
        wait_until(
            lambda: (
                archive.members.count() == MEMBERS
                and all(m.is_final for m in archive.members.all())
            ),
            timeout=400,
            interval=0.5,
            message="every member to reach a final state",
        )
    audit = chaos_record(
        ledger_audit(dataset), scenario="15 SIGKILL the worker between archive members"
    )
    assert audit.problems == []
    assert (audit.lost, audit.duplicated) == (0, 0)
    archive.refresh_from_db()
    assert (archive.state, archive.rows_total) == (State.DONE, MEMBERS)
    assert InboxFile.objects.filter(archive=archive).count() == MEMBERS
