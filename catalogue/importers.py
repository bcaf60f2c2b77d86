"""The catalogue's importers, found by the ingest engine like admin.py is.

Two datasets:

- books, ``title,author,year`` → :class:`Author` and :class:`Book` (two
  tables: its own :meth:`BooksImporter.apply`);
- authors, ``name[,birth_year][,country]`` → :class:`Author`: only a
  declaration; the engine's generic upsert does the rest.
"""

from ingest.importers import (
    Column,
    Importer,
    Integer,
    Text,
    next_year,
    this_year,
    upsert,
)

from . import samples
from .models import Author, Book

AUTHOR_MAX_LENGTH = Author._meta.get_field("name").max_length
COUNTRY_MAX_LENGTH = Author._meta.get_field("country").max_length
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
            type=Text(Book.TITLE_MAX_LENGTH),
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
    writes = (Book, Author)

    def sample_rows(self, *, rows: int, pool: int, seed: int):
        """Yield realistic books by *pool* authors, for the benchmark."""
        return samples.books_rows(rows=rows, authors=pool, seed=seed)

    def apply(self, cursor, staging_table: str) -> tuple[int, int]:
        """Upsert authors, then books, from the staging table.

        Books whose year did not change are matched but not rewritten.
        """
        authors, books = Author._meta.db_table, Book._meta.db_table
        cursor.execute(
            # Sorted, so concurrent imports lock shared author names in the
            # same order and cannot deadlock each other.
            f"INSERT INTO {authors} (name) SELECT DISTINCT author FROM {staging_table}"
            " WHERE true ORDER BY author ON CONFLICT (name) DO NOTHING"
        )
        final = f"{staging_table}_final"
        distinct = upsert.latest_rows(
            cursor,
            staging=staging_table,
            final=final,
            key=("title", "author"),
            select=("s.title", "a.id AS author_id", "s.year"),
            join=f"JOIN {authors} AS a ON a.name = s.author",
        )
        return upsert.rows_upsert(
            cursor,
            table=books,
            final=final,
            columns=(
                ("title", "title"),
                ("author_id", "author_id"),
                ("published_year", "year"),
            ),
            key=("title", "author_id"),
            distinct=distinct,
        )


class AuthorsImporter(Importer):
    """Upsert authors by name; birth year and country may be blank or absent.

    An author already known (from a books file, say) counts as updated and
    gets the file's birth year and country; a file without one of those
    columns leaves it alone. Safe to repeat.
    """

    name = "authors"
    model = Author
    natural_key = ("name",)
    columns = (
        Column(
            "name",
            aliases=("author", "author name", "ім'я", "імʼя", "автор"),
            type=Text(AUTHOR_MAX_LENGTH),
        ),
        Column(
            "birth_year",
            aliases=("born", "birth", "year of birth", "рік народження"),
            type=Integer(MIN_YEAR, this_year),
            blank=True,
            optional=True,
        ),
        Column(
            "country",
            aliases=("країна",),
            type=Text(COUNTRY_MAX_LENGTH),
            blank=True,
            optional=True,
        ),
    )
    filename_prefixes = ("authors",)
