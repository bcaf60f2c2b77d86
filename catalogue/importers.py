"""The catalogue's importers, found by the ingest engine like admin.py is.

Two datasets:

- books, ``title,author,year`` → :class:`Book`, its author a foreign key
  by name that makes new :class:`Author` s;
- authors, ``name[,birth_year][,country]`` → :class:`Author`.

Both are only declarations: the engine's generic upsert does the rest.
"""

from ingest.importers import (
    Column,
    Importer,
    Integer,
    Text,
    next_year,
    this_year,
)

from . import samples
from .models import Author, Book

AUTHOR_MAX_LENGTH = Author._meta.get_field("name").max_length
COUNTRY_MAX_LENGTH = Author._meta.get_field("country").max_length
MIN_YEAR = 1


class BooksImporter(Importer):
    """Upsert books by their natural key (title, author); the last row wins.

    The author column is a foreign key given by the author's name, and
    ``create=True`` makes the authors no record has yet. Safe to repeat: a
    second import of the same rows changes nothing and counts them updated.
    """

    name = "books"
    model = Book
    natural_key = ("title", "author")
    columns = (
        Column("title", aliases=("book", "book title", "назва")),
        Column("author", aliases=("author name", "автор"), create=True),
        Column(
            "year",
            aliases=("published_year", "publication year", "рік", "рік видання"),
            type=Integer(MIN_YEAR, next_year),
            field="published_year",
            blank=False,
        ),
    )
    filename_prefixes = ("books",)
    writes = (Book, Author)

    def sample_rows(self, *, rows: int, pool: int, seed: int):
        """Yield realistic books by *pool* authors, for the benchmark."""
        return samples.books_rows(rows=rows, authors=pool, seed=seed)


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
