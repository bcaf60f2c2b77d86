"""Open any readable file as a source of rows: a CSV or a spreadsheet.

The one seam callers open files through, so a new kind of file is a
branch here, not a change in the pipeline, routing or previews. Each
opener takes the overrides that mean something for its kind and ignores
the others (an inbox's delimiter says nothing about a workbook).
"""

import contextlib
from collections.abc import Iterator
from pathlib import Path

from .. import filekinds
from .reader import CsvSource, csv_open
from .sheets import SheetSource, sheet_open

__all__ = ["Source", "source_open"]

#: What :func:`source_open` yields; both offer the same interface.
Source = CsvSource | SheetSource


@contextlib.contextmanager
def source_open(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    quotechar: str | None = None,
    header_line: int | None = None,
    sheet: str | int | None = None,
    max_rejected: int = 1000,
) -> Iterator[Source]:
    """Open *path* with the reader its name calls for (see :mod:`..filekinds`).

    *sheet* applies to spreadsheets, *encoding*, *delimiter* and
    *quotechar* to CSV files; *header_line* and *max_rejected* to both.
    """
    if filekinds.is_sheet(path.name):
        opened = sheet_open(
            path, sheet=sheet, header_line=header_line, max_rejected=max_rejected
        )
    else:
        opened = csv_open(
            path,
            encoding=encoding,
            delimiter=delimiter,
            quotechar=quotechar,
            header_line=header_line,
            max_rejected=max_rejected,
        )
    with opened as source:
        yield source
