"""The book catalogue: ``title,author,year`` → :class:`Author`, :class:`Book`."""

import datetime

from ..models import Author, Book
from .base import Column, Importer, RowError

AUTHOR_MAX_LENGTH = Author._meta.get_field("name").max_length
TITLE_MAX_LENGTH = Book.TITLE_MAX_LENGTH
MIN_YEAR = 1


class BooksImporter(Importer):
    """Upsert books by their natural key (title, author); the last row wins."""

    name = "books"
    columns = (
        Column("title", aliases=("назва",)),
        Column("author", aliases=("автор",)),
        Column("year", aliases=("published_year", "рік")),
    )
    filename_prefixes = ("books",)
    staging_columns = (("title", "TEXT"), ("author", "TEXT"), ("year", "INTEGER"))

    def __init__(self) -> None:
        self.max_year = datetime.date.today().year + 1

    def clean(self, values: list[str]) -> tuple:
        title, author, year = (value.strip() for value in values)
        if not title:
            raise RowError("title", "title is empty")
        if len(title) > TITLE_MAX_LENGTH:
            raise RowError(
                "title",
                f"title is {len(title)} characters; the limit is {TITLE_MAX_LENGTH}",
            )
        if not author:
            raise RowError("author", "author is empty")
        if len(author) > AUTHOR_MAX_LENGTH:
            raise RowError(
                "author",
                f"author is {len(author)} characters; the limit is {AUTHOR_MAX_LENGTH}",
            )
        try:
            published = int(year)
        except ValueError:
            raise RowError("year", f"year {year!r} is not a whole number") from None
        if not MIN_YEAR <= published <= self.max_year:
            raise RowError(
                "year", f"year {published} is outside {MIN_YEAR}..{self.max_year}"
            )
        return title, author, published

    def apply(self, cursor, staging_table: str) -> tuple[int, int]:
        """Upsert authors, then books, from the staging table.

        Rows repeating a natural key inside one file collapse to the last one
        (PostgreSQL refuses to update one row twice in a statement). Books
        whose year did not change are matched but not rewritten.
        """
        authors, books = Author._meta.db_table, Book._meta.db_table
        final = f"{staging_table}_final"
        cursor.execute(
            # Sorted, so concurrent imports lock shared author names in the
            # same order and cannot deadlock each other.
            f"INSERT INTO {authors} (name) SELECT DISTINCT author FROM {staging_table}"
            " WHERE true ORDER BY author ON CONFLICT (name) DO NOTHING"
        )
        cursor.execute(f"DROP TABLE IF EXISTS {final}")
        cursor.execute(
            f"CREATE TEMP TABLE {final} AS"
            " SELECT s.title, a.id AS author_id, s.year FROM ("
            "  SELECT title, author, year, ROW_NUMBER() OVER ("
            "   PARTITION BY title, author ORDER BY line DESC) AS rn"
            f"  FROM {staging_table}) AS s"
            f" JOIN {authors} AS a ON a.name = s.author WHERE s.rn = 1"
        )
        cursor.execute(f"SELECT COUNT(*) FROM {final}")
        distinct = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT COUNT(*) FROM {final} AS f JOIN {books} AS b"
            " ON b.title = f.title AND b.author_id = f.author_id"
        )
        updated = cursor.fetchone()[0]
        cursor.execute(
            f"INSERT INTO {books} (title, author_id, published_year)"
            f" SELECT title, author_id, year FROM {final} WHERE true"
            " ON CONFLICT (title, author_id) DO UPDATE"
            " SET published_year = excluded.published_year"
            f" WHERE {books}.published_year IS DISTINCT FROM excluded.published_year"
        )
        cursor.execute(f"DROP TABLE {final}")
        return distinct - updated, updated
