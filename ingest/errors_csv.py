"""Export a file's rejected rows as a CSV that is safe to open in Excel.

People open this file in a spreadsheet, and its cells hold whatever the
uploaded file held. A cell starting with ``=``, ``+``, ``-``, ``@``, a tab
or a line break would be run as a formula there (OWASP "CSV injection"),
so such cells get a leading apostrophe, which Excel and LibreOffice show as
text and do not evaluate.
"""

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from django.utils import translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .models import InboxFile, RowRejection

#: First characters that make a spreadsheet treat a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
#: Columns before the rejected row's own fields (translated when written).
HEADER = [gettext_noop("line"), gettext_noop("column"), gettext_noop("message")]
#: Excel needs a BOM to read UTF-8 (Cyrillic titles) correctly.
BOM = "\ufeff"


def cell_neutralise(value: object) -> str:
    """Return *value* as text a spreadsheet shows and never evaluates."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Echo:
    """A write-only file that hands back what it is given (Django's recipe)."""

    def write(self, value: str) -> str:
        return value


def errors_csv_lines(rejections: Iterable[RowRejection]) -> Iterator[str]:
    """Yield the errors CSV line by line (BOM first), for streaming.

    Columns: line, column, message, then the row's fields as read
    (``field 1`` … up to the widest row); headings and messages in the
    active language.
    """
    rejections = list(rejections)
    width = max((len(r.raw) for r in rejections), default=0)
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    header = [_(heading) for heading in HEADER] + [
        _("field %(number)d") % {"number": i} for i in range(1, width + 1)
    ]
    yield BOM + writer.writerow(header)
    for rejection in rejections:
        cells = [
            rejection.line,
            rejection.column,
            rejection.message_text,
            *rejection.raw,
        ]
        yield writer.writerow([cell_neutralise(cell) for cell in cells])


def file_errors_csv(*, file: InboxFile) -> str:
    """Return the whole errors CSV of *file* (recorded rows, capped per file)."""
    return "".join(errors_csv_lines(file.rejections.order_by("line", "pk")))


def errors_csv_filename(file: InboxFile) -> str:
    """Return the download name: ``<ledger id>-<name>.errors.csv``."""
    stem = file.name[:-4] if file.name.lower().endswith(".csv") else file.name
    return f"{file.pk}-{stem}.errors.csv"


def errors_csv_response(file: InboxFile) -> StreamingHttpResponse:
    """Return the download of *file*'s recorded rejected rows, streamed.

    The one errors-CSV download, behind both the admin and the dashboard.
    """
    from .selectors import file_rejections

    language = translation.get_language()

    def lines() -> Iterator[str]:
        # Streamed after the view returns: keep the request's language.
        with translation.override(language):
            yield from errors_csv_lines(file_rejections(row=file))

    response = StreamingHttpResponse(
        lines(),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition_header(
        True, errors_csv_filename(file)
    )
    return response
