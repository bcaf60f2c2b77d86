"""Open a CSV file the way people actually write them, then stream its rows.

Real files come from Excel, 1C and text editors: UTF-8 with or without a
BOM, cp1251 with ``;``, latin-1, CRLF or bare CR line ends, blank lines
around the data. The encoding is declared or detected from a sample at the
head of the file (charset-normalizer), the delimiter from the header line;
the rest of the file is streamed, so memory stays flat whatever its size.
"""

import codecs
import contextlib
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import charset_normalizer

from .. import conf
from .base import FileRejected

#: Largest single field accepted; bigger ones mean a broken quote, not data.
FIELD_SIZE_LIMIT = 1 << 20
#: Bytes at the head of the file that encoding and delimiter detection see.
SAMPLE_SIZE = 64 * 1024
#: Encodings detection chooses among, in the detector's own spelling.
DETECTABLE_ENCODINGS = ("utf_8", "cp1251", "latin_1")
#: Delimiters the header line may use, preferred in this order on a tie.
DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

# Process-wide by the csv module's design; every reader here wants the same.
csv.field_size_limit(FIELD_SIZE_LIMIT)


class _CountingReader(io.RawIOBase):
    """A raw stream that counts the bytes pulled through it.

    With *refuse_nul* it also refuses a NUL byte anywhere in the file, not
    only in the sample the encoding was guessed from: Python's csv module
    passes NULs through, and PostgreSQL text cannot hold them.
    """

    def __init__(self, raw: io.RawIOBase, *, refuse_nul: bool = False) -> None:
        self._raw = raw
        self._refuse_nul = refuse_nul
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._raw.readinto(buffer) or 0
        if self._refuse_nul:
            at = memoryview(buffer)[:count].tobytes().find(b"\x00")
            if at >= 0:
                raise FileRejected(
                    f"The file contains a NUL byte (offset {self.bytes_read + at}): "
                    "it looks binary, not CSV text; check that the right file "
                    "was exported."
                )
        self.bytes_read += count
        return count


@dataclass
class CsvSource:
    """An open CSV file: its header and an iterator of (line, fields).

    ``line`` is the physical line a record starts on (1 = the first line
    of the file), so people can find it in their editor.
    """

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    size: int
    encoding: str = ""
    delimiter: str = ","
    _counter: _CountingReader | None = field(default=None, repr=False)

    @property
    def bytes_read(self) -> int:
        return self._counter.bytes_read if self._counter else 0


def delimiter_name(delimiter: str) -> str:
    """Return how people call *delimiter* (``;`` → ``semicolon``)."""
    return _DELIMITER_NAMES.get(delimiter, repr(delimiter))


def encoding_detect(sample: bytes, *, complete: bool) -> str:
    """Return the Python codec name for *sample*, or raise FileRejected.

    *complete* says the sample is the whole file; otherwise it is cut back
    to its last line end so a multi-byte character is never split.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith(_UTF16_BOMS):
        raise FileRejected(
            'The file is UTF-16 text (Excel\'s "Unicode text"); save it as '
            '"CSV UTF-8" instead.'
        )
    if b"\x00" in sample:
        raise FileRejected(
            "The file looks binary (it contains NUL bytes), not CSV text; "
            "check that the right file was exported."
        )
    if not complete:
        cut = max(sample.rfind(b"\n"), sample.rfind(b"\r"))
        if cut > 0:
            sample = sample[: cut + 1]
    match = charset_normalizer.from_bytes(
        sample, cp_isolation=list(DETECTABLE_ENCODINGS)
    ).best()
    if match is None:
        raise FileRejected(
            "The file is not text in a supported encoding (UTF-8, cp1251 or "
            "latin-1); it looks binary or damaged."
        )
    return "utf-8" if match.encoding in ("ascii", "utf_8") else match.encoding


def delimiter_detect(header_line: str) -> str:
    """Return the delimiter the header line uses most, outside quotes.

    Only the header is looked at: data rows legitimately contain commas in
    quoted titles, and a header never needs them.
    """
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first on ties.
    return best if counts[best] else ","


def _first_line(text: str) -> str:
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.strip().strip(",;\t|"):
            return line
    return ""


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise FileRejected(
            f"Unknown encoding {name!r} is declared for this file (the importer "
            "or INGEST_CSV_ENCODING); fix the setting."
        ) from None


def _records(reader, path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
    start = reader.line_num + 1
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not any(fields) or (len(fields) == 1 and not fields[0].strip()):
                continue  # A blank line, or Excel's ";;;" for an empty row.
            yield line, fields
    except UnicodeDecodeError:
        # The text layer decodes ahead in chunks: find the byte itself.
        line, offset, byte = _undecodable_at(path, encoding)
        raise FileRejected(
            f"The file is not valid {encoding} text: undecodable byte 0x{byte:02x} "
            f"on line {line} (offset {offset}); the encoding was guessed from the "
            "start of the file. Save it as UTF-8, or declare its encoding "
            "(INGEST_CSV_ENCODING)."
        ) from None
    except csv.Error as exc:
        raise FileRejected(_csv_error_text(str(exc), start)) from None


def _undecodable_at(path: Path, encoding: str) -> tuple[int, int, int]:
    """Return (line, offset, byte value) of the first undecodable byte."""
    decoder = codecs.getincrementaldecoder(encoding)()
    consumed, newlines = 0, 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # exc.start counts from the bytes the decoder still held back.
                pending = len(exc.object) - len(chunk)
                at = max(exc.start - pending, 0)
                line = newlines + chunk[:at].count(b"\n") + 1
                return line, consumed + at, chunk[at]
            consumed += len(chunk)
            newlines += chunk.count(b"\n")
    return newlines + 1, consumed, 0


def _csv_error_text(error: str, line: int) -> str:
    if "unexpected end of data" in error:
        return (
            f'A quote (") opened on line {line} is never closed: the rest of '
            "the file would be read as one field. Close the quote or remove it."
        )
    if "field larger than field limit" in error:
        return (
            f"A field starting on line {line} is longer than {FIELD_SIZE_LIMIT} "
            "characters; that is almost always an unclosed quote."
        )
    return f"Malformed CSV on line {line}: {error}."


@contextlib.contextmanager
def csv_open(path: Path, *, encoding: str | None = None) -> Iterator[CsvSource]:
    """Open *path* for streaming; reject what cannot be read as CSV text.

    *encoding* is the importer's declared one; without it the
    ``INGEST_CSV_ENCODING`` setting applies, else the encoding is detected.
    Raises :class:`FileRejected` for an empty, binary or undecodable file or
    one without a header line.
    """
    size = path.stat().st_size
    if size == 0:
        raise FileRejected("The file is empty (0 bytes): there is no header line.")
    with open(path, "rb", buffering=0) as raw:
        sample = raw.read(SAMPLE_SIZE)
        declared = encoding or conf.csv_encoding()
        if declared:
            codec = _codec(declared)
            if codec == "utf-8" and sample.startswith(codecs.BOM_UTF8):
                codec = "utf-8-sig"
        else:
            codec = _codec(encoding_detect(sample, complete=len(sample) >= size))
        delimiter = delimiter_detect(
            _first_line(sample.decode(codec, errors="replace"))
        )
        raw.seek(0)
        # UTF-16/32 text is made of NUL bytes; every other codec has none.
        counter = _CountingReader(
            raw, refuse_nul=not codec.startswith(("utf-16", "utf-32"))
        )
        text = io.TextIOWrapper(
            io.BufferedReader(counter, 1 << 16), encoding=codec, newline=""
        )
        reader = csv.reader(text, delimiter=delimiter, strict=True)
        rows = _records(reader, path, codec)
        try:
            _line, header = next(rows)
        except StopIteration:
            raise FileRejected(
                "The file has no header line: it holds only blank lines."
            ) from None
        yield CsvSource(
            header=header,
            rows=rows,
            size=size,
            encoding=codec,
            delimiter=delimiter,
            _counter=counter,
        )
