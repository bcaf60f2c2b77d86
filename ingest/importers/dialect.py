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
#: Tried only when none of :data:`DELIMITERS` splits the sample: a space
#: splits every title and name, so it must split the header and nearly
#: every record alike to be the file's delimiter.
SPACE = " "
SPACE_AGREEMENT = 0.9
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
    #: Spaces after a delimiter are not data (``a, b`` and ``a   b``).
    skipinitialspace: bool = False
    #: The header names one column fewer than the data has (its last
    #: heading is missing): that column is read as unnamed, not an error.
    header_short: bool = False

    def reader_options(self) -> dict:
        """Return the keyword arguments of :func:`csv.reader` for this dialect."""
        return {
            "delimiter": self.delimiter,
            "quotechar": self.quotechar,
            "escapechar": self.escapechar,
            "doublequote": True,
            "skipinitialspace": self.skipinitialspace,
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
        pattern = rf"(?:^|{d}) *{quote}[^{quote}\r\n]*{quote}(?={d}|\r|\n|$)"
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
    if not delimiter:
        candidates = itertools.chain(candidates, _space_candidates(lines, quotechar))
    for rank, (delim, escape) in enumerate(candidates):
        if delim == SPACE and best is not None and best[0][0]:
            break  # Another delimiter splits the records: no space needed.
        quote = quotechar or _quotechar(sample, delim)
        dialect = Dialect(
            delimiter=delim,
            quotechar=quote,
            escapechar=escape,
            skipinitialspace=_spaced(sample, delim),
        )
        records, errors = _survey(lines, dialect.reader_options())
        score, width = _consistency(records, errors)
        if best is None or score > best[0]:
            best = (score, rank, dialect, records, width)
    _score, _rank, dialect, records, width = best
    dialect.lineterminator = _terminator(text)
    if header_line is None:
        first = next(
            (
                index
                for index, (_line, count, filled) in enumerate(records)
                if count >= width and (filled > 1 or width == 1)
            ),
            None,
        )
        header_line = records[first][0] if first is not None else None
        if first and _short_header(
            records[first - 1], records[first], width, lines, dialect.delimiter
        ):
            header_line = records[first - 1][0]
            dialect.header_short = True
        if header_line is None and records:
            header_line = records[0][0]
    dialect.header_line = header_line
    if header_line is not None:
        dialect.skipped = [
            skipped_line(number, content)
            for number, content in enumerate(lines[: header_line - 1], start=1)
            if content.strip(" \t\r\n" + dialect.delimiter)
        ][:SKIPPED_MAX_LINES]
    return dialect


def _space_candidates(lines: list[str], quotechar: str | None):
    """Yield the space dialect if its records agree on a width above 1."""
    sample = "".join(lines)
    options = Dialect(
        delimiter=SPACE,
        quotechar=quotechar or _quotechar(sample, SPACE),
        skipinitialspace=True,
    ).reader_options()
    records, errors = _survey(lines, options)
    if len(records) < 2 or errors:  # One line shows no agreement.
        return
    widths = Counter(width for _line, width, _filled in records)
    width, agreeing = widths.most_common(1)[0]
    if (
        width > 1
        and records[0][1] == width
        and (agreeing >= SPACE_AGREEMENT * len(records))
    ):
        yield SPACE, None


def _spaced(text: str, delimiter: str) -> bool:
    """Return True when most delimiters in *text* are followed by a space.

    ``title, author, year`` then reads as three headings, and a quoted
    field after ``, `` as quoted; a space delimiter always skips the spaces
    after it, so columns aligned with several read as one delimiter.
    """
    if delimiter == " ":
        return True
    count = text.count(delimiter)
    return count > 0 and text.count(delimiter + " ") * 2 > count


_NUMBER = re.compile(r"^[-+]?\d[\d\s.,]*$")


def _short_header(
    before: tuple[int, int, int],
    found: tuple[int, int, int],
    width: int,
    lines: list[str],
    delimiter: str,
) -> bool:
    """Return True when *before* is the header, one heading short of *found*.

    A record one field narrower than the data, every field of it a word,
    directly above the first full-width record, which holds a number: an
    export that left its last column unnamed (``title,author`` above
    ``Кобзар,Шевченко,1840``), not a title line.
    """
    line, count, filled = before
    if count != width - 1 or count < 2 or filled != count or found[0] != line + 1:
        return False
    heading = lines[line - 1]
    data = lines[found[0] - 1]
    if any(_NUMBER.match(value.strip()) for value in heading.split(delimiter)):
        return False
    return bool(re.search(r"\d", data))


def delimiter_name(delimiter: str) -> str:
    """Return how people call *delimiter* (``;`` → ``semicolon``)."""
    return {
        ",": "comma",
        ";": "semicolon",
        "\t": "tab",
        "|": "pipe",
        " ": "space",
    }.get(delimiter, repr(delimiter))
