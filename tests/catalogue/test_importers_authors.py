"""The declarative importer seam: columns, cleaning, the authors dataset, choice.

Books is the reference dataset; authors proves a new one is only a
declaration (columns, model, natural key) on top of the generic upsert.
"""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from django_celery_beat.schedulers import ModelEntry

from catalogue.importers import AuthorsImporter, BooksImporter
from catalogue.models import Author, Book
from ingest import services, tasks
from ingest.importers import RowError
from ingest.importers.base import Column, next_year
from ingest.models import InboxFile
from myproject.celery import app as celery_app
from tests.factories import books_csv, drop

State = InboxFile.State
AUTHORS_HEADER = "name,birth_year,country\n"
db = pytest.mark.django_db(transaction=True, databases="__all__")


def authors_csv(*rows: tuple[str, object, str]) -> str:
    return AUTHORS_HEADER + "".join(f"{n},{y},{c}\n" for n, y, c in rows)


def imported(name: str, content: str, **scan) -> InboxFile:
    drop(name, content)
    services.inbox_scan(**scan)
    return InboxFile.objects.get(name=name)


# --- Columns and cleaning (no database) ------------------------------------


@pytest.mark.parametrize(
    "heading", ["year", " YEAR ", "Published_Year", "published  year", "Рік"]
)
def test_headings_match_ignoring_case_spacing_and_underscores(heading):
    year = Column("year", aliases=("published_year", "рік"))
    assert year.matches(heading)


def test_a_heading_that_only_contains_the_name_does_not_match():
    assert not Column("year").matches("year of birth")


def test_clean_trims_and_converts_a_good_row():
    assert BooksImporter().clean(["  Кобзар ", " Шевченко", " 1840 "]) == (
        "Кобзар",
        "Шевченко",
        1840,
    )


@pytest.mark.parametrize(
    ("values", "column", "message"),
    [
        (["", "A", "2000"], "title", "title is empty"),
        (["T", "   ", "2000"], "author", "author is empty"),
        (["T", "A", ""], "year", "year is empty"),
        (["T", "A", "abc"], "year", "year 'abc' is not a whole number"),
        (["T", "A", "1_999"], "year", "year '1_999' is not a whole number"),
        (["T", "A", "2000.5"], "year", "year '2000.5' is not a whole number"),
        (["T", "A", "-5"], "year", "year -5 is outside 1.."),
        (
            ["T" * 501, "A", "2000"],
            "title",
            "title is 501 characters; the limit is 500",
        ),
        (["T", "A" * 256, "2000"], "author", "author is 256 characters; the limit"),
    ],
)
def test_clean_refuses_a_bad_value_naming_its_column(values, column, message):
    with pytest.raises(RowError) as caught:
        BooksImporter().clean(values)
    assert caught.value.column == column
    assert caught.value.message.startswith(message)


def test_the_latest_year_allowed_is_next_year():
    books = BooksImporter()
    assert books.clean(["T", "A", str(next_year())])[2] == next_year()
    with pytest.raises(RowError, match="outside"):
        books.clean(["T", "A", str(next_year() + 1)])


def test_blank_optional_author_fields_become_null_and_empty():
    assert AuthorsImporter().clean(["Homer", "", " "]) == ("Homer", None, "")


def test_staging_columns_follow_the_declared_columns():
    assert AuthorsImporter.staging_columns == (
        ("name", "TEXT"),
        ("birth_year", "INTEGER"),
        ("country", "TEXT"),
    )


# --- The authors dataset end to end ----------------------------------------


@db
def test_an_authors_file_creates_authors_with_birth_year_and_country(eager):
    row = imported(
        "authors.csv",
        authors_csv(("Тарас Шевченко", 1814, "Україна"), ("Homer", "", "")),
    )
    assert (row.state, row.importer, row.rows_imported) == (State.DONE, "authors", 2)
    assert list(Author.objects.values_list("name", "birth_year", "country")) == [
        ("Homer", None, ""),
        ("Тарас Шевченко", 1814, "Україна"),
    ]


@db
def test_authors_known_from_books_are_updated_and_their_books_kept(eager):
    imported("books.csv", books_csv(("Кобзар", "Тарас Шевченко", 1840)))
    row = imported("authors.csv", authors_csv(("Тарас Шевченко", 1814, "Україна")))
    assert (row.rows_imported, row.rows_updated) == (0, 1)
    author = Author.objects.get()
    assert (author.birth_year, author.country) == (1814, "Україна")
    assert Book.objects.get().author == author


@db
def test_the_last_row_wins_for_a_name_repeated_in_one_file(eager):
    row = imported(
        "authors.csv", authors_csv(("A", 1900, "X"), ("B", 1901, ""), ("A", 1902, "Y"))
    )
    assert (row.rows_total, row.rows_imported, row.rows_updated) == (3, 2, 0)
    assert Author.objects.get(name="A").birth_year == 1902


@db
def test_books_still_insert_authors_after_the_new_author_columns(eager):
    imported("books.csv", books_csv(("T", "New Author", 2000)))
    author = Author.objects.get()
    assert (author.birth_year, author.country) == (None, "")


# --- Choosing the importer through the schedule ----------------------------


@db
def test_the_scans_importer_kwarg_wins_over_the_file_name(eager):
    row = imported(
        "books-really-authors.csv", authors_csv(("A", 1900, "X")), importer="authors"
    )
    assert (row.state, row.importer) == (State.DONE, "authors")
    assert Author.objects.get().country == "X" and not Book.objects.exists()


@db
def test_a_deprecated_periodic_tasks_kwargs_still_choose_inbox_and_importer(
    eager, settings, tmp_path
):
    """Pre-Inbox kwargs keep working for one release, with a warning."""
    people = tmp_path / "people"
    people.mkdir()
    settings.INGEST_ALLOWED_ROOTS = [str(people)]
    every, _ = IntervalSchedule.objects.get_or_create(every=10, period="seconds")
    schedule = PeriodicTask.objects.create(
        name="Scan people",
        task="ingest.tasks.scan_inbox",
        interval=every,
        kwargs=json.dumps({"inbox": str(people), "importer": "authors"}),
    )
    drop("export.csv", authors_csv(("A", 1900, "X")), inbox=people)
    entry = ModelEntry(schedule, app=celery_app)
    # What beat sends for this entry, run inline.
    with pytest.warns(DeprecationWarning, match="create an Inbox"):
        tasks.scan_inbox.apply_async(args=entry.args, kwargs=entry.kwargs).get()
    row = InboxFile.objects.get()
    assert (row.name, row.folder, row.importer) == (
        "export.csv",
        str(people),
        "authors",
    )
    assert (row.importer_chosen_by, row.inbox) == ("inbox", None)
    assert (row.state, row.rows_imported) == (State.DONE, 1)


@db
def test_an_unknown_dataset_for_a_scan_fails_the_scan_loudly():
    drop("books.csv", books_csv(("T", "A", 2000)))
    with pytest.raises(ImproperlyConfigured, match="Unknown dataset 'films'"):
        services.inbox_scan(importer="films")
    assert not InboxFile.objects.exists()


@db
def test_a_file_whose_header_matches_no_dataset_fails_with_a_clear_reason(eager):
    row = imported("export.csv", b"isbn,pages\n123,10\n")
    assert row.state == State.FAILED
    assert row.error.startswith('Header "isbn, pages" matches no dataset: ')
    assert "books needs title, author, year (missing: title, author, year)" in row.error
    assert "authors needs name (missing: name)" in row.error
    assert not Book.objects.exists()
