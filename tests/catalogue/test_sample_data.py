"""The shipped sample, ``catalogue/data/books.csv``: what the quick start drops."""

import json
from pathlib import Path

import pytest
from django.core import mail
from django_celery_results.models import TaskResult

from catalogue.models import Author, Book
from ingest import services
from ingest.models import InboxFile
from tests.factories import drop

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State
BOOKS = Path(__file__).resolve().parents[2] / "catalogue" / "data" / "books.csv"


def test_the_example_file_is_imported_archived_stored_and_emailed(eager):
    drop("books.csv", BOOKS.read_text(encoding="utf-8"))
    services.inbox_scan()
    row = InboxFile.objects.get()
    assert (row.state, row.importer, row.importer_chosen_by) == (
        State.DONE,
        "books",
        "header",
    )
    assert (row.rows_total, row.rows_imported, row.rows_updated, row.rows_rejected) == (
        3,
        3,
        0,
        0,
    )
    assert Book.objects.get(title="Кобзар").author.name == "Тарас Шевченко"
    assert Book.objects.get(title="Кобзар").published_year == 1840
    assert Book.objects.count() == Author.objects.count() == 3
    assert Path(row.stored_path).exists() and "/archive/" in row.stored_path
    summary = json.loads(TaskResult.objects.get(task_id=row.task_id).result)
    assert summary["status"] == "done" and summary["file"] == "books.csv"
    (message,) = mail.outbox
    assert message.subject.startswith(
        "Import finished: books.csv — 3 imported, 0 updated, 0 rejected rows"
    )
