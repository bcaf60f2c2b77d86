"""Find how a CSV file is written from a sample of its records.

The header line alone misleads: a title line above it, a one-column header,
a header written by hand with other separators than the data. So every
candidate dialect (delimiter × escape style, each with the quote character
its fields are quoted with) reads the sample, and the one under which the
records agree best on their field count wins; the first record of that
width is the header and the non-blank lines above it are a preamble,
skipped and recorded.
"""

import csv
import io
import itertools
import re
from collections import Counter
from dataclasses import dataclass, field

#: Delimiters tried, preferred in this order on a tie.
DELIMITERS = (",", ";", "\t", "|")
#: Quote characters tried, preferred in this order on a tie.
QUOTECHARS = ('"', "'")
#: Escape styles tried: a doubled quote only, or a backslash as well. The
#: backslash comes last: it would eat the ``\`` of a path in an unquoted field.
ESCAPECHARS = (None, "\\")
#: A sample this malformed under a dialect is not read further under it.
MAX_SURVEY_ERRORS = 100
#: Skipped lines (preamble, footer) kept for the ledger, and their length.
SKIPPED_MAX_LINES, SKIPPED_MAX_CHARS = 20, 200
_TERMINATORS = {"\r\n": "CRLF", "\n": "LF", "\r": "CR"}


@dataclass
class Dialect:
    """How a file is written: what csv.reader needs, and where its header is.

    ``header_line`` is the physical line the header starts on (1-based);
    ``skipped`` the non-blank lines above it as ``(line, text)``.
    """

    delimiter: str = ","
    quotechar: str = '"'
    escapechar: str | None = None
    lineterminator: str = "LF"
    header_line: int | None = None
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def reader_options(self) -> dict:
        """Return the keyword arguments of :func:`csv.reader` for this dialect."""
        return {
            "delimiter": self.delimiter,
            "quotechar": self.quotechar,
            "escapechar": self.escapechar,
            "doublequote": True,
            "strict": True,
        }


def skipped_line(line: int, text: str) -> tuple[int, str]:
    """Return a skipped line as kept on the ledger: its number, capped text."""
    text = text.rstrip("\r\n")
    if len(text) > SKIPPED_MAX_CHARS:
        text = text[:SKIPPED_MAX_CHARS] + "…"
    return line, text


def _survey(lines: list[str], options: dict) -> tuple[list[tuple[int, int, int]], int]:
    """Read *lines* under *options*; return the records and the errors seen.

    A record is ``(first line, width, non-blank field count)``, its width
    not counting empty fields at its end (an export's trailing delimiter);
    blank records are left out. After a malformed record reading resumes on
    the line after its first, as the import itself does.
    """
    records, errors, begin = [], 0, 0
    while begin < len(lines) and errors <= MAX_SURVEY_ERRORS:
        reader = csv.reader(itertools.islice(lines, begin, None), **options)
        start = 1
        try:
            for fields in reader:
                line, start = start, reader.line_num + 1
                filled = [i for i, value in enumerate(fields) if value.strip()]
                if filled:
                    records.append((begin + line, filled[-1] + 1, len(filled)))
            break
        except csv.Error:
            errors += 1
            begin += start
    return records, errors


def _consistency(
    records: list[tuple[int, int, int]], errors: int
) -> tuple[tuple[bool, int], int]:
    """Return (score, width): how well the records agree on their width.

    Records of the commonest width count for, others and errors against;
    a dialect that splits nothing (width 1) loses to any that splits most
    records alike, however many title or total lines the file has.
    """
    if not records:
        return (False, -errors), 0
    widths = Counter(width for _line, width, _filled in records)
    width, agreeing = max(widths.items(), key=lambda item: (item[1], item[0]))
    return (width > 1, agreeing - (len(records) - agreeing) - errors), width


def _quotechar(text: str, delimiter: str) -> str:
    """Return the quote character the fields of *text* are quoted with.

    Evidence is a whole quoted field (a quote after a delimiter or at a line
    start, the same quote before the next delimiter or line end); a lone
    apostrophe (``L'Étranger``, ``'Tis``) is none. Double quotes on a tie.
    """
    d = re.escape(delimiter)

    def quoted(quote: str) -> int:
        pattern = rf"(?:^|{d}){quote}[^{quote}\r\n]*{quote}(?={d}|\r|\n|$)"
        return len(re.findall(pattern, text, re.MULTILINE))

    return "'" if quoted("'") > quoted('"') else '"'


def _terminator(text: str) -> str:
    crlf = text.count("\r\n")
    counts = {
        "CRLF": crlf,
        "LF": text.count("\n") - crlf,
        "CR": text.count("\r") - crlf,
    }
    seen = sorted((n, name) for name, n in counts.items() if n)
    if not seen:
        return "LF"
    return "+".join(name for _n, name in reversed(seen))


def dialect_detect(
    text: str,
    *,
    complete: bool,
    delimiter: str | None = None,
    quotechar: str | None = None,
    header_line: int | None = None,
) -> Dialect:
    """Return the dialect of the decoded sample *text*.

    *complete* says *text* is the whole file; otherwise its last line may be
    cut and is left out. *delimiter*, *quotechar* and *header_line* are
    overrides (an inbox's declaration): only the rest is detected.
    """
    lines = list(io.StringIO(text, newline=""))
    if not complete and len(lines) > 1:
        lines.pop()
    sample = "".join(lines)
    candidates = itertools.product(
        (delimiter,) if delimiter else DELIMITERS, ESCAPECHARS
    )
    best = None
    for rank, (delim, escape) in enumerate(candidates):
        quote = quotechar or _quotechar(sample, delim)
        dialect = Dialect(delimiter=delim, quotechar=quote, escapechar=escape)
        records, errors = _survey(lines, dialect.reader_options())
        score, width = _consistency(records, errors)
        if best is None or score > best[0]:
            best = (score, rank, dialect, records, width)
    _score, _rank, dialect, records, width = best
    dialect.lineterminator = _terminator(text)
    if header_line is None:
        header_line = next(
            (
                line
                for line, count, filled in records
                if count >= width and (filled > 1 or width == 1)
            ),
            records[0][0] if records else None,
        )
    dialect.header_line = header_line
    if header_line is not None:
        dialect.skipped = [
            skipped_line(number, content)
            for number, content in enumerate(lines[: header_line - 1], start=1)
            if content.strip(" \t\r\n" + dialect.delimiter)
        ][:SKIPPED_MAX_LINES]
    return dialect


def delimiter_name(delimiter: str) -> str:
    """Return how people call *delimiter* (``;`` → ``semicolon``)."""
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(
        delimiter, repr(delimiter)
    )
