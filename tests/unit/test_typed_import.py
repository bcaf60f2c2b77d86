"""Typed columns end to end: a dropped price list, scanned and imported eagerly.

A partner's ``;``-separated cp1251 export with Ukrainian headings, decimal
commas, day-first dates, ``так``/``ні`` and currencies by name lands as
exact typed values; a bad value or an unknown category is a rejected row
naming its column and value; the formats chosen are recorded with the
dialect, and an inbox's declared formats change how its files are read.
"""

import datetime
from decimal import Decimal

import pytest

from ingest import services
from ingest.importers import Column, Importer
from ingest.models import Inbox, InboxFile
from tests.factories import drop
from tests.testapp.models import Category, PriceItem

PRICES = "tests.testapp.price_importers.PriceListImporter"
TYPED = "tests.testapp.price_importers.TypedImporter"
GROUPED = "tests.unit.test_typed_import.GroupedPricesImporter"
db = pytest.mark.django_db(transaction=True, databases="__all__")

HEADER = "Артикул;Назва;Ціна;Валюта;Діє з;В наявності;Категорія\n"
#: Lines 2-5: every spelling a good row may use.
GOOD = (
    "BK-001;Кобзар;1 037,01;гривня;25.11.2026;так;Книги\n"
    "BK-002;Енеїда;249,50;UAH;01.12.2026;ні;Книги\n"
    "BK-003;Intermezzo;12;долар США;2026-11-25;+;Книги\n"
    "BK-004;Тіні забутих предків;1 000 000,5;євро;01.02.2026;НІ;Книги\n"
)
#: Lines 6-8: an unknown category, an unknown currency, neither yes nor no.
BAD = (
    "TY-001;Дзиґа;99,00;UAH;01.12.2026;так;Іграшки\n"
    "BK-005;Лісова пісня;120,00;XYZ;01.12.2026;так;Книги\n"
    "BK-006;Мавка;80,00;UAH;01.12.2026;можливо;Книги\n"
)
#: Enough good rows that three bad ones stay under the 10 % reject rate.
FILLER = "".join(
    f"MG-{n:03};Журнал {n};{n} 0{n:02},5;EUR;13.12.2026;ні;Книги\n"
    for n in range(1, 27)
)
PRICE_LIST = HEADER + GOOD + BAD + FILLER


@pytest.fixture
def price_lists(settings):
    """Make the two price-list datasets the only ones, told apart by file name."""
    settings.INGEST_IMPORTERS = [PRICES, TYPED]


@pytest.fixture
def books():
    """The one category the prices importer finds (it makes none)."""
    return Category.objects.create(name="Книги")


@pytest.fixture
def partners(tmp_path, settings):
    folder = tmp_path / "partners"
    folder.mkdir()
    settings.INGEST_ALLOWED_ROOTS = [str(tmp_path)]
    return folder


def imported(name: str, content: str | bytes, *, inbox: Inbox | None = None):
    """Drop *content* as *name*, scan (imports run eagerly), return its row."""
    folder = inbox.path if inbox is not None else None
    drop(name, content, inbox=folder)
    services.inbox_scan(inbox=inbox)
    return InboxFile.objects.filter(name=name).latest("pk")


def items() -> dict[str, tuple]:
    """Return every price item's stored values by SKU."""
    return {
        item.sku: (
            item.name,
            item.price,
            item.currency,
            item.valid_from,
            item.in_stock,
            item.category.name,
        )
        for item in PriceItem.objects.select_related("category")
    }


@db
def test_a_cp1251_price_list_is_stored_typed_and_its_three_bad_rows_rejected(
    price_lists, books, eager
):
    row = imported("prices-2026-11.csv", PRICE_LIST.encode("cp1251"))

    assert (row.state, row.importer, row.importer_chosen_by) == (
        "done",
        "prices",
        "name",
    )
    assert (row.encoding, row.delimiter) == ("cp1251", ";")
    assert (row.rows_total, row.rows_imported, row.rows_updated) == (33, 30, 0)
    assert row.rows_rejected == 3
    stored = items()
    assert len(stored) == 30
    assert stored["BK-001"] == (
        "Кобзар",
        Decimal("1037.01"),
        "UAH",
        datetime.date(2026, 11, 25),
        True,
        "Книги",
    )
    assert stored["BK-002"] == (
        "Енеїда",
        Decimal("249.50"),
        "UAH",
        datetime.date(2026, 12, 1),
        False,
        "Книги",
    )
    assert stored["BK-003"][1:5] == (
        Decimal("12"),
        "USD",
        datetime.date(2026, 11, 25),
        True,
    )
    assert stored["BK-004"][1:5] == (
        Decimal("1000000.50"),
        "EUR",
        datetime.date(2026, 2, 1),  # Day first, as the file's 25.11 showed.
        False,
    )
    assert stored["MG-026"][1:5] == (
        Decimal("26026.5"),
        "EUR",
        datetime.date(2026, 12, 13),
        False,
    )
    assert PriceItem.objects.get(sku="BK-001").category_id == books.pk
    assert set(PriceItem.objects.values_list("category", flat=True)) == {books.pk}
    assert not PriceItem.objects.filter(sku__in=["TY-001", "BK-005", "BK-006"])
    assert list(Category.objects.values_list("name", flat=True)) == ["Книги"]

    rejected = list(row.rejections.order_by("line"))
    assert [(r.line, r.column) for r in rejected] == [
        (6, "category"),
        (7, "currency"),
        (8, "in_stock"),
    ]
    for rejection, value in zip(rejected, ["Іграшки", "XYZ", "можливо"], strict=True):
        assert rejection.message.startswith(rejection.column + " "), rejection.message
        assert repr(value) in rejection.message, rejection.message
    assert rejected[0].message == (
        "category 'Іграшки' is unknown: no category has this name"
    )
    assert rejected[1].message == "currency 'XYZ' is not one of: UAH, USD, EUR"
    assert rejected[2].message.startswith("in_stock 'можливо' is not yes or no (")
    assert rejected[1].raw == BAD.splitlines()[1].split(";")
    assert rejected[2].raw == BAD.splitlines()[2].split(";")

    # Detected from the file, not the site's English (month first, dot).
    assert row.dialect["formats"] == {
        "date_order": "DMY",
        "date_order_from": "sample",
        "decimal": ",",
        "decimal_from": "sample",
    }


@db
def test_a_row_with_an_unknown_category_keeps_all_its_fields(price_lists, books, eager):
    row = imported("prices-2026-11.csv", PRICE_LIST.encode("cp1251"))
    unknown = row.rejections.get(column="category")
    # Refused after staging: the row as staged, every column of it (the
    # numbers and dates as stored, so their text differs by database).
    fields = BAD.splitlines()[0].split(";")
    assert len(unknown.raw) == len(fields)
    assert (unknown.raw[:2], unknown.raw[-1]) == (fields[:2], fields[-1])


@db
def test_the_same_price_list_again_changes_nothing(price_lists, books, eager):
    first = imported("prices-2026-11.csv", PRICE_LIST.encode("cp1251"))
    before = items()

    copy = imported("prices-2026-11-copy.csv", PRICE_LIST.encode("cp1251"))
    assert (copy.state, copy.duplicate_of_id) == ("duplicate", first.pk)
    assert (copy.rows_imported, copy.rows_updated) == (0, 0)
    assert not copy.rejections.exists()
    assert items() == before

    # The same rows in other bytes (Windows line ends) are imported again:
    # every item is matched, none is new, no value changes.
    again = imported(
        "prices-2026-11-crlf.csv",
        PRICE_LIST.replace("\n", "\r\n").encode("cp1251"),
    )
    assert again.state == "done"
    assert (again.rows_imported, again.rows_updated, again.rows_rejected) == (0, 30, 3)
    assert items() == before
    assert Category.objects.count() == 1


@db
def test_the_typed_importer_makes_categories_it_has_not_seen(price_lists, books, eager):
    body = (
        "sku;name;price;currency;valid_from;in_stock;category\n"
        "TY-001;Дзиґа;99,00;UAH;01.12.2026;так;Іграшки\n"
        "TY-002;Лялька-мотанка;150,00;UAH;13.12.2026;ні;Іграшки\n"
        "MG-001;Ранок;45,00;UAH;13.12.2026;так;Журнали\n"
        "BK-001;Кобзар;1 037,01;UAH;25.11.2026;так;Книги\n"
        # Refused before staging: its new category must not be made.
        "TY-003;Кубик;10,00;XYZ;13.12.2026;так;Кубики\n"
    ) + "".join(
        f"TY-1{n:02};Іграшка {n};{n},50;UAH;13.12.2026;так;Іграшки\n" for n in range(6)
    )
    row = imported("typed-2026-12.csv", body)

    assert (row.state, row.importer, row.importer_chosen_by) == (
        "done",
        "typed",
        "name",
    )
    assert (row.rows_imported, row.rows_rejected) == (10, 1)
    assert [(r.line, r.column) for r in row.rejections.all()] == [(6, "currency")]
    assert set(Category.objects.values_list("name", flat=True)) == {
        "Журнали",
        "Іграшки",
        "Книги",
    }
    toys = Category.objects.get(name="Іграшки")
    assert PriceItem.objects.get(sku="TY-002").category == toys
    assert PriceItem.objects.filter(category=toys).count() == 8
    assert PriceItem.objects.get(sku="BK-001").category == books
    assert PriceItem.objects.get(sku="MG-001").category.name == "Журнали"

    # The same categories again are found, not made twice.
    imported(
        "typed-2026-12b.csv",
        "sku;name;price;currency;valid_from;in_stock;category\n"
        "TY-200;Дзиґа;99,00;UAH;01.12.2026;так;Іграшки\n",
    )
    assert Category.objects.count() == 3
    assert PriceItem.objects.get(sku="TY-200").category == toys


#: One row whose date and number mean different things per the formats.
AMBIGUOUS = (
    "sku;name;price;currency;valid_from;in_stock;category\n"
    "{sku};A;1,250;UAH;01.02.2026;так;Книги\n"
)


@db
def test_an_inboxs_formats_change_how_its_files_are_read(
    price_lists, books, eager, partners
):
    inbox = services.inbox_save(
        inbox=Inbox(
            name="partner", folder=str(partners), importer="prices", language="uk"
        )
    )
    row = imported("export-1.csv", AMBIGUOUS.format(sku="P-1"), inbox=inbox)
    assert (row.state, row.importer_chosen_by) == ("done", "inbox")
    item = PriceItem.objects.get(sku="P-1")
    # Nothing in the file settles it: the inbox's Ukrainian does.
    assert (item.valid_from, item.price) == (datetime.date(2026, 2, 1), Decimal("1.25"))
    assert row.dialect["formats"] == {
        "date_order": "DMY",
        "date_order_from": "language",
        "decimal": ",",
        "decimal_from": "language",
    }

    inbox.date_order, inbox.decimal_separator = "MDY", "."
    inbox = services.inbox_save(inbox=inbox)
    row = imported("export-2.csv", AMBIGUOUS.format(sku="P-2"), inbox=inbox)
    item = PriceItem.objects.get(sku="P-2")
    assert (item.valid_from, item.price) == (datetime.date(2026, 1, 2), Decimal("1250"))
    assert row.dialect["formats"] == {
        "date_order": "MDY",
        "date_order_from": "declared",
        "decimal": ".",
        "decimal_from": "declared",
    }

    # Declared beats what the file shows: a day above 12 is now an error.
    row = imported(
        "export-3.csv",
        AMBIGUOUS.format(sku="P-3").replace("01.02.2026", "25.11.2026"),
        inbox=inbox,
    )
    assert row.state == "failed"
    assert row.dialect["formats"]["date_order_from"] == "declared"
    assert "valid_from '25.11.2026' is not a date" in row.error
    assert not PriceItem.objects.filter(sku="P-3").exists()


@db
def test_the_sites_english_reads_an_ambiguous_file_month_first(
    price_lists, books, eager, settings
):
    settings.LANGUAGE_CODE = "en"
    row = imported("prices-ambiguous.csv", AMBIGUOUS.format(sku="P-9"))
    item = PriceItem.objects.get(sku="P-9")
    assert (item.valid_from, item.price) == (datetime.date(2026, 1, 2), Decimal("1250"))
    assert row.dialect["formats"]["date_order_from"] == "language"


@db
def test_an_inboxs_yes_and_no_words_replace_the_usual_ones(
    price_lists, books, eager, partners
):
    inbox = services.inbox_save(
        inbox=Inbox(
            name="partner",
            folder=str(partners),
            importer="prices",
            true_words="Є, наявний",
            false_words="немає",
            max_reject_rate=0.5,
        )
    )
    body = (
        "sku;name;price;currency;valid_from;in_stock;category\n"
        "W-1;A;1,5;UAH;25.11.2026;є;Книги\n"
        "W-2;B;1,5;UAH;25.11.2026;НЕМАЄ;Книги\n"
        "W-3;C;1,5;UAH;25.11.2026;Наявний;Книги\n"
        "W-4;D;1,5;UAH;25.11.2026;так;Книги\n"
    )
    row = imported("stock.csv", body, inbox=inbox)
    assert row.state == "done"
    assert dict(PriceItem.objects.values_list("sku", "in_stock")) == {
        "W-1": True,
        "W-2": False,
        "W-3": True,
    }
    rejection = row.rejections.get()
    assert (rejection.line, rejection.column) == (5, "in_stock")
    assert rejection.message == "in_stock 'так' is not yes or no (наявний, є / немає)"


class GroupedPricesImporter(Importer):
    """Price items whose category is given by name under a heading of its own."""

    name = "grouped-prices"
    model = PriceItem
    natural_key = ("sku",)
    columns = (
        Column("sku"),
        Column("name"),
        Column("price"),
        Column("currency"),
        Column("valid_from"),
        Column("in_stock"),
        Column("rubric", aliases=("рубрика",), field="category__name"),
    )
    filename_prefixes = ("grouped",)


def test_a_column_may_name_the_foreign_key_and_the_field_it_is_looked_up_by():
    rubric = GroupedPricesImporter.columns[-1]
    assert rubric.field_path == ("category", "name")
    assert dict(GroupedPricesImporter.columns_described())["rubric"] == (
        "lookup(testapp.Category.name)"
    )
    assert GroupedPricesImporter.staging_columns[-1] == ("rubric", "TEXT")


@db
def test_a_foreign_key_is_looked_up_through_the_columns_field_path(
    settings, books, eager
):
    settings.INGEST_IMPORTERS = [GROUPED]
    body = (
        "sku,name,price,currency,valid_from,in_stock,рубрика\n"
        "G-1,Кобзар,10.5,UAH,2026-11-25,yes,Книги\n"
        "G-2,Дзиґа,99,UAH,2026-11-25,no,Іграшки\n"
    )
    settings.INGEST_MAX_REJECT_RATE = 0.5
    row = imported("grouped.csv", body)
    assert (row.state, row.importer) == ("done", "grouped-prices")
    assert PriceItem.objects.get(sku="G-1").category == books
    rejection = row.rejections.get()
    assert (rejection.line, rejection.column) == (3, "rubric")
    assert rejection.message == "rubric 'Іграшки' is unknown: no category has this name"


class KeywordColumnImporter(GroupedPricesImporter):
    """The same, its category column named as SQL's ``GROUP BY`` is."""

    name = "keyword-prices"
    columns = (
        *GroupedPricesImporter.columns[:-1],
        Column("group", field="category__name"),
    )


@db
def test_a_column_named_like_an_sql_keyword_imports(settings, books, eager):
    settings.INGEST_IMPORTERS = ["tests.unit.test_typed_import.KeywordColumnImporter"]
    from ingest.checks import importers_check

    assert importers_check() == []  # The declaration passes manage.py check…
    row = imported(
        "keyword.csv",
        "sku,name,price,currency,valid_from,in_stock,group\n"
        "G-1,Кобзар,10.5,UAH,2026-11-25,yes,Книги\n",
    )
    assert row.state == "done", (row.state, row.error)  # …yet no file imports.
    assert PriceItem.objects.get(sku="G-1").category == books
