"""Stream a CSV file row by row, counting the bytes read for progress."""

import contextlib
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .base import FileRejected

#: Largest single field accepted; bigger ones mean a broken quote, not data.
FIELD_SIZE_LIMIT = 1 << 20

csv.field_size_limit(FIELD_SIZE_LIMIT)


class _CountingReader(io.RawIOBase):
    """A raw stream that counts the bytes pulled through it."""

    def __init__(self, raw: io.RawIOBase) -> None:
        self._raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._raw.readinto(buffer) or 0
        self.bytes_read += count
        return count


@dataclass
class CsvSource:
    """An open CSV file: its header and an iterator of (line, fields)."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    size: int
    _counter: _CountingReader = field(repr=False)

    @property
    def bytes_read(self) -> int:
        return self._counter.bytes_read


def _rows(reader, counter: _CountingReader) -> Iterator[tuple[int, list[str]]]:
    try:
        for fields in reader:
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # Blank line.
            yield reader.line_num, fields
    except UnicodeDecodeError as exc:
        raise FileRejected(
            f"The file is not valid UTF-8 text (bad byte near offset "
            f"{counter.bytes_read}): {exc.reason}."
        ) from None
    except csv.Error as exc:
        raise FileRejected(
            f"Unreadable CSV near line {reader.line_num}: {exc}."
        ) from None


@contextlib.contextmanager
def csv_open(path: Path) -> Iterator[CsvSource]:
    """Open *path* for streaming; reject empty or unreadable files."""
    with open(path, "rb", buffering=0) as raw:
        counter = _CountingReader(raw)
        size = path.stat().st_size
        text = io.TextIOWrapper(
            io.BufferedReader(counter, 1 << 16), encoding="utf-8-sig", newline=""
        )
        reader = csv.reader(text)
        rows = _rows(reader, counter)
        try:
            _line, header = next(rows)
        except StopIteration:
            raise FileRejected("The file is empty: no header line.") from None
        yield CsvSource(header=header, rows=rows, size=size, _counter=counter)
