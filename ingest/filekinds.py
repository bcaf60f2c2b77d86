"""Which files an inbox reads, told by their names, and how to open them.

A name says the kind (``.csv``) and, optionally, a compression around it
(``export.csv.gz``). A compressed file is read as the file inside: streamed
through the standard library's decompressors, never unpacked to disk, and
its content hash is of the decompressed bytes, so the same data compressed
or not is one content. What the name says nothing readable about is
refused with a reason listing what is read (never silently left behind).

A decompression bomb (a few kilobytes that inflate to terabytes) stops at
``INGEST_MAX_UNCOMPRESSED_BYTES`` or when the content grows more than
``INGEST_MAX_COMPRESSION_RATIO`` times the compressed size.
"""

import bz2
import gzip
import hashlib
import io
import lzma
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from django.utils.translation import gettext_noop

from . import conf
from .reasons import Grouped, Reason

#: Name endings of the kinds of text file read, maybe compressed (below).
READ_SUFFIXES = (".csv",)
#: Name endings of the spreadsheets read (:mod:`.importers.sheets`), as is.
SHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
#: Name endings of archives: each member is a file of its own
#: (:mod:`.services.archives`), never read as rows itself.
ARCHIVE_SUFFIXES = (".zip",)
#: Compressions a readable file may come in, by name ending.
COMPRESSED: dict[str, Callable[..., BinaryIO]] = {
    ".gz": gzip.open,
    ".bz2": bz2.open,
    ".xz": lzma.open,
}
#: Decompressed bytes before the ratio is looked at: a small file of
#: repeated rows compresses far better than 200× and is no bomb.
RATIO_GRACE_BYTES = 16 << 20


def compression(name: str) -> str:
    """Return the compression suffix of *name* (``.gz``), or ""."""
    lowered = name.lower()
    for suffix in COMPRESSED:
        if lowered.endswith(suffix):
            return suffix
    return ""


def inner_name(name: str) -> str:
    """Return the name of the file inside: ``export.csv.gz`` → ``export.csv``."""
    suffix = compression(name)
    return name[: -len(suffix)] if suffix else name


def is_sheet(name: str) -> bool:
    """Return True when *name* is a spreadsheet (``.xlsx``, ``.ods``, …)."""
    return name.lower().endswith(SHEET_SUFFIXES)


def is_archive(name: str) -> bool:
    """Return True when *name* is an archive of files (``.zip``)."""
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def is_binary_kind(name: str) -> bool:
    """Return True when *name*'s kind is binary: compressed, a spreadsheet, a zip.

    Such content is full of NUL bytes by design; the checks that refuse
    binary bytes in CSV text must let it pass.
    """
    return bool(compression(name)) or is_sheet(name) or is_archive(name)


def is_readable(name: str) -> bool:
    """Return True when *name* is a kind of file the reader takes."""
    return bool(readable_ending(name))


def readable_ending(name: str) -> str:
    """Return the ending that makes *name* readable (``.CSV.gz``), or ""."""
    if is_sheet(name) or is_archive(name):
        return name[name.rfind(".") :]
    inner = inner_name(name)
    for suffix in READ_SUFFIXES:
        if inner.lower().endswith(suffix):
            return name[len(inner) - len(suffix) :]
    return ""


def kinds_text() -> str:
    """Return the name endings read, for people: ``.csv, .csv.gz, …, .xlsx``."""
    return ", ".join(
        [
            *READ_SUFFIXES,
            *(kind + z for kind in READ_SUFFIXES for z in COMPRESSED),
            *SHEET_SUFFIXES,
            *ARCHIVE_SUFFIXES,
        ]
    )


def accept_attribute() -> str:
    """Return the file input's ``accept``: browsers match the last ending only."""
    return ",".join([*READ_SUFFIXES, *COMPRESSED, *SHEET_SUFFIXES, *ARCHIVE_SUFFIXES])


def unreadable_reason(name: str) -> Reason:
    """Return why a file called *name* is not read."""
    return Reason(
        gettext_noop(
            "Refused: %(name)s is not a kind of file this service reads (it "
            "reads %(kinds)s); export the data as CSV and drop that instead."
        ),
        name=repr(name),
        kinds=kinds_text(),
    )


class _Inflating(io.RawIOBase):
    """A decompressed stream that refuses a bomb or a corrupt file with a reason.

    A file that is not in the compression its name says (or is cut short)
    fails its first read here, as a reason naming the compression.
    """

    def __init__(
        self, inner: BinaryIO, compressed_size: int, raw: BinaryIO, suffix: str
    ) -> None:
        self._inner = inner
        self._raw = raw
        self._suffix = suffix
        self._compressed = max(compressed_size, 1)
        self._limit = conf.max_uncompressed_bytes()
        self._ratio = conf.max_compression_ratio()
        self.read_total = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if (offset, whence) != (0, io.SEEK_SET):
            raise io.UnsupportedOperation("only a rewind")
        self._inner.seek(0)
        self.read_total = 0
        return 0

    def readinto(self, buffer) -> int:
        try:
            count = self._inner.readinto(buffer) or 0
        except (OSError, EOFError, lzma.LZMAError) as error:
            _refuse(
                gettext_noop(
                    "Refused: the file is not readable as %(suffix)s compressed "
                    "data (%(error)s); compress it again or send it as is."
                ),
                suffix=self._suffix,
                error=str(error) or type(error).__name__,
            )
        self.read_total += count
        if self.read_total > self._limit:
            _refuse(
                gettext_noop(
                    "Refused: the file inflates to more than %(limit)s bytes "
                    "(INGEST_MAX_UNCOMPRESSED_BYTES); split it into smaller files."
                ),
                limit=Grouped(self._limit),
            )
        if (
            self.read_total > RATIO_GRACE_BYTES
            and self.read_total > self._ratio * self._compressed
        ):
            _refuse(
                gettext_noop(
                    "Refused: the file inflates more than %(ratio)d times its "
                    "compressed size (INGEST_MAX_COMPRESSION_RATIO); it looks "
                    "like a decompression bomb."
                ),
                ratio=self._ratio,
            )
        return count

    def close(self) -> None:
        self._inner.close()
        self._raw.close()  # The decompressor leaves a file it was given open.
        super().close()


def _refuse(msgid: str, **params) -> None:
    from .importers.base import FileRejected

    raise FileRejected(Reason(msgid, **params))


def content_open(path: Path, *, wrap: Callable | None = None) -> BinaryIO:
    """Open *path* for reading its content: the file inside if compressed.

    The result is an unbuffered, rewindable binary stream; reading a
    compressed file past the limits, or one that is not in the compression
    its name says, raises :class:`~ingest.importers.base.FileRejected`.
    *wrap* is applied to the file itself, under any decompression (the
    reader counts the bytes read there, for progress).
    """
    raw = open(path, "rb", buffering=0)  # The result closes it.
    if wrap is not None:
        raw = wrap(raw)
    suffix = compression(path.name)
    if not suffix:
        return raw
    inner = COMPRESSED[suffix](raw, "rb")
    return _Inflating(inner, path.stat().st_size, raw, suffix)


def content_sha256(path: Path) -> str:
    """Return the hex SHA-256 of *path*'s content (decompressed if it is)."""
    digest = hashlib.sha256()
    with content_open(path) as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
