"""Importing a file: counts, archive, duplicates, failures, idempotency."""

import json
from pathlib import Path

import pytest
from django.core import mail
from django_celery_results.models import TaskResult

from ingest import services
from ingest.models import InboxFile, RowRejection
from tests.factories import drop, issn, journals_csv
from tests.testapp.models import Journal

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State
JOURNALS = journals_csv(
    ("0028-0836", "Nature", 1869),
    ("0036-8075", "Science", 1880),
    ("0140-6736", "The Lancet", 1823),
)


def test_a_file_is_imported_archived_stored_and_emailed(eager):
    drop("journals.csv", JOURNALS)
    services.inbox_scan()
    row = InboxFile.objects.get()
    assert row.state == State.DONE
    assert (row.rows_total, row.rows_imported, row.rows_updated, row.rows_rejected) == (
        3,
        3,
        0,
        0,
    )
    nature = Journal.objects.get(issn="0028-0836")
    assert (nature.title, nature.year) == ("Nature", 1869)
    assert Journal.objects.count() == 3
    assert Path(row.stored_path).exists() and "/archive/" in row.stored_path
    assert not row.processing_path.exists()
    result = TaskResult.objects.get(task_id=row.task_id)
    assert result.status == "SUCCESS"
    summary = json.loads(result.result)
    assert summary["status"] == "done" and summary["imported"] == 3
    assert summary["file"] == "journals.csv"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.startswith(
        "Import finished: journals.csv — 3 imported, 0 updated, 0 rejected rows"
    )
    assert mail.outbox[0].to == ["ops@example.com"]
    assert InboxFile.objects.get().notify_state == InboxFile.Notify.SENT


def test_the_same_content_again_is_a_duplicate_and_imports_nothing(eager):
    drop("journals.csv", journals_csv(("0028-0836", "Nature", 1869)))
    services.inbox_scan()
    Journal.objects.update(year=1999)  # A change the twin must not undo.
    drop("journals-again.csv", journals_csv(("0028-0836", "Nature", 1869)))
    services.inbox_scan()
    twin = InboxFile.objects.get(name="journals-again.csv")
    assert twin.state == State.DUPLICATE
    assert twin.duplicate_of == InboxFile.objects.get(name="journals.csv")
    assert Journal.objects.get().year == 1999
    assert Path(twin.stored_path).exists()
    assert [m.subject.split(":")[0] for m in mail.outbox] == [
        "Import finished",
        "Import skipped",
    ]


def test_importing_the_same_rows_again_updates_and_never_duplicates(eager):
    drop("journals-a.csv", journals_csv(("A", "Alpha", 2000), ("C", "Gamma", 2001)))
    services.inbox_scan()
    drop("journals-b.csv", journals_csv(("A", "Alpha", 2010), ("D", "Delta", 1990)))
    services.inbox_scan()
    second = InboxFile.objects.get(name="journals-b.csv")
    assert (second.rows_imported, second.rows_updated) == (1, 1)
    assert sorted(Journal.objects.values_list("issn", "year")) == [
        ("A", 2010),
        ("C", 2001),
        ("D", 1990),
    ]


def test_bad_rows_are_skipped_counted_and_recorded(eager, settings):
    settings.INGEST_MAX_REJECT_RATE = 1.0  # The share policy has its own tests.
    drop(
        "journals.csv",
        journals_csv(("0001", "Good", 2000), ("0002", "", 2000), ("", "T", 2000))
        + "0004,Bad year,abc\n",
    )
    services.inbox_scan()
    row = InboxFile.objects.get()
    assert row.state == State.DONE
    assert (row.rows_imported, row.rows_rejected, row.rows_total) == (1, 3, 4)
    errors = list(RowRejection.objects.values_list("line", "column", "message"))
    assert errors == [
        (3, "title", "title is empty"),
        (4, "issn", "issn is empty"),
        (5, "year", "year 'abc' is not a whole number"),
    ]


def test_a_reimport_shows_only_its_own_rejected_rows(eager, settings):
    """The last run's rejected rows go when the file is queued again."""
    settings.INGEST_MAX_REJECT_RATE = 1.0
    drop(
        "journals.csv",
        journals_csv(("0001-0001", "Good", 2000), ("0001-0002", "", 2000)),
    )
    services.inbox_scan()
    row = InboxFile.objects.get()
    assert RowRejection.objects.filter(file=row).count() == 1
    # Fixed in place, then re-imported: now nothing is rejected.
    Path(row.stored_path).write_text(journals_csv(("0001-0001", "Good", 2000)))
    assert services.files_requeue(files=[row]) == 1
    row.refresh_from_db()
    assert (row.state, row.rows_rejected) == (State.DONE, 0)
    assert not RowRejection.objects.filter(file=row).exists()
    # Broken in place: a failure before any row is read shows none either.
    InboxFile.objects.filter(pk=row.pk).update(rows_rejected=1)
    RowRejection.objects.create(file=row, line=2, message="old", raw=[])
    Path(row.stored_path).write_text("isbn,when\nA,2000\n")
    assert services.files_requeue(files=[row]) == 1
    row.refresh_from_db()
    assert row.state == State.FAILED
    assert not RowRejection.objects.filter(file=row).exists()


def test_rejected_rows_an_attempt_that_died_recorded_are_replaced(published):
    drop("journals.csv", journals_csv(("0001-0001", "Good", 2000)))
    services.inbox_scan()
    row = InboxFile.objects.get()
    # A worker died after recording rejections; the scan requeued the file.
    InboxFile.objects.filter(pk=row.pk).update(attempts=1)
    RowRejection.objects.create(file=row, line=9, message="stale", raw=[])
    summary = services.file_import(file_id=row.pk, task_id=row.task_id)
    assert summary["status"] == State.DONE and summary["rejected"] == 0
    assert not RowRejection.objects.filter(file=row).exists()


def test_a_file_whose_header_matches_no_dataset_fails_with_a_reason_file(eager):
    drop("journals.csv", "isbn,when\nA,2000\n")
    services.inbox_scan()
    row = InboxFile.objects.get()
    assert row.state == State.FAILED
    assert row.error == (
        'Header "isbn, when" matches no dataset: journals needs issn, title '
        '(missing: issn, title; "isbn" is not a column of journals: did you mean '
        "issn?); publishers needs name (missing: name)."
    )
    assert "/failed/" in row.stored_path and Path(row.stored_path).exists()
    reason = Path(row.stored_path + ".error.txt").read_text()
    assert "matches no dataset" in reason
    assert mail.outbox[0].subject.startswith(
        'Import failed: journals.csv — Header "isbn, when" matches no dataset'
    )
    assert not Journal.objects.exists()


def test_a_redelivered_message_does_nothing(eager, published):
    drop("journals.csv", journals_csv(("A", "Alpha", 2000)))
    services.inbox_scan()
    row = InboxFile.objects.get()
    first = services.file_import(file_id=row.pk, task_id=row.task_id)
    second = services.file_import(file_id=row.pk, task_id=row.task_id)
    assert first["status"] == "done" and second["status"] == "skipped"
    assert InboxFile.objects.get().attempts == 1
    assert Journal.objects.count() == 1


def test_a_stale_message_from_before_a_requeue_is_ignored(published):
    drop("journals.csv", journals_csv(("A", "Alpha", 2000)))
    services.inbox_scan()
    row = InboxFile.objects.get()
    assert (
        services.file_import(file_id=row.pk, task_id="not-the-ledger-task-id")["status"]
        == "skipped"
    )
    assert InboxFile.objects.get().state == State.QUEUED


def test_reimport_of_a_failed_file_runs_it_again(eager):
    drop("journals.csv", "isbn\nA\n")
    services.inbox_scan()
    row = InboxFile.objects.get()
    assert row.state == State.FAILED
    # Someone fixes the file in failed/ and asks for another try.
    Path(row.stored_path).write_text(journals_csv(("A", "Alpha", 2000)))
    assert services.files_requeue(files=InboxFile.objects.all()) == 1
    row.refresh_from_db()
    assert row.state == State.DONE and row.rows_imported == 1
    assert "/archive/" in row.stored_path and Path(row.stored_path).exists()


def test_an_import_gives_up_after_the_maximum_attempts(settings, published):
    settings.INGEST_MAX_ATTEMPTS = 2
    drop("journals.csv", journals_csv(("A", "Alpha", 2000)))
    services.inbox_scan()
    row = InboxFile.objects.get()
    InboxFile.objects.update(attempts=2)
    result = services.file_import(file_id=row.pk, task_id=row.task_id)
    assert (
        result["status"] == "failed" and "Gave up after 2 attempts" in result["error"]
    )


class SteppingClock:
    """A monotonic clock that moves one second each time it is read.

    The import reads the clock once per progress check (once a batch), so
    the interval in seconds is also the interval in batches: the expected
    reports do not depend on how fast this machine is.
    """

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        self.now += 1.0
        return self.now


@pytest.mark.parametrize(
    ("interval", "reported_batches"),
    [
        (0, [1, 2, 3, 4]),  # Every batch.
        (2.5, [1, 4]),  # The 1st check (t=1 s) and the 4th (t=4 s).
        (3600, [1]),  # Only the first check.
    ],
)
def test_progress_is_reported_at_most_once_per_interval(
    settings, published, monkeypatch, interval, reported_batches
):
    """INGEST_PROGRESS_INTERVAL spaces the reports; the final 100 % always comes."""
    from ingest import progress
    from ingest.importers.pipeline import BATCH_ROWS

    settings.INGEST_PROGRESS_INTERVAL = interval
    monkeypatch.setattr(progress, "time", SteppingClock())
    total = 4 * BATCH_ROWS + 100  # Four full batches and a short last one.
    drop(
        "journals.csv", journals_csv(*[(issn(i), f"T{i}", 2000) for i in range(total)])
    )
    services.inbox_scan()
    row = InboxFile.objects.get()
    reports = []
    services.file_import(
        file_id=row.pk, task_id=row.task_id, progress_sink=reports.append
    )
    assert [report["rows"] for report in reports] == [
        *(batch * BATCH_ROWS for batch in reported_batches),
        total,
    ]
    assert reports[-1]["percent"] == 100.0


def test_the_ingest_file_command_imports_synchronously_and_fails_on_rejection(tmp_path):
    from django.core.management import CommandError, call_command

    good = tmp_path / "journals.csv"
    good.write_text(journals_csv(("A", "Alpha", 2000)))
    call_command("ingest_file", str(good))
    assert good.exists()  # The caller's file is copied, never moved.
    assert InboxFile.objects.get().state == State.DONE
    bad = tmp_path / "bad.csv"
    bad.write_text(journals_csv(("C", "Gamma", "soon"), ("E", "Epsilon", 2001)))
    with pytest.raises(CommandError, match=r"1 of 2 rows .* are invalid"):
        call_command("ingest_file", str(bad))
    refused = InboxFile.objects.get(name="bad.csv")
    assert (refused.state, refused.rows_rejected) == (State.FAILED, 1)
    assert list(Journal.objects.values_list("issn", flat=True)) == ["A"]
