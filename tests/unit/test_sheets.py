"""Spreadsheets dropped into an inbox import like CSVs (python-calamine reads them).

Workbooks are written with openpyxl; what openpyxl cannot write (a
formula's cached value, an error cell) is set in the sheet's XML, as Excel
saves it. An ``.ods`` is written by hand (a zip of XML). No ``.xls`` is
tested: nothing here writes the BIFF format, and calamine reads it through
the same interface as the others.
"""

import datetime
import io
import os
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from ingest import filekinds, services
from ingest.importers.sheets import cell_text, sheet_open
from ingest.importers.sources import source_open
from ingest.models import Inbox, InboxFile
from tests.factories import drop, issn
from tests.testapp.models import Category, Journal, PriceItem

db = pytest.mark.django_db(transaction=True, databases="__all__")
State = InboxFile.State
PRICES = "tests.testapp.price_importers.PriceListImporter"
TITLE = "Вивантаження 2026-12-01"


def workbook(sheets: dict[str, list[list]], cells: dict[str, str] | None = None):
    """Return the bytes of an .xlsx of *sheets*; *cells* replace the first's XML.

    *cells* maps a reference (``C8``) to the ``<c>`` element Excel would
    save for it (a formula with its cached value, an error).
    """
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    if not cells:
        return buffer.getvalue()
    source, out = zipfile.ZipFile(buffer), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                for ref, xml in cells.items():
                    text, count = re.subn(
                        rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)', xml, text, count=1
                    )
                    assert count == 1, ref
                data = text.encode()
            target.writestr(item, data)
    return out.getvalue()


def ods(name: str, rows: list[list[tuple[str, str]]]) -> bytes:
    """Return an .ods of one sheet; a cell is (value-type attributes, text)."""
    cells = "".join(
        "<table:table-row>"
        + "".join(
            f"<table:table-cell {attributes}><text:p>{text}</text:p></table:table-cell>"
            for attributes, text in row
        )
        + "</table:table-row>"
        for row in rows
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="{name}">{cells}'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def imported(name: str, content: bytes, *, inbox: Inbox | None = None) -> InboxFile:
    """Drop *content* as *name*, scan (imports run eagerly), return its row."""
    drop(name, content, inbox=inbox.path if inbox is not None else None)
    services.inbox_scan(inbox=inbox)
    return InboxFile.objects.filter(name=name).latest("pk")


def journals() -> dict[str, tuple]:
    return {j.issn: (j.title, j.year) for j in Journal.objects.all()}


#: Lines 10-19: enough good rows that the one error row stays under 10 %.
FILLER = [[issn(n), f"Journal {n}", 1900 + n] for n in range(1, 11)]
#: A journals sheet as partners export it: a title row, typed cells, a
#: formula (C6) and an error (C8) as Excel saves them.
JOURNALS = workbook(
    {
        "Аркуш1": [
            [TITLE],
            [],
            ["issn", "title", "year"],
            ["0028-0836", "Nature", 1869],
            ["00123", "Zeros kept", 1840.0],
            ["0036-8075", "Science", "=C4+11"],
            [],
            ["0140-6736", "The Lancet", "#N/A"],
            ["1234-5678", "Blank year", None],
            *FILLER,
        ]
    },
    cells={
        "C6": '<c r="C6"><f>C4+11</f><v>1880</v></c>',
        "C8": '<c r="C8" t="e"><f>VLOOKUP(A8,X:Y,2,0)</f><v>#N/A</v></c>',
    },
)


@pytest.fixture
def partners(tmp_path, settings):
    folder = tmp_path / "partners"
    folder.mkdir()
    settings.INGEST_ALLOWED_ROOTS = [str(tmp_path)]
    return folder


@db
def test_a_journals_workbook_imports_with_exact_values_and_its_error_row_rejected(
    eager,
):
    row = imported("journals.xlsx", JOURNALS)

    assert (row.state, row.importer) == (State.DONE, "journals"), row.error
    assert (row.rows_total, row.rows_imported, row.rows_rejected) == (15, 14, 1)
    stored = journals()
    assert stored["0028-0836"] == ("Nature", 1869)
    assert stored["00123"] == ("Zeros kept", 1840)  # Text as is; 1840.0 → 1840.
    assert stored["0036-8075"] == ("Science", 1880)  # The formula's cached value.
    assert stored["1234-5678"] == ("Blank year", None)
    assert stored[issn(10)] == ("Journal 10", 1910)
    assert "0140-6736" not in stored
    rejection = row.rejections.get()
    assert (rejection.line, rejection.column) == (8, "year")
    assert rejection.message == "Аркуш1!C8 holds the error #N/A"
    assert rejection.raw == ["0140-6736", "The Lancet", ""]
    assert row.dialect["sheet"] == "Аркуш1"
    assert row.dialect["kind"] == "xlsx"
    assert row.dialect["header_line"] == 3
    assert row.dialect["skipped_lines"] == [{"line": 1, "text": TITLE}]
    assert (row.encoding, row.delimiter) == ("", "")


def test_sheet_open_gives_rows_as_the_spreadsheet_numbers_them(tmp_path):
    path = tmp_path / "journals.xlsx"
    path.write_bytes(JOURNALS)
    with source_open(path) as source:
        rows = list(source.rows)
    assert source.header == ["issn", "title", "year"]
    assert rows[:3] == [
        (4, ["0028-0836", "Nature", "1869"]),
        (5, ["00123", "Zeros kept", "1840"]),
        (6, ["0036-8075", "Science", "1880"]),
    ]
    assert [line for line, _fields in rows] == [4, 5, 6, 9, *range(10, 20)]
    assert (source.malformed_count, source.bytes_read) == (1, path.stat().st_size)


def test_cells_become_the_text_the_value_types_read():
    assert cell_text(1840.0) == "1840"
    assert cell_text(12.5) == "12.5"
    assert cell_text(1e20) == "100000000000000000000"
    assert cell_text(1.5e-7) == "0.00000015"
    assert cell_text(True) == "true"
    assert cell_text(datetime.date(2026, 11, 25)) == "2026-11-25"
    assert cell_text(datetime.datetime(2026, 11, 25, 14, 5)) == "2026-11-25 14:05:00"
    assert cell_text(datetime.time(14, 5)) == "14:05:00"
    assert cell_text("00123") == "00123"


@db
def test_the_first_sheet_with_data_is_read_unless_the_inbox_names_one(eager, partners):
    def content(first: list) -> bytes:
        return workbook(
            {
                "Порожній": [],
                "Журнали": [["issn", "title", "year"], first],
                "Архів": [["issn", "title", "year"], ["0036-8075", "Science", 1880]],
            }
        )

    row = imported("first.xlsx", content(["0028-0836", "Nature", 1869]))
    assert row.state == State.DONE, row.error
    assert (row.dialect["sheet"], row.dialect["header_line"]) == ("Журнали", 1)
    assert journals() == {"0028-0836": ("Nature", 1869)}

    inbox = services.inbox_save(
        inbox=Inbox(name="partner", folder=str(partners), sheet="Архів")
    )
    assert inbox.dialect_overrides() == {"sheet": "Архів"}
    # Other content: the same bytes again would be a duplicate, whatever sheet.
    row = imported("named.xlsx", content(["0000-0001", "Other", 1900]), inbox=inbox)
    assert row.state == State.DONE, row.error
    assert row.dialect["sheet"] == "Архів"
    assert journals() == {
        "0028-0836": ("Nature", 1869),
        "0036-8075": ("Science", 1880),
    }


def test_a_sheet_by_position_and_a_missing_one(tmp_path):
    from ingest.importers.base import FileRejected

    path = tmp_path / "two.xlsx"
    path.write_bytes(workbook({"A": [["x", "y"], [1, 2]], "B": [["p", "q"], [3, 4]]}))
    with sheet_open(path, sheet="2") as source:
        assert (source.sheet, source.header, list(source.rows)) == (
            "B",
            ["p", "q"],
            [(2, ["3", "4"])],
        )
    with pytest.raises(FileRejected) as caught:
        with sheet_open(path, sheet="Нема"):
            pass
    assert str(caught.value.reason) == (
        "The workbook has no sheet 'Нема'; it has 'A', 'B'."
    )


@db
def test_a_date_cell_lands_as_a_date_and_a_number_as_a_decimal(eager, settings):
    settings.INGEST_IMPORTERS = [PRICES]
    Category.objects.create(name="Книги")
    header = ["Артикул", "Назва", "Ціна", "Валюта", "Діє з", "В наявності"]
    nov_25, dec_1 = datetime.date(2026, 11, 25), datetime.date(2026, 12, 1)
    content = workbook(
        {
            "Ціни": [
                [*header, "Категорія"],
                ["BK-001", "Кобзар", 1037.01, "UAH", nov_25, True, "Книги"],
                ["BK-002", "Енеїда", 249.5, "EUR", dec_1, False, "Книги"],
            ]
        }
    )
    row = imported("prices-2026-12.xlsx", content)
    assert (row.state, row.importer) == (State.DONE, "prices"), row.error
    stored = {
        item.sku: (item.price, item.valid_from, item.in_stock)
        for item in PriceItem.objects.all()
    }
    assert stored == {
        "BK-001": (Decimal("1037.01"), datetime.date(2026, 11, 25), True),
        "BK-002": (Decimal("249.50"), datetime.date(2026, 12, 1), False),
    }


@db
def test_a_corrupt_workbook_fails_with_a_reason(eager):
    row = imported("broken.xlsx", os.urandom(2048))
    assert row.state == State.FAILED
    assert row.error.startswith("The file cannot be read as a xlsx workbook ("), (
        row.error
    )
    assert row.error.endswith("or export the sheet as CSV."), row.error


@db
def test_an_uploaded_workbook_is_imported(eager):
    content = workbook(
        {"Аркуш1": [["issn", "title", "year"], ["0028-0836", "Nature", 1869]]}
    )
    row = services.file_upload(
        name="journals.xlsx", chunks=[content], importer="journals"
    )
    row.refresh_from_db()
    assert (row.name, row.state, row.rows_imported) == ("journals.xlsx", State.DONE, 1)
    assert journals() == {"0028-0836": ("Nature", 1869)}


def test_an_ods_is_read_with_typed_cells(tmp_path):
    path = Path(tmp_path / "journals.ods")
    string = 'office:value-type="string"'
    path.write_bytes(
        ods(
            "Аркуш1",
            [
                [(string, TITLE)],
                [
                    (string, "issn"),
                    (string, "title"),
                    (string, "year"),
                    (string, "from"),
                ],
                [
                    (string, "00123"),
                    (string, "Zeros kept"),
                    ('office:value-type="float" office:value="1840"', "1840"),
                    (
                        'office:value-type="date" office:date-value="2026-11-25"',
                        "25.11",
                    ),
                ],
            ],
        )
    )
    with source_open(path) as source:
        rows = list(source.rows)
    assert (source.header_line, source.header) == (2, ["issn", "title", "year", "from"])
    assert rows == [(3, ["00123", "Zeros kept", "1840", "2026-11-25"])]
    assert source.described()["kind"] == "ods"


def test_spreadsheets_are_readable_binary_kinds_never_compressed():
    for name in ["a.xlsx", "b.XLSM", "c.xls", "d.ods"]:
        assert filekinds.is_readable(name) and filekinds.is_binary_kind(name), name
    assert filekinds.readable_ending("Звіт.XLSX") == ".XLSX"
    assert not filekinds.is_readable("a.xlsx.gz")
    assert not filekinds.is_binary_kind("a.csv")
    assert ".ods" in filekinds.kinds_text().split(", ")
    assert filekinds.accept_attribute().endswith(".xlsx,.xlsm,.xls,.ods,.zip")
