"""Guard the catalogue before a run and give back exactly what it took."""

from django.db import connection, transaction

from catalogue.models import Author, Book

from ..models import InboxFile


class BenchRefused(Exception):
    """The benchmark will not run here; the message says why."""


def catalogue_counts() -> dict[str, int]:
    return {"books": Book.objects.count(), "authors": Author.objects.count()}


def catalogue_snapshot() -> dict[str, int]:
    """Return the highest ids now, so cleanup can drop only newer rows."""
    with connection.cursor() as cursor:
        marks = {}
        for key, model in (("books", Book), ("authors", Author)):
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")
            marks[key] = cursor.fetchone()[0]
    return marks


def catalogue_guard(*, force: bool) -> dict[str, int]:
    """Refuse a non-empty catalogue unless forced; return the id marks."""
    counts = catalogue_counts()
    if any(counts.values()) and not force:
        raise BenchRefused(
            f"The catalogue is not empty ({counts['books']} books, "
            f"{counts['authors']} authors). Run the benchmark on a database of "
            "its own, or pass --force to add to this one (only rows the "
            "benchmark created are removed afterwards)."
        )
    return catalogue_snapshot()


def catalogue_restore(marks: dict[str, int]) -> None:
    """Remove the catalogue rows created since *marks* was taken.

    On a catalogue that was empty, ``TRUNCATE`` (PostgreSQL) leaves no dead
    rows behind for the next run to wade through.
    """
    books, authors = Book._meta.db_table, Author._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if not any(marks.values()) and connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {books}, {authors}")
            return
        cursor.execute(f"DELETE FROM {books} WHERE id > %s", [marks["books"]])
        cursor.execute(
            f"DELETE FROM {authors} WHERE id > %s AND NOT EXISTS "
            f"(SELECT 1 FROM {books} AS b WHERE b.author_id = {authors}.id)",
            [marks["authors"]],
        )


def ledger_forget(file_ids: list[int]) -> None:
    """Delete the benchmark's ledger entries (row errors cascade)."""
    InboxFile.objects.filter(pk__in=file_ids).delete()
