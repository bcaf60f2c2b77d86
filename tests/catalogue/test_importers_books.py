"""The books import behaves the same through both staging writers.

Every test runs through the real import service once per writer the
database has: the SQLite pass exercises ``executemany``; the PostgreSQL
pass exercises COPY and, forced, ``executemany`` again, so both writers are
held to the same set-based SQL and the same counts.
"""

import csv
import io

import pytest

from catalogue.models import Author, Book
from ingest import services
from ingest.importers import staging
from ingest.importers.staging import Staging
from ingest.models import InboxFile
from tests.factories import row_versions

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def pytest_generate_tests(metafunc):
    if "writer" in metafunc.fixturenames:
        from django.conf import settings

        engine = settings.DATABASES["default"]["ENGINE"]
        methods = ["copy", "batch"] if engine.endswith("postgresql") else ["batch"]
        metafunc.parametrize("writer", methods, indirect=True)


@pytest.fixture
def writer(request, monkeypatch, settings, published):
    """Force one staging writer for the service and check that it ran."""
    method = request.param
    settings.INGEST_MAX_REJECT_RATE = 1.0  # Rejections are counted, not refused.
    monkeypatch.setattr(Staging, "method", method)
    used = []
    for name in ("_copy_writer", "_batch_writer"):
        original = getattr(Staging, name)

        def spy(self, _original=original, _name=name):
            used.append(_name)
            return _original(self)

        monkeypatch.setattr(Staging, name, spy)
    yield method
    assert used and set(used) == {f"_{method}_writer"}


def books_file(tmp_path, rows, name="books.csv") -> str:
    """Write *rows* (header first) as real CSV, quoting what needs quotes."""
    buffer = io.StringIO()
    # Every text field quoted: the csv module would leave a lone CR bare.
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerows([("title", "author", "year"), *rows])
    path = tmp_path / name
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    return path


def import_rows(tmp_path, rows, name="books.csv") -> dict:
    path = books_file(tmp_path, rows, name)
    row = services.file_register_path(path=path)
    summary = services.file_import(file_id=row.pk, task_id=row.task_id)
    assert summary["status"] == InboxFile.State.DONE, summary
    return summary


def counts(summary: dict) -> tuple[int, int, int, int]:
    return (
        summary["total"],
        summary["imported"],
        summary["updated"],
        summary["rejected"],
    )


def years() -> dict[tuple[str, str], int]:
    return {
        (title, author): year
        for title, author, year in Book.objects.values_list(
            "title", "author__name", "published_year"
        )
    }


def test_a_key_repeated_in_one_file_keeps_the_last_row_and_counts_once(
    writer, tmp_path
):
    summary = import_rows(
        tmp_path,
        [("A", "B", 2000), ("C", "B", 2001), ("A", "B", 2005), ("A", "B", 2007)],
    )
    assert counts(summary) == (4, 2, 0, 0)
    assert summary["duplicates_in_file"] == 2
    assert years() == {("A", "B"): 2007, ("C", "B"): 2001}


def test_an_author_who_already_exists_is_reused_not_duplicated(writer, tmp_path):
    existing = Author.objects.create(name="Ліна Костенко")
    summary = import_rows(
        tmp_path, [("Маруся Чурай", "Ліна Костенко", 1979), ("X", "New One", 2000)]
    )
    assert counts(summary) == (2, 2, 0, 0)
    assert Author.objects.count() == 2
    assert Book.objects.get(title="Маруся Чурай").author_id == existing.pk


def test_a_book_whose_year_changed_is_updated_in_place(writer, tmp_path):
    author = Author.objects.create(name="B")
    book = Book.objects.create(title="A", author=author, published_year=2000)
    summary = import_rows(tmp_path, [("A", "B", 2001)])
    assert counts(summary) == (1, 0, 1, 0)
    assert Book.objects.get().pk == book.pk
    assert years() == {("A", "B"): 2001}


@pytest.fixture
def book_version():
    """Return a function whose value changes whenever a book row is written."""
    with row_versions(Book) as version:
        yield version


def test_an_unchanged_book_counts_as_updated_but_is_not_rewritten(
    writer, tmp_path, book_version
):
    """An upsert whose values are all equal writes no new row version."""
    author = Author.objects.create(name="B")
    Book.objects.create(title="A", author=author, published_year=2000)
    before = book_version()
    summary = import_rows(tmp_path, [("A", "B", 2000)])
    assert counts(summary) == (1, 0, 1, 0)
    assert book_version() == before, "the unchanged book was written again"
    assert Book.objects.count() == 1
    # The probe does see a write: a changed year is one.
    import_rows(tmp_path, [("A", "B", 2001)], name="books-2001.csv")
    assert book_version() != before


def test_non_ascii_titles_and_authors_round_trip(writer, tmp_path):
    rows = [
        ("Тіні забутих предків", "Михайло Коцюбинський", 1911),
        ("Straße nach Łódź — naïve café", "Zoë Ørsted", 1999),
        ("深夜特急 😀", "沢木耕太郎", 1986),
    ]
    summary = import_rows(tmp_path, rows)
    assert counts(summary) == (3, 3, 0, 0)
    assert years() == {(t, a): y for t, a, y in rows}


def test_a_title_at_the_column_limit_is_kept_and_one_over_is_rejected(writer, tmp_path):
    limit = Book.TITLE_MAX_LENGTH
    assert limit == 500
    rows = [
        ("a" * limit, "B", 2000),
        ("ї" * limit, "B", 2000),  # Characters, not bytes: 1000 bytes in UTF-8.
        ("b" * (limit + 1), "B", 2000),
    ]
    summary = import_rows(tmp_path, rows)
    assert counts(summary) == (3, 2, 0, 1)
    assert sorted(len(t) for t in Book.objects.values_list("title", flat=True)) == [
        limit,
        limit,
    ]
    rejection = InboxFile.objects.get().rejections.get()
    assert (rejection.line, rejection.column) == (4, "title")
    assert "501 characters" in rejection.message


AWKWARD = [
    "back\\slash",
    "ends with a backslash\\",
    "\\N",  # COPY's NULL marker, as text: must stay text.
    "tab\tinside",
    "new\nline inside",
    "carriage\rreturn inside",
    "crlf\r\ninside",
    'quotes "inside", and a comma',
    "None",  # The word a NULL would print as.
    "\\t\\n not escapes, just backslashes",
]


def test_tabs_backslashes_newlines_and_quotes_round_trip_exactly(writer, tmp_path):
    rows = [(title, "Au\tthor\\", 1900 + i) for i, title in enumerate(AWKWARD)]
    summary = import_rows(tmp_path, rows)
    assert counts(summary) == (len(AWKWARD), len(AWKWARD), 0, 0)
    assert years() == {(t, a): y for t, a, y in rows}


def test_awkward_rows_in_a_later_batch_round_trip_among_plain_ones(writer, tmp_path):
    """One batch takes the fast COPY formatting, the next must escape."""
    plain = [(f"Plain title {i}", f"Author {i % 7}", 2000) for i in range(5000)]
    rows = [*plain, ("tab\there", "Author 1", 1999), ("back\\slash", "X", 1998)]
    summary = import_rows(tmp_path, rows)
    assert counts(summary) == (5002, 5002, 0, 0)
    assert Book.objects.get(title="tab\there").published_year == 1999
    assert Book.objects.get(title="back\\slash").author.name == "X"


def test_a_mixed_file_counts_every_row_exactly(writer, tmp_path):
    author = Author.objects.create(name="Old")
    Book.objects.create(title="Same", author=author, published_year=1990)
    Book.objects.create(title="Changed", author=author, published_year=1990)
    summary = import_rows(
        tmp_path,
        [
            ("New", "Old", 2000),  # imported, existing author
            ("Same", "Old", 1990),  # updated (matched, unchanged)
            ("Changed", "Old", 1991),  # updated
            ("Fresh", "Newcomer", 2001),  # imported, new author
            ("Fresh", "Newcomer", 2002),  # same key again: last wins
            ("", "Old", 2000),  # rejected: empty title
            ("Bad year", "Old", "soon"),  # rejected: not a number
        ],
    )
    assert counts(summary) == (7, 2, 2, 2)
    assert summary["duplicates_in_file"] == 1
    assert Book.objects.count() == 4 and Author.objects.count() == 2
    assert years() == {
        ("Same", "Old"): 1990,
        ("Changed", "Old"): 1991,
        ("New", "Old"): 2000,
        ("Fresh", "Newcomer"): 2002,
    }


def test_reimporting_the_same_rows_under_another_name_updates_in_place(
    writer, tmp_path
):
    rows = [(f"T{i}", f"A{i % 3}", 1950 + i) for i in range(30)]
    first = import_rows(tmp_path, rows, name="books-1.csv")
    second = import_rows(tmp_path, [*rows, ("T0", "A0", 1950)], name="books-2.csv")
    assert counts(first) == (30, 30, 0, 0)
    assert counts(second) == (31, 0, 30, 0)
    assert Book.objects.count() == 30


def test_copy_text_escapes_only_when_it_must():
    plain = [(2, "Title", "Author", 2000)]
    assert staging.copy_text(plain, 4) == "2\tTitle\tAuthor\t2000\n"
    awkward = [(3, "a\\b\tc\nd\re", None, 5)]
    assert staging.copy_text(awkward, 4) == "3\ta\\\\b\\tc\\nd\\re\t\\N\t5\n"
