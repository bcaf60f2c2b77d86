"""The journals importer, declared as a team would: one class."""

from ingest.importers import Column, Importer, Integer, Text, next_year

from .models import Journal


class JournalsImporter(Importer):
    """Upsert journals by ISSN; year and publisher may be blank or absent."""

    name = "journals"
    model = Journal
    natural_key = ("issn",)
    columns = (
        Column("issn", type=Text(9)),
        Column("title", aliases=("journal", "назва"), type=Text(200)),
        Column("year", type=Integer(1600, next_year), blank=True, optional=True),
        Column("publisher", type=Text(100), blank=True, optional=True),
    )
