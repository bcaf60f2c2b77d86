"""Every corpus file gets its expected outcome through scan → import → email.

The table is ``tests/data/expected.csv`` (format in tests/data/README.md).
Runs on both passes: SQLite + filesystem broker, PostgreSQL + Redis.
"""

import filecmp
from pathlib import Path

import pytest
from django.core import mail

from ingest import services, tasks
from ingest.importers.reader import csv_open
from ingest.models import InboxFile
from tests.data import (
    CORPUS,
    COUNTS,
    DATA,
    case_env,
    corpus_cases,
    dialect_problems,
    first_rejection_problems,
    make_corpus,
)
from tests.factories import drop


def scan(*, importer: str = "") -> None:
    """Run the scan task as beat would, for an inbox whose dataset is *importer*."""
    inbox = services.inbox_default()
    inbox.importer = importer
    inbox.save()
    tasks.scan_inbox.apply_async(kwargs={"inbox_id": inbox.pk}).get()


def imported(name: str, *, importer: str = "") -> InboxFile:
    drop(name, (CORPUS / name).read_bytes())
    scan(importer=importer)
    return InboxFile.objects.get(name=name)


def test_the_corpus_is_large_and_matches_its_generator(tmp_path):
    cases = corpus_cases()
    assert len(cases) >= 80
    assert sorted(c["file"] for c in cases) == sorted(p.name for p in CORPUS.iterdir())
    make_corpus.main(tmp_path)
    assert filecmp.cmp(tmp_path / "expected.csv", DATA / "expected.csv", False)
    _match, mismatch, errors = filecmp.cmpfiles(
        tmp_path / "corpus", CORPUS, [c["file"] for c in cases], shallow=False
    )
    assert (mismatch, errors) == ([], [])


@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.parametrize("case", corpus_cases(), ids=lambda case: case["file"])
def test_corpus_file_gets_its_expected_outcome(case, eager, settings):
    for key, value in case_env(case).items():
        setattr(settings, key, value)
    if case["before"]:
        assert imported(case["before"]).state == InboxFile.State.DONE
    row = imported(case["file"], importer=case["importer"])

    outcome = {"state": row.state} | {
        name: getattr(row, f"rows_{name}") for name in COUNTS
    }
    expected = {"state": case["state"]} | {name: int(case[name]) for name in COUNTS}
    assert outcome == expected, row.error
    assert (row.importer, row.importer_chosen_by) == (
        case["dataset"],
        case["chosen_by"],
    )
    if case["error"]:
        assert case["error"] in row.error
    else:
        assert row.error == ""
    if case["encoding"]:
        assert row.encoding == case["encoding"]
    assert row.rejections.count() == row.rows_rejected
    first = row.rejections.order_by("line").first()
    assert first_rejection_problems(case, first) == []
    assert not row.processing_path.exists() and Path(row.stored_path).exists()
    if row.state == InboxFile.State.FAILED:
        assert "/failed/" in row.stored_path
        reason = Path(row.stored_path + ".error.txt").read_text(encoding="utf-8")
        assert case["error"] in reason
        assert "\n" not in reason.rstrip("\n")  # One paragraph.
    else:
        assert "/archive/" in row.stored_path
    # The email about this file, not the last one sent (a "before" file has
    # its own): its body names this ledger entry.
    about = [m for m in mail.outbox if f"Ledger:    #{row.pk} (" in m.body]
    assert len(about) == 1, [m.subject for m in mail.outbox]
    verb = {
        "done": "Import finished",
        "failed": "Import failed",
        "duplicate": "Import skipped",
    }[row.state]
    assert about[0].subject.startswith(f"{verb}: {row.name} — "), about[0].subject


@pytest.mark.parametrize(
    "case", [c for c in corpus_cases() if c["dialect"]], ids=lambda case: case["file"]
)
def test_corpus_file_is_read_with_its_expected_dialect(case):
    with csv_open(CORPUS / case["file"]) as source:
        for _row in source.rows:
            pass
        detected = source.described()
    assert dialect_problems(case, detected) == []
