"""The author register: ``name,birth_year,country`` → :class:`Author`.

The second dataset, and the proof that an importer is only a declaration:
columns, a model and its natural key; the generic upsert in
:class:`~ingest.importers.base.Importer` does the rest.
"""

from ..models import Author
from .base import Column, Importer, Integer, Text, this_year

NAME_MAX_LENGTH = Author._meta.get_field("name").max_length
COUNTRY_MAX_LENGTH = Author._meta.get_field("country").max_length
MIN_BIRTH_YEAR = 1


class AuthorsImporter(Importer):
    """Upsert authors by name; birth year and country may be blank.

    An author already known (from a books file, say) counts as updated and
    gets the file's birth year and country. Safe to repeat.
    """

    name = "authors"
    columns = (
        Column(
            "name",
            aliases=("author", "author name", "ім'я", "імʼя", "автор"),
            type=Text(NAME_MAX_LENGTH),
        ),
        Column(
            "birth_year",
            aliases=("born", "birth", "year of birth", "рік народження"),
            type=Integer(MIN_BIRTH_YEAR, this_year),
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
    model = Author
    natural_key = ("name",)
