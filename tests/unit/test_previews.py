"""Previews: read a file as its import would, write nothing, confirm or cancel.

Unmarked, so both passes run them: SQLite (executemany staging) and
PostgreSQL (COPY staging).
"""

import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from ingest import services
from ingest.importers import next_year
from ingest.models import Inbox, InboxFile, RowRejection
from tests.factories import default_inbox, drop, hold_lock_elsewhere, journals_csv
from tests.testapp.models import Journal, Publisher

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State

#: One row each: unchanged, updated (year differs), new, rejected (bad
#: year), and one key repeated inside the file.
MIXED = journals_csv(
    ("0028-0836", "Nature", 1869),
    ("0036-8075", "Science", 1880),
    ("0140-6736", "The Lancet", 1823),
    ("0000-0000", "Погана", "abc"),
    ("0140-6736", "The Lancet", 1824),
)


@pytest.fixture
def journals():
    """Two journals already imported: one the file repeats, one it changes."""
    Journal.objects.create(issn="0028-0836", title="Nature", year=1869)
    Journal.objects.create(issn="0036-8075", title="Science", year=1879)


@pytest.fixture(autouse=True)
def lenient(settings):
    """One bad row in five must not refuse the whole file here."""
    settings.INGEST_MAX_REJECT_RATE = 0.5


def dataset_rows() -> tuple[list, list]:
    return (
        list(Journal.objects.order_by("pk").values_list()),
        list(Publisher.objects.order_by("pk").values_list()),
    )


def previewed(content: str = MIXED, name: str = "journals.csv", **kwargs) -> InboxFile:
    """Upload *content* for preview and compute it, as the worker would."""
    row = services.file_upload(
        name=name, chunks=[content.encode()], preview=True, **kwargs
    )
    assert row.state == State.PREVIEW
    outcome = services.file_preview(file_id=row.pk, task_id=row.task_id)
    assert outcome["status"] in ("ready", "failed"), outcome
    row.refresh_from_db()
    return row


def test_a_preview_counts_new_updated_unchanged_and_rejected_rows(journals, published):
    """The real import's counts, split into new, changed and unchanged rows."""
    row = previewed()

    preview = row.preview
    assert preview["status"] == "ready"
    assert (preview["new"], preview["updated"], preview["unchanged"]) == (1, 1, 1)
    assert (preview["rejected"], preview["total"], preview["repeated"]) == (1, 5, 1)
    assert preview["refusal"] == ""
    assert preview["dataset"] == "journals" and preview["chosen_by"] == "header"
    assert preview["mapping"] == [
        ["issn", "issn", "text(9)"],
        ["title", "title", "text(200)"],
        ["year", "year", f"integer(1600..{next_year()})"],
        ["", "publisher", "text(100)"],
    ]
    assert preview["formats"] == {"decimal": ".", "decimal_from": "language"}
    assert preview["columns"] == ["issn", "title", "year", "publisher"]
    assert preview["rows"][0] == [2, "0028-0836", "Nature", 1869, ""]
    assert len(preview["rows"]) == 4
    assert preview["encoding"] and preview["delimiter"] == ","
    assert preview["sha256"] == row.sha256 and row.sha256
    (rejection,) = RowRejection.objects.filter(file=row)
    assert (rejection.line, rejection.column) == (5, "year")
    assert published[0]["task"] == "ingest.tasks.preview_file"


def test_a_preview_leaves_the_dataset_untouched(journals, published):
    """Nothing the rolled-back import wrote survives, not even a new journal."""
    before = dataset_rows()
    previewed()
    assert dataset_rows() == before
    assert not Journal.objects.filter(issn="0140-6736").exists()


def test_a_confirmed_preview_imports_what_it_counted(journals, eager):
    """Confirming queues the same file; its import matches the preview."""
    row = previewed()
    services.file_preview_confirm(file_id=row.pk, version=row.task_id)
    row.refresh_from_db()
    assert row.state == State.DONE, row.error
    assert (row.rows_imported, row.rows_updated, row.rows_rejected) == (1, 2, 1)
    assert Journal.objects.get(title="Science").year == 1880
    assert Journal.objects.get(title="The Lancet").year == 1824


def test_confirm_refuses_a_file_changed_since_its_preview(journals, published):
    """The content hash is checked: a file edited after the preview is refused."""
    row = previewed()
    before = dataset_rows()
    Path(row.processing_path).write_text(journals_csv(("9999-9999", "Інша", 2000)))

    with pytest.raises(services.PreviewRefused, match="changed since"):
        services.file_preview_confirm(file_id=row.pk, version=row.task_id)

    row.refresh_from_db()
    assert row.state == State.PREVIEW
    assert dataset_rows() == before


def test_the_import_refuses_a_file_changed_after_it_was_confirmed(journals, published):
    """A change between confirm and import fails the file; nothing is written."""
    row = previewed()
    services.file_preview_confirm(file_id=row.pk, version=row.task_id)
    row.refresh_from_db()
    Path(row.processing_path).write_text(journals_csv(("9999-9999", "Інша", 2000)))
    before = dataset_rows()

    services.file_import(file_id=row.pk, task_id=row.task_id)

    row.refresh_from_db()
    assert row.state == State.FAILED
    assert "changed after" in row.error
    assert dataset_rows() == before


def test_confirm_refuses_an_older_version_of_the_preview(journals, published):
    """A preview recomputed since the person looked must be looked at again."""
    row = previewed()
    seen = row.task_id
    services.file_preview_change(file_id=row.pk, importer="journals")
    with pytest.raises(services.PreviewRefused):
        services.file_preview_confirm(file_id=row.pk, version=seen)
    assert InboxFile.objects.get(pk=row.pk).state == State.PREVIEW


def test_a_changed_dataset_is_previewed_again_and_stale_results_are_dropped(
    published,
):
    """A person's dataset wins; a computation of the old version records nothing."""
    content = "name,country\nSpringer,DE\n"
    row = previewed(content, name="houses.csv")
    assert row.preview["dataset"] == "publishers"
    old_version = row.task_id

    services.file_preview_change(file_id=row.pk, importer="journals")
    assert services.file_preview(file_id=row.pk, task_id=old_version)["status"] == (
        "skipped"
    )
    row.refresh_from_db()
    assert row.preview == {"status": "pending"}
    services.file_preview(file_id=row.pk, task_id=row.task_id)
    row.refresh_from_db()
    assert row.preview["status"] == "failed"
    assert "Missing column" in row.preview["reason"]
    assert row.importer_chosen_by == InboxFile.ChosenBy.PERSON


def test_cancel_deletes_the_preview_and_its_file(published):
    row = previewed()
    path = row.processing_path
    assert path.exists()

    assert services.file_preview_cancel(file_id=row.pk) is True

    assert not InboxFile.objects.filter(pk=row.pk).exists()
    assert not path.exists()
    assert services.file_preview_cancel(file_id=row.pk) is False


def test_no_scan_imports_a_preview(published):
    """A scan's repair leaves preview rows and their files where they are."""
    row = previewed()
    InboxFile.objects.filter(pk=row.pk).update(
        queued_at=timezone.now() - datetime.timedelta(days=1),
        dispatched_at=timezone.now() - datetime.timedelta(days=1),
    )
    published.clear()
    services.inbox_scan()
    row.refresh_from_db()
    assert row.state == State.PREVIEW
    assert row.processing_path.exists()
    assert published == []


def test_a_lost_preview_message_is_resent_by_a_scan(published):
    row = services.file_upload(name="b.csv", chunks=[MIXED.encode()], preview=True)
    InboxFile.objects.filter(pk=row.pk).update(
        queued_at=timezone.now() - datetime.timedelta(hours=1), dispatched_at=None
    )
    published.clear()
    summary = services.inbox_scan()
    assert summary["previews_resent"] == 1
    assert published[0]["task"] == "ingest.tasks.preview_file"


def test_a_preview_first_inbox_holds_its_files_until_confirmed(published):
    inbox = default_inbox()
    Inbox.objects.filter(pk=inbox.pk).update(preview_first=True)
    drop("journals.csv", MIXED)

    services.inbox_scan()

    row = InboxFile.objects.get()
    assert row.state == State.PREVIEW
    assert [call["task"] for call in published] == ["ingest.tasks.preview_file"]


def test_expiry_removes_uploads_and_fails_inbox_files_unconfirmed_in_time(
    published, settings
):
    """Old previews go; an inbox's file is failed with its reason, not lost."""
    settings.INGEST_PREVIEW_KEEP = 3600
    upload = previewed()
    kept = previewed(name="recent.csv", content=journals_csv(("A", "Alpha", 2000)))
    inbox = default_inbox()
    Inbox.objects.filter(pk=inbox.pk).update(preview_first=True)
    drop("feed.csv", journals_csv(("C", "Gamma", 2001)))
    services.inbox_scan()
    feed = InboxFile.objects.get(name="feed.csv")
    old = timezone.now() - datetime.timedelta(hours=2)
    InboxFile.objects.filter(pk__in=[upload.pk, feed.pk]).update(discovered_at=old)

    assert services.previews_expire() == {"deleted": 1, "failed": 1}
    assert services.previews_expire() == {"deleted": 0, "failed": 0}

    assert not InboxFile.objects.filter(pk=upload.pk).exists()
    assert not upload.processing_path.exists()
    assert InboxFile.objects.get(pk=kept.pk).state == State.PREVIEW
    feed.refresh_from_db()
    assert feed.state == State.FAILED and "INGEST_PREVIEW_KEEP" in feed.error
    assert Path(feed.stored_path).exists()


def test_the_expiry_schedule_is_created_hourly_once_and_staff_keep_it():
    """The schedule is made once; a later run leaves what staff changed."""
    from django_celery_beat.models import PeriodicTask

    assert services.previews_schedule_ensure() is True
    assert services.previews_schedule_ensure() is False
    (task,) = PeriodicTask.objects.filter(task="ingest.tasks.expire_previews")
    assert (task.interval.every, task.interval.period) == (1, "hours")
    assert task.enabled
    PeriodicTask.objects.filter(pk=task.pk).update(enabled=False)
    assert services.previews_schedule_ensure() is False
    assert not PeriodicTask.objects.get(pk=task.pk).enabled


def test_a_preview_of_content_already_imported_says_so_and_imports_nothing(
    journals, eager
):
    """Confirmed, a second copy of imported content becomes a duplicate."""
    first = previewed()
    services.file_preview_confirm(file_id=first.pk)
    assert InboxFile.objects.get(pk=first.pk).state == State.DONE
    before = dataset_rows()

    again = previewed(name="again.csv")
    assert again.preview["duplicate_of"] == first.pk
    services.file_preview_confirm(file_id=again.pk)

    again.refresh_from_db()
    assert (again.state, again.duplicate_of_id) == (State.DUPLICATE, first.pk)
    assert dataset_rows() == before


def test_a_preview_whose_file_is_being_read_is_busy_not_lost(published):
    """Another computation holds the file: the task is told to try again."""
    row = services.file_upload(name="b.csv", chunks=[MIXED.encode()], preview=True)
    with hold_lock_elsewhere(row.pk):
        outcome = services.file_preview(file_id=row.pk, task_id=row.task_id)
    assert outcome["status"] == "busy"
    assert InboxFile.objects.get(pk=row.pk).preview == {"status": "pending"}
