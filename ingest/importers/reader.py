"""Open a CSV file the way people actually write them, then stream its rows.

Real files come from Excel, 1C and text editors: UTF-8 with or without a
BOM, UTF-16 with one, cp1251, koi8-u, cp866 or latin-1, ``;`` or tabs,
CRLF or bare CR line ends, a title line above the header, a total below the
data, blank lines around it. The encoding is declared or detected from a
sample at the head of the file (charset-normalizer), the dialect and the
header row from the records of that sample (:mod:`.dialect`); the rest of
the file is streamed, so memory stays flat whatever its size.

A record the CSV grammar cannot read, or with another field count than the
header, does not sink the file: it is set aside as a rejected row with its
line and reason, reading resumes at the next line, and the reject-rate
policy decides. Clean records never leave the C csv module's fast path.
"""

import codecs
import contextlib
import csv
import io
import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import charset_normalizer
from django.utils.translation import gettext_noop

from .. import conf, filekinds
from ..reasons import Reason
from .base import FileRejected, RejectedRow, raw_fields_cap
from .dialect import (
    DELIMITERS,
    SKIPPED_MAX_LINES,
    Dialect,
    delimiter_name,
    dialect_detect,
    skipped_line,
)

__all__ = ["DELIMITERS", "CsvSource", "csv_open", "delimiter_name"]

#: Largest single field accepted; bigger ones mean a broken quote, not data.
FIELD_SIZE_LIMIT = 1 << 20
#: Bytes at the head of the file that encoding and dialect detection see.
SAMPLE_SIZE = 64 * 1024
#: Short records at the end of the file taken for a footer (``Total: 12``).
FOOTER_MAX_RECORDS = 5
#: Physical lines between two trims of the raw lines kept for recovery.
TRIM_EVERY = 4096
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

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        # A decompressor rewinds the file it reads; the count follows it.
        self.bytes_read = self._raw.seek(offset, whence)
        return self.bytes_read

    def tell(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._raw.close()
        super().close()

    @property
    def wide(self) -> bool:
        """True for UTF-16/32 text, whose NULs this byte check lets through."""
        return not self._refuse_nul

    def readinto(self, buffer) -> int:
        count = self._raw.readinto(buffer) or 0
        if self._refuse_nul:
            at = memoryview(buffer)[:count].tobytes().find(b"\x00")
            if at >= 0:
                raise FileRejected(
                    Reason(
                        gettext_noop(
                            "The file contains a NUL byte (offset %(offset)d): it "
                            "looks binary, not CSV text; check that the right file "
                            "was exported."
                        ),
                        offset=self.bytes_read + at,
                    )
                )
        self.bytes_read += count
        return count


class _RecordStream:
    """The records of an open file after its header, recovering from bad ones.

    ``csv.reader`` runs over the text itself; a tee keeps the raw lines it
    read since the last record boundary (trimmed every :data:`TRIM_EVERY`
    lines), so a record the grammar refuses can be shown as written and the
    lines it swallowed read again. Nothing of this runs per clean record
    but a few comparisons.
    """

    def __init__(
        self,
        text: io.TextIOBase,
        *,
        dialect: Dialect,
        path: Path,
        encoding: str,
        max_rejected: int,
    ) -> None:
        self._text = text
        self._options = dialect.reader_options()
        self._path, self._encoding = path, encoding
        self._max_rejected = max_rejected
        #: Rejected records (capped) and their exact count.
        self.malformed: list[RejectedRow] = []
        self.malformed_count = 0
        self.repeated_headers = 0
        #: Lines skipped outside the data: repeated preambles, the footer.
        self.skipped: list[tuple[int, str]] = []
        #: Short records that may be the footer, until a record follows.
        self._pending: list[tuple[int, int, list[str]]] = []
        self._restart([], (dialect.header_line or 1) - 1)
        self.header_line = 0
        self.header = self._header_read()
        if dialect.header_short:
            # The data's last column has no heading: read it, unnamed.
            self.header = [*self.header, ""]
        self._width = len(self.header)
        self._gate = self._width
        self._stripped_header = [heading.strip() for heading in self.header]
        self._blank_tail = [
            i for i, heading in enumerate(self._stripped_header) if heading
        ][-1:] or [-1]

    # --- Reading ------------------------------------------------------------

    def _restart(self, pushback: list[str], offset: int) -> None:
        """Read on from *pushback* then the text; *offset* = lines before them."""
        self._pushback = iter(pushback)
        lines = itertools.chain(self._pushback, self._text) if pushback else self._text
        ahead, self._lag = itertools.tee(lines)
        self._reader = csv.reader(ahead, **self._options)
        self._offset = self._lag_at = offset
        self._trim_at = offset + TRIM_EVERY

    def _header_read(self) -> list[str]:
        reader, start = self._reader, self._offset + 1
        try:
            for fields in reader:
                if any(value.strip() for value in fields):
                    self.header_line = start
                    self._trim(self._offset + reader.line_num)
                    return fields
                start = self._offset + reader.line_num + 1
        except csv.Error as exc:
            raise FileRejected(
                Reason(
                    gettext_noop(
                        "The header on line %(line)d cannot be read as CSV: %(error)s."
                    ),
                    line=start,
                    error=str(exc),
                )
            ) from None
        except UnicodeDecodeError:
            self._undecodable()
        raise FileRejected(
            Reason(
                gettext_noop("The file has no header line: it holds only blank lines.")
            )
        )

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        head = self.header[0]
        while True:
            reader, offset = self._reader, self._offset
            gate, trim_at = self._gate, self._trim_at
            start = offset + reader.line_num + 1
            try:
                # The hot loop: a clean record costs these comparisons only.
                for fields in reader:
                    line, start = start, offset + reader.line_num + 1
                    if (
                        len(fields) != gate
                        or line > trim_at
                        or not fields[0]
                        or fields[0] == head
                    ):
                        fields = self._unusual(line, start - 1, fields)
                        gate, trim_at = self._gate, self._trim_at
                        if fields is None:
                            continue
                    yield line, fields
            except csv.Error as exc:
                self._recover(start, offset + reader.line_num, str(exc))
                continue
            except UnicodeDecodeError:
                self._undecodable()
            break
        self._footer_keep()

    def _trim(self, through: int) -> None:
        """Forget the raw lines up to line *through*: no record needs them."""
        deque(itertools.islice(self._lag, through - self._lag_at), maxlen=0)
        self._lag_at = through
        self._trim_at = through + TRIM_EVERY

    # --- The slow path: anything but a clean record --------------------------

    def _unusual(self, line: int, last: int, fields: list[str]) -> list[str] | None:
        """Classify a record off the fast path; return it if it is data."""
        if line > self._trim_at:
            self._trim(line - 1)
        if not any(fields) or (len(fields) == 1 and not fields[0].strip()):
            return None  # A blank line, or Excel's ";;;" for an empty row.
        stripped = [value.strip() for value in fields]
        width = self._width
        if stripped[:width] == self._stripped_header and not any(stripped[width:]):
            # The header again: files concatenated, each with its header.
            self.repeated_headers += 1
            self._skipped_add(
                [(pline, self._joined(pfields)) for pline, _l, pfields in self._pending]
            )
            self._pending.clear()
            self._gate = width
            return None
        count = len(fields)
        fits = (
            count == width
            or (count > width and not any(stripped[width:]))
            or (width > count > self._blank_tail[0])
        )
        if fits:
            self._pending_reject()
            return fields
        if count < width and width > 1 and sum(1 for value in stripped if value) == 1:
            # One value in a short record: a footer if nothing follows it.
            self._pending.append((line, last, fields))
            if len(self._pending) > FOOTER_MAX_RECORDS:
                self._reject(*self._pending.pop(0), self._count_reason)
            self._gate = -1  # Every record takes this path while some wait.
            return None
        self._pending_reject()
        self._reject(line, last, fields, self._count_reason)
        return None

    def _count_reason(self, fields: list[str]) -> Reason:
        return Reason(
            gettext_noop("%(count)d fields, header has %(width)d"),
            count=len(fields),
            width=self._width,
        )

    def _joined(self, fields: list[str]) -> str:
        return self._options["delimiter"].join(fields)

    def _pending_reject(self) -> None:
        """A record followed the short ones: they were not a footer."""
        for pending in self._pending:
            self._reject(*pending, self._count_reason)
        self._pending.clear()
        self._gate = self._width

    def _footer_keep(self) -> None:
        self._skipped_add(
            [(pline, self._joined(pfields)) for pline, _l, pfields in self._pending]
        )
        self._pending.clear()

    def _skipped_add(self, lines: list[tuple[int, str]]) -> None:
        room = SKIPPED_MAX_LINES - len(self.skipped)
        self.skipped.extend(skipped_line(*item) for item in lines[: max(room, 0)])

    def _reject(self, line: int, last: int, raw: list[str], reason) -> None:
        """Count a malformed record; keep it (capped) for people to see."""
        self.malformed_count += 1
        if len(self.malformed) >= self._max_rejected:
            return
        message = reason(raw) if callable(reason) else reason
        if last > line:
            message = Reason(
                gettext_noop("%(reason)s (the record runs to line %(last)d)"),
                reason=message,
                last=last,
            )
        self.malformed.append(
            RejectedRow(line, "", message, raw_fields_cap(raw), last_line=last)
        )

    def _recover(self, start: int, end: int, error: str) -> None:
        """Set aside the record the grammar refused on lines *start*..*end*.

        A record that spans lines because of a stray quote is the stray
        quote's line alone: the lines after it are read again. A quote that
        runs to the end of the file leaves nothing to read again: refused.
        """
        if "unexpected end of data" in error:
            raise FileRejected(
                Reason(
                    gettext_noop(
                        "A quote (%(quote)s) opened on line %(line)d is never "
                        "closed: the rest of the file would be read as one field. "
                        "Close the quote or remove it."
                    ),
                    quote=self._options["quotechar"],
                    line=start,
                )
            )
        deque(itertools.islice(self._lag, start - 1 - self._lag_at), maxlen=0)
        raw = list(itertools.islice(self._lag, end - start + 1))
        rest = list(self._pushback)
        if end > start:
            reason = Reason(gettext_noop("unbalanced quote"))
        elif "field larger than field limit" in error:
            reason = Reason(
                gettext_noop("a field longer than %(limit)d characters"),
                limit=FIELD_SIZE_LIMIT,
            )
        elif "expected after" in error:
            reason = Reason(gettext_noop("text after a closing quote"))
        else:
            reason = Reason(gettext_noop("malformed record: %(error)s"), error=error)
        self._pending_reject()
        self._reject(start, start, [raw[0].rstrip("\r\n")] if raw else [], reason)
        self._restart(raw[1:] + rest, start)

    def _undecodable(self) -> None:
        # The text layer decodes ahead in chunks: find the byte itself.
        line, offset, byte = _undecodable_at(self._path, self._encoding)
        raise FileRejected(
            Reason(
                gettext_noop(
                    "The file is not valid %(encoding)s text: undecodable byte "
                    "%(byte)s on line %(line)d (offset %(offset)d); the encoding "
                    "was guessed from the start of the file. Save it as UTF-8, or "
                    "declare its encoding (INGEST_CSV_ENCODING)."
                ),
                encoding=self._encoding,
                byte=f"0x{byte:02x}",
                line=line,
                offset=offset,
            )
        ) from None


@dataclass
class CsvSource:
    """An open CSV file: its header and an iterator of (line, fields).

    ``line`` is the physical line a record starts on (1 = the first line
    of the file), so people can find it in their editor. Malformed records
    never reach ``rows``: they are counted in :attr:`malformed_count` and
    kept (capped) in :attr:`malformed`, known once ``rows`` is exhausted.
    """

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    size: int
    encoding: str = ""
    dialect: Dialect = field(default_factory=Dialect)
    _counter: "_CountingReader | None" = field(default=None, repr=False)
    _stream: _RecordStream | None = field(default=None, repr=False)

    @property
    def bytes_read(self) -> int:
        return self._counter.bytes_read if self._counter else 0

    @property
    def delimiter(self) -> str:
        return self.dialect.delimiter

    @property
    def malformed(self) -> list[RejectedRow]:
        return self._stream.malformed if self._stream else []

    @property
    def malformed_count(self) -> int:
        return self._stream.malformed_count if self._stream else 0

    def described(self) -> dict:
        """Return everything detected about the file, for the ledger (JSON)."""
        stream = self._stream
        skipped = [
            {"line": line, "text": text}
            for line, text in self.dialect.skipped + (stream.skipped if stream else [])
        ][:SKIPPED_MAX_LINES]
        return {
            "encoding": self.encoding,
            "delimiter": self.dialect.delimiter,
            "quotechar": self.dialect.quotechar,
            "escapechar": self.dialect.escapechar or "",
            "skipinitialspace": self.dialect.skipinitialspace,
            "header_short": self.dialect.header_short,
            "lineterminator": self.dialect.lineterminator,
            "header_line": stream.header_line if stream else self.dialect.header_line,
            "header": raw_fields_cap([h.strip() for h in self.header]),
            "skipped_lines": skipped,
            "repeated_headers": stream.repeated_headers if stream else 0,
            "malformed": self.malformed_count,
        }


def encoding_detect(
    sample: bytes, *, complete: bool, candidates: list[str] | None = None
) -> str:
    """Return the Python codec name for *sample*, or raise FileRejected.

    *candidates* are the codecs detection may choose (``INGEST_CSV_ENCODINGS``
    by default); a BOM decides by itself. *complete* says the sample is the
    whole file; otherwise it is cut back to its last line end so a
    multi-byte character is never split.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith(_UTF16_BOMS):
        return "utf-16"
    if b"\x00" in sample:
        raise FileRejected(
            Reason(
                gettext_noop(
                    "The file looks binary (it contains NUL bytes), not CSV text; "
                    "check that the right file was exported."
                )
            )
        )
    if candidates is None:
        candidates = conf.csv_encodings()
    if not complete:
        cut = max(sample.rfind(b"\n"), sample.rfind(b"\r"))
        if cut > 0:
            sample = sample[: cut + 1]
    match = charset_normalizer.from_bytes(sample, cp_isolation=candidates).best()
    if match is None:
        raise FileRejected(
            Reason(
                gettext_noop(
                    "The file is not text in a supported encoding (%(encodings)s); "
                    "it looks binary or damaged."
                ),
                encodings=", ".join(candidates),
            )
        )
    name = codecs.lookup(match.encoding).name
    if name == "ascii":
        return "utf-8"
    if name == "cp1252" and "iso8859-1" in candidates:
        # The two differ only in 0x80-0x9F; without those latin-1 reads the
        # sample the same and, unlike cp1252, any byte later in the file.
        if not any(0x80 <= byte <= 0x9F for byte in sample):
            return "iso8859-1"
    return name


def delimiter_detect(header_line: str) -> str:
    """Return the delimiter *header_line* alone suggests (see :mod:`.dialect`)."""
    return dialect_detect(header_line, complete=True).delimiter


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise FileRejected(
            Reason(
                gettext_noop(
                    "Unknown encoding %(encoding)s is declared for this file (the "
                    "importer or INGEST_CSV_ENCODING); fix the setting."
                ),
                encoding=repr(name),
            )
        ) from None


def _undecodable_at(path: Path, encoding: str) -> tuple[int, int, int]:
    """Return (line, offset, byte value) of the first undecodable byte."""
    decoder = codecs.getincrementaldecoder(encoding)()
    consumed, newlines = 0, 0
    with filekinds.content_open(path) as handle:
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


def _nul_refused(lines: Iterator[str]) -> Iterator[str]:
    """Pass *lines* on, refusing a NUL character the byte check cannot see.

    Only for UTF-16/32 files, whose bytes are full of NULs: PostgreSQL text
    cannot hold the character either. Rare files, so the per-line cost is
    acceptable here and nowhere else.
    """
    for number, line in enumerate(lines, start=1):
        if "\x00" in line:
            raise FileRejected(
                Reason(
                    gettext_noop(
                        "The file contains a NUL character (line %(line)d): it "
                        "looks binary, not CSV text; check that the right file "
                        "was exported."
                    ),
                    line=number,
                )
            )
        yield line


def _sample_text(sample: bytes, codec: str, *, complete: bool) -> str:
    """Decode the sample; a character cut at its end is left out."""
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    return decoder.decode(sample, final=complete)


@contextlib.contextmanager
def csv_open(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    quotechar: str | None = None,
    header_line: int | None = None,
    max_rejected: int = 1000,
) -> Iterator[CsvSource]:
    """Open *path* for streaming; reject what cannot be read as CSV text.

    *encoding* is the importer's (or inbox's) declared one; without it the
    ``INGEST_CSV_ENCODING`` setting applies, else the encoding is detected.
    *delimiter*, *quotechar* and *header_line* (the physical line of the
    header) override detection. *max_rejected* caps the malformed records
    kept. Raises :class:`FileRejected` for an empty, binary or undecodable
    file, one without a header line, or a quote never closed.
    """
    size = path.stat().st_size
    empty = FileRejected(
        Reason(gettext_noop("The file is empty (0 bytes): there is no header line."))
    )
    if size == 0:
        raise empty
    if header_line is not None and header_line < 1:
        raise FileRejected(
            Reason(gettext_noop("The header row must be line 1 or later."))
        )
    compressed = bool(filekinds.compression(path.name))
    # Progress counts the bytes of the file itself, compressed or not.
    counters: list[_CountingReader] = []

    def counted(file: io.RawIOBase) -> _CountingReader:
        counters.append(_CountingReader(file))
        return counters[0]

    with filekinds.content_open(path, wrap=counted) as raw:
        progress = counters[0]
        sample = raw.read(SAMPLE_SIZE)
        if not sample:
            raise empty  # A compressed file of nothing.
        complete = len(sample) < SAMPLE_SIZE if compressed else len(sample) >= size
        declared = encoding or conf.csv_encoding()
        if declared:
            codec = _codec(declared)
            if codec == "utf-8" and sample.startswith(codecs.BOM_UTF8):
                codec = "utf-8-sig"
        else:
            codec = _codec(encoding_detect(sample, complete=complete))
        dialect = dialect_detect(
            _sample_text(sample, codec, complete=complete),
            complete=complete,
            delimiter=delimiter,
            quotechar=quotechar,
            header_line=header_line,
        )
        raw.seek(0)
        # UTF-16/32 text is made of NUL bytes; every other codec has none.
        counter = _CountingReader(
            raw, refuse_nul=not codec.startswith(("utf-16", "utf-32"))
        )
        text = io.TextIOWrapper(
            io.BufferedReader(counter, 1 << 16), encoding=codec, newline=""
        )
        lines = _nul_refused(text) if counter.wide else text
        # The preamble is skipped as lines: a stray quote in a title line
        # must not swallow the header.
        for _line in itertools.islice(lines, (dialect.header_line or 1) - 1):
            pass
        stream = _RecordStream(
            lines,
            dialect=dialect,
            path=path,
            encoding=codec,
            max_rejected=max_rejected,
        )
        yield CsvSource(
            header=stream.header,
            rows=iter(stream),
            size=size,
            encoding=codec,
            dialect=dialect,
            _counter=progress,
            _stream=stream,
        )
