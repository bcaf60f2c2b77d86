"""Every corpus file gets its expected outcome through real beat → worker.

The unit suite runs the corpus (``tests/data/expected.csv``) eagerly; here
each file is dropped into a real inbox, picked up by the "Scan inbox" task
that a real ``celery beat`` (DatabaseScheduler) sends to a real ``celery
worker`` over Redis, imported on PostgreSQL, and its ledger entry checked
against the table. Files the table gives an importer go to a second inbox
whose PeriodicTask carries ``{"inbox": …, "importer": …}``, as staff would
set it up in the admin; cases with settings get a worker started with those
settings as environment variables.
"""

import itertools
import json
import os
import time
from functools import partial
from pathlib import Path

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from catalogue.models import Author, Book
from ingest.models import InboxFile
from tests.data import CORPUS, COUNTS, case_env, corpus_cases
from tests.e2e.harness import scan_schedule_set, wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

#: Seconds one file may take from drop to a final ledger state.
DEADLINE = 60


def drop(inbox: Path, name: str) -> None:
    """Copy a corpus file in as users do (hidden, then renamed), already old."""
    partial = inbox / f".{name}.copying"
    partial.write_bytes((CORPUS / name).read_bytes())
    past = time.time() - 60
    os.utime(partial, (past, past))
    partial.rename(inbox / name)


def final_row(name: str) -> InboxFile | None:
    """Return the file's ledger row once final and the file is where it says.

    The move to archive/ or failed/ follows the commit of the final state,
    so the file may trail the ledger by a moment.
    """
    row = InboxFile.objects.filter(name=name).first()
    if row is None or not row.is_final or not Path(row.stored_path).exists():
        return None
    return row


def outcome(row: InboxFile) -> dict:
    return {"state": row.state} | {
        name: getattr(row, f"rows_{name}") for name in COUNTS
    }


def test_every_corpus_file_gets_its_outcome_through_real_processes(
    services, ingest_dirs, tmp_path
):
    inbox = Path(ingest_dirs["INGEST_INBOX_DIR"])
    dataset_inbox = tmp_path / "dataset-inbox"
    dataset_inbox.mkdir()
    scan_schedule_set(every=1)
    every_second, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    importers = {case["importer"] for case in corpus_cases() if case["importer"]}
    assert len(importers) == 1, "one declared-importer inbox serves the table"
    PeriodicTask.objects.create(
        name="Scan the dataset inbox",
        task="ingest.tasks.scan_inbox",
        interval=every_second,
        kwargs=json.dumps({"inbox": str(dataset_inbox), "importer": importers.pop()}),
    )
    allowed = {"INGEST_ALLOWED_ROOTS": str(tmp_path)}
    services.beat(**allowed)

    def by_env(case):
        return sorted(case_env(case).items())

    mismatches = []
    seen = 0
    cases = sorted(corpus_cases(), key=by_env)
    for number, (env, group) in enumerate(itertools.groupby(cases, key=by_env)):
        worker = services.worker(name=f"worker{number}", **allowed, **dict(env))
        for case in group:
            seen += 1
            Book.objects.all().delete()
            Author.objects.all().delete()
            InboxFile.objects.all().delete()
            if case["before"]:
                drop(inbox, case["before"])
                before = wait_until(
                    partial(final_row, case["before"]), DEADLINE, services=services
                )
                assert before.state == InboxFile.State.DONE, before.error
            drop(dataset_inbox if case["importer"] else inbox, case["file"])
            row = wait_until(
                partial(final_row, case["file"]), DEADLINE, services=services
            )
            expected = {"state": case["state"]} | {
                name: int(case[name]) for name in COUNTS
            }
            problems = []
            if outcome(row) != expected:
                problems.append(f"{outcome(row)} != {expected}")
            if case["error"] and case["error"] not in row.error:
                problems.append(f"error {row.error!r} lacks {case['error']!r}")
            if not case["error"] and row.error:
                problems.append(f"unexpected error {row.error!r}")
            if case["encoding"] and row.encoding != case["encoding"]:
                problems.append(f"encoding {row.encoding!r} != {case['encoding']!r}")
            if problems:
                mismatches.append((case["file"], problems))
        worker.stop()
    assert seen == len(corpus_cases())
    assert mismatches == []
