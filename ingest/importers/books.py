"""The book catalogue: ``title,author,year`` → :class:`Author`, :class:`Book`."""

from ..models import Author, Book
from .base import Column, Importer, Integer, Text, next_year

AUTHOR_MAX_LENGTH = Author._meta.get_field("name").max_length
TITLE_MAX_LENGTH = Book.TITLE_MAX_LENGTH
MIN_YEAR = 1


class BooksImporter(Importer):
    """Upsert books by their natural key (title, author); the last row wins.

    Each row also creates its author if the name is new. Safe to repeat: a
    second import of the same rows changes nothing and counts them updated.
    """

    name = "books"
    columns = (
        Column(
            "title",
            aliases=("book", "book title", "назва"),
            type=Text(TITLE_MAX_LENGTH),
        ),
        Column(
            "author", aliases=("author name", "автор"), type=Text(AUTHOR_MAX_LENGTH)
        ),
        Column(
            "year",
            aliases=("published_year", "publication year", "рік", "рік видання"),
            type=Integer(MIN_YEAR, next_year),
        ),
    )
    filename_prefixes = ("books",)

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
