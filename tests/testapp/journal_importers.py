"""The test-only importers, declared as a team would: one class each.

Like the catalogue's books and authors, the two overlap: a journals file's
``publisher`` column is a publishers file's ``name``, so a header can fit
both and routing must pick the one that reads more of it.
"""

from ingest.importers import Column, Importer, Integer, Text, next_year

from .models import Journal, Publisher


class JournalsImporter(Importer):
    """Upsert journals by ISSN; year and publisher may be blank or absent."""

    name = "journals"
    model = Journal
    natural_key = ("issn",)
    columns = (
        Column("issn", type=Text(9)),
        Column("title", aliases=("journal", "назва"), type=Text(200)),
        Column(
            "year",
            aliases=("first year", "рік"),
            type=Integer(1600, next_year),
            blank=True,
            optional=True,
        ),
        Column("publisher", type=Text(100), blank=True, optional=True),
    )


class PublishersImporter(Importer):
    """Upsert publishers by name; the country may be blank or absent."""

    name = "publishers"
    model = Publisher
    natural_key = ("name",)
    columns = (
        Column("name", aliases=("publisher", "видавець"), type=Text(100)),
        Column(
            "country", aliases=("країна",), type=Text(100), blank=True, optional=True
        ),
    )
    filename_prefixes = ("publishers",)
