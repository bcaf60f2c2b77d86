"""A price list, declared as the README's "Add to an existing Django project" shows.

Every column takes its type from its model field: the price a decimal, the
currency a choice, ``valid_from`` a date, ``in_stock`` a boolean and the
category a foreign key looked up by its unique name. ``typed`` is the same
list whose categories are made when new, the benchmark's typed dataset.
"""

from ingest.importers import Column, Importer

from .models import PriceItem


class PriceListImporter(Importer):
    """Upsert price items by SKU; an unknown category is a rejected row."""

    name = "prices"
    model = PriceItem
    natural_key = ("sku",)
    columns = (
        Column("sku", aliases=("артикул", "code")),
        Column("name", aliases=("назва", "title")),
        Column("price", aliases=("ціна",)),
        Column("currency", aliases=("валюта",)),
        Column("valid_from", aliases=("діє з", "from")),
        Column("in_stock", aliases=("в наявності", "stock")),
        Column("category", aliases=("категорія",)),
    )
    filename_prefixes = ("prices",)


class TypedImporter(PriceListImporter):
    """The price list whose new categories are made: the typed benchmark."""

    name = "typed"
    columns = (
        *PriceListImporter.columns[:-1],
        Column("category", aliases=("категорія",), create=True),
    )
    filename_prefixes = ("typed",)
    writes = (PriceItem, PriceItem._meta.get_field("category").related_model)
