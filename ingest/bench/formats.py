"""The benchmark's file in other forms: compressed, or as a workbook.

``--format`` imports the same generated rows as ``.csv.gz`` (or another
compression) or ``.xlsx``; the floor stays the plain CSV's COPY, so the
ratio says what the form costs. A workbook is written with openpyxl
(write-only, streamed) and, beside the import, read by the other readers
people would use, for the rows/s of each.
"""

import bz2
import csv
import gzip
import lzma
import shutil
import time
from collections.abc import Callable
from pathlib import Path

#: The forms ``--format`` takes.
FORMATS = ("csv", "csv.gz", "csv.bz2", "csv.xz", "xlsx")
_COMPRESSORS: dict[str, Callable] = {
    "csv.gz": gzip.open,
    "csv.bz2": bz2.open,
    "csv.xz": lzma.open,
}


def file_convert(path: Path, form: str) -> Path:
    """Return *path* (a CSV) written as *form*, beside it (``csv``: itself)."""
    if form == "csv":
        return path
    target = path.with_name(path.stem + "." + form)
    if form in _COMPRESSORS:
        with open(path, "rb") as source, _COMPRESSORS[form](target, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
        return target
    if form == "xlsx":
        _xlsx_write(path, target)
        return target
    raise ValueError(f"unknown form {form!r}; one of {', '.join(FORMATS)}")


def _xlsx_write(path: Path, target: Path) -> None:
    """Write the CSV as a one-sheet workbook, numbers as numeric cells."""
    from openpyxl import Workbook  # A development dependency: the bench's only.

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sheet1")
    with open(path, encoding="utf-8", newline="") as handle:
        for number, fields in enumerate(csv.reader(handle)):
            sheet.append(fields if number == 0 else [_cell(v) for v in fields])
    book.save(target)


def _cell(value: str):
    if value.isdigit() and not value.startswith("0"):
        return int(value)
    return value


def readers_compare(path: Path, rows: int) -> dict:
    """Return rows/s of other readers reading the workbook *path*, or None.

    openpyxl's read-only mode and ``pandas.read_excel`` (with openpyxl),
    each reading every cell; a reader not installed reports None.
    """
    report: dict = {}
    started = time.monotonic()
    try:
        from openpyxl import load_workbook
    except ImportError:
        report["openpyxl_read_only_rows_per_s"] = None
    else:
        book = load_workbook(path, read_only=True, data_only=True)
        count = sum(1 for _row in book.worksheets[0].iter_rows(values_only=True))
        book.close()
        report["openpyxl_read_only_rows_per_s"] = round(
            count / (time.monotonic() - started)
        )
    started = time.monotonic()
    try:
        import pandas
    except ImportError:
        report["pandas_read_excel_rows_per_s"] = None
    else:
        frame = pandas.read_excel(path, engine="openpyxl")
        report["pandas_read_excel_rows_per_s"] = round(
            len(frame) / (time.monotonic() - started)
        )
    return report
