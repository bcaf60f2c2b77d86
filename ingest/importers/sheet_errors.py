"""Find the error cells (``#N/A``, ``#DIV/0!``) of an ``.xlsx`` or ``.xlsm`` sheet.

python-calamine reads an error cell as an empty string, like a blank one
(python-calamine issue #105), so a ``#N/A`` in an optional column would be
imported as a blank value without anyone hearing of it. An Office Open XML
sheet says ``t="e"`` on such a cell: one streaming pass over the sheet's
XML finds them, keeping only the errors in memory. ``.xls`` and ``.ods``
have no such cheap pass; their error cells stay blank (see the README).
"""

import re
import zipfile
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REF = re.compile(r"([A-Z]+)(\d+)")

#: Error cells, ``(row, column)`` 0-based as in the sheet → the error shown.
Errors = dict[tuple[int, int], str]


def _parse(handle):
    # Expat (>= 2.4.1, as Python ships it) caps entity expansion and
    # ElementTree resolves no external entity: safe for untrusted files.
    return ElementTree.iterparse(handle, events=("start", "end"))  # noqa: S314


def _sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """Return the archive member holding *sheet*'s cells, or None."""
    with archive.open("xl/workbook.xml") as handle:
        workbook = ElementTree.parse(handle)  # noqa: S314 (see _parse)
    rel_id = next(
        (
            element.get(f"{_REL}id")
            for element in workbook.iter(f"{_MAIN}sheet")
            if element.get("name") == sheet
        ),
        None,
    )
    with archive.open("xl/_rels/workbook.xml.rels") as handle:
        rels = ElementTree.parse(handle)  # noqa: S314 (see _parse)
    for rel in rels.iter(f"{_PACKAGE_REL}Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            if target.startswith("/"):
                return target.lstrip("/")
            return str(PurePosixPath("xl") / target)
    return None


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def xlsx_errors(path: Path, sheet: str) -> Errors:
    """Return the error cells of *sheet* in the workbook at *path*.

    Returns nothing for a workbook laid out otherwise than expected: this
    only sharpens what calamine read, it never refuses a file.
    """
    errors: Errors = {}
    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_part(archive, sheet)
            if part is None:
                return errors
            with archive.open(part) as handle:
                row, column, data = -1, -1, None
                for event, element in _parse(handle):
                    tag = element.tag
                    if event == "start":
                        if tag == f"{_MAIN}row":
                            number = element.get("r")
                            row = int(number) - 1 if number else row + 1
                            column = -1
                        elif tag == f"{_MAIN}sheetData":
                            data = element
                        continue
                    if tag == f"{_MAIN}c":
                        match = _REF.fullmatch(element.get("r") or "")
                        column = _column_index(match[1]) if match else column + 1
                        if element.get("t") == "e":
                            text = element.findtext(f"{_MAIN}v") or "#VALUE!"
                            errors[row, column] = text
                    elif tag == f"{_MAIN}row" and data is not None:
                        data.clear()  # Memory stays at one row's cells.
    except (KeyError, ValueError, zipfile.BadZipFile, ElementTree.ParseError):
        return errors
    return errors
