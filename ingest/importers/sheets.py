"""Open a spreadsheet (``.xlsx``, ``.xlsm``, ``.xls``, ``.ods``) as a CSV is read.

Partners send workbooks; people should not have to export them. The
workbook is read with python-calamine, which gives each cell typed (a
formula as its cached value), and every cell becomes the text the value
types read in a CSV: a date ``2026-11-25``, a date and time
``2026-11-25 14:05:00``, a whole number ``1840`` (never ``1840.0``),
``true``/``false``, text as it is (``00123`` keeps its zeros). So a
spreadsheet goes through the same pipeline, columns and reasons as a CSV,
and :class:`SheetSource` offers what :class:`~.reader.CsvSource` does.

The header is the first row with two or more filled cells: a title row
above it (``Вивантаження 2026-12-01``) and blank rows are skipped and
recorded, like a CSV's preamble; a sheet of one column takes its first
filled row. Blank rows among the data are skipped. An error cell
(``#N/A``) makes its row a rejected row naming the cell (``.xlsx`` and
``.xlsm`` only: see :mod:`.sheet_errors`).
"""

import contextlib
import datetime
import itertools
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import python_calamine
from django.utils.translation import gettext_noop

from .. import conf
from ..reasons import Grouped, Reason
from .base import FileRejected, RejectedRow, raw_fields_cap
from .dialect import SKIPPED_MAX_LINES, skipped_line
from .sheet_errors import Errors, xlsx_errors

__all__ = ["SheetSource", "cell_text", "sheet_open"]

#: Rows looked at for a header of two or more cells before settling for one.
HEADER_SEARCH_ROWS = 20
#: Kinds that are zip archives, whose inflated size is checked before reading.
_ZIPPED = ("xlsx", "xlsm", "ods")


def cell_text(value: object) -> str:
    """Return a cell's value as the text the value types read."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        if "e" in text:
            text = format(Decimal(text), "f")  # 1e+20 → 100000000000000000000
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        minutes, seconds = divmod(int(value.total_seconds()), 60)
        return f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"
    return str(value)


def column_letters(index: int) -> str:
    """Return the spreadsheet name of 0-based column *index*: 0 → A, 27 → AB."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass
class SheetSource:
    """An open sheet: its header and an iterator of (line, fields).

    ``line`` is the sheet's row number as the spreadsheet shows it. Rows
    with an error cell never reach ``rows``: they are counted in
    :attr:`malformed_count` and kept (capped) in :attr:`malformed`, known
    once ``rows`` is exhausted. :attr:`bytes_read` stays 0 until then and
    jumps to the file's size: calamine reads the workbook whole.
    """

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    size: int
    sheet: str
    kind: str
    header_line: int
    skipped: list[tuple[int, str]] = field(default_factory=list)
    malformed: list[RejectedRow] = field(default_factory=list)
    malformed_count: int = 0
    done: bool = False
    #: A CSV's; a sheet has none (the pipeline records them as they are).
    encoding: str = ""
    delimiter: str = ""

    @property
    def bytes_read(self) -> int:
        return self.size if self.done else 0

    def described(self) -> dict:
        """Return everything detected about the file, for the ledger (JSON)."""
        return {
            "kind": self.kind,
            "sheet": self.sheet,
            "header_line": self.header_line,
            "header": raw_fields_cap([h.strip() for h in self.header]),
            "skipped_lines": [
                {"line": line, "text": text} for line, text in self.skipped
            ],
            "repeated_headers": 0,
            "malformed": self.malformed_count,
        }


def _refuse(msgid: str, **params) -> FileRejected:
    return FileRejected(Reason(msgid, **params))


def _workbook_open(path: Path, kind: str) -> python_calamine.CalamineWorkbook:
    """Open the workbook at *path*, or raise FileRejected saying why not."""
    if kind in _ZIPPED:
        try:
            with zipfile.ZipFile(path) as archive:
                inflated = sum(item.file_size for item in archive.infolist())
        except (zipfile.BadZipFile, OSError):
            inflated = 0  # calamine says what is wrong below.
        limit = conf.max_uncompressed_bytes()
        if inflated > limit:
            raise _refuse(
                gettext_noop(
                    "Refused: the file inflates to more than %(limit)s bytes "
                    "(INGEST_MAX_UNCOMPRESSED_BYTES); split it into smaller files."
                ),
                limit=Grouped(limit),
            )
    try:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError:
        raise _refuse(
            gettext_noop(
                "The workbook is protected with a password; save it without one."
            )
        ) from None
    except (python_calamine.CalamineError, OSError, ValueError) as error:
        raise _refuse(
            gettext_noop(
                "The file cannot be read as a %(kind)s workbook (%(error)s); open "
                "it in the spreadsheet program and save it again, or export the "
                "sheet as CSV."
            ),
            kind=kind,
            error=str(error) or type(error).__name__,
        ) from None


def _sheet_pick(
    workbook: python_calamine.CalamineWorkbook, sheet: str | int | None
) -> python_calamine.CalamineSheet:
    """Return the sheet asked for, else the first one with data.

    *sheet* is a name, or a position counted from 1 as people count tabs
    (``"2"`` too, unless a sheet is called that).
    """
    names = workbook.sheet_names
    if sheet is None or sheet == "":
        for name in names:
            found = workbook.get_sheet_by_name(name)
            if found.start is not None:
                return found
        raise _refuse(gettext_noop("The workbook has no sheet with data."))
    if isinstance(sheet, str) and sheet in names:
        return workbook.get_sheet_by_name(sheet)
    position = sheet if isinstance(sheet, int) else None
    if isinstance(sheet, str) and sheet.strip().isdigit():
        position = int(sheet)
    if position is not None and 1 <= position <= len(names):
        return workbook.get_sheet_by_index(position - 1)
    raise _refuse(
        gettext_noop("The workbook has no sheet %(sheet)s; it has %(sheets)s."),
        sheet=repr(sheet),
        sheets=", ".join(repr(name) for name in names),
    )


def _header_find(
    rows: Iterator[tuple[int, list[str]]], header_line: int | None
) -> tuple[int, list[str], list[tuple[int, list[str]]], list[tuple[int, str]]]:
    """Return (line, header, rows read past it, skipped lines) of a sheet."""
    seen: list[tuple[int, list[str]]] = []
    for line, fields in rows:
        seen.append((line, fields))
        filled = sum(1 for value in fields if value.strip())
        if header_line is not None:
            if line >= header_line:
                break
        elif filled >= 2 or (filled and len(seen) >= HEADER_SEARCH_ROWS):
            break
    filled_rows = [(line, f) for line, f in seen if any(v.strip() for v in f)]
    if header_line is not None:
        chosen = next((item for item in seen if item[0] == header_line), None)
        if chosen is not None and not any(v.strip() for v in chosen[1]):
            chosen = None
    else:
        chosen = next(
            (item for item in filled_rows if sum(1 for v in item[1] if v.strip()) >= 2),
            filled_rows[0] if filled_rows else None,
        )
    if chosen is None:
        raise _refuse(
            gettext_noop("The sheet has no header row: it holds only blank rows.")
        )
    line, header = chosen
    while header and not header[-1].strip():
        header = header[:-1]
    skipped = [
        skipped_line(number, " ".join(v for v in fields if v.strip()))
        for number, fields in filled_rows
        if number < line
    ][:SKIPPED_MAX_LINES]
    return line, header, [item for item in seen if item[0] > line], skipped


def _data_rows(
    source: SheetSource,
    rows: Iterator[tuple[int, list[str]]],
    errors: Errors,
    first_column: int,
    max_rejected: int,
) -> Iterator[tuple[int, list[str]]]:
    """Yield the data rows, skipping blank ones and setting aside errors."""
    for line, fields in rows:
        if not any(fields):
            continue
        if errors:
            bad = [
                (column, errors[line - 1, first_column + column])
                for column in range(len(fields))
                if (line - 1, first_column + column) in errors
            ]
            if bad:
                source.malformed_count += 1
                if len(source.malformed) < max_rejected:
                    column, error = bad[0]
                    heading = (
                        source.header[column] if column < len(source.header) else ""
                    )
                    cell = f"{source.sheet}!{column_letters(first_column + column)}"
                    source.malformed.append(
                        RejectedRow(
                            line,
                            heading.strip(),
                            Reason(
                                gettext_noop("%(cell)s holds the error %(error)s"),
                                cell=f"{cell}{line}",
                                error=error,
                            ),
                            raw_fields_cap(fields),
                        )
                    )
                continue
        yield line, fields
    source.done = True


@contextlib.contextmanager
def sheet_open(
    path: Path,
    *,
    sheet: str | int | None = None,
    header_line: int | None = None,
    max_rejected: int = 1000,
) -> Iterator[SheetSource]:
    """Open the workbook at *path* and stream one sheet's rows as text.

    *sheet* names the sheet (or its position, from 1); without it the
    first sheet with data is read. *header_line* is the row of the header,
    overriding detection. calamine holds the chosen sheet's cells in memory
    (compactly, in Rust); rows become Python lists one at a time. Raises
    :class:`FileRejected` for a file that is no readable workbook, a
    missing sheet, or a sheet without a header row.
    """
    size = path.stat().st_size
    if size == 0:
        raise _refuse(
            gettext_noop("The file is empty (0 bytes): there is no header line.")
        )
    if header_line is not None and header_line < 1:
        raise _refuse(gettext_noop("The header row must be line 1 or later."))
    kind = path.suffix.lower().lstrip(".")
    workbook = _workbook_open(path, kind)
    try:
        chosen = _sheet_pick(workbook, sheet)
        first_column = chosen.start[1] if chosen.start else 0
        # iter_rows starts at the sheet's first row, and at its first
        # column with data: line numbers are rows as people see them.
        rows = (
            (number, [cell_text(value) for value in values])
            for number, values in enumerate(chosen.iter_rows(), start=1)
        )
        line, header, ahead, skipped = _header_find(rows, header_line)
        source = SheetSource(
            header=header,
            rows=iter(()),
            size=size,
            sheet=chosen.name,
            kind=kind,
            header_line=line,
            skipped=skipped,
        )
        errors = xlsx_errors(path, chosen.name) if kind in ("xlsx", "xlsm") else {}
        source.rows = _data_rows(
            source, itertools.chain(ahead, rows), errors, first_column, max_rejected
        )
        yield source
    finally:
        workbook.close()
