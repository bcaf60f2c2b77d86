"""What every remote store offers the scan and the import, and how it fails.

A store is one inbox's bucket prefix or server folder. It lists candidate
files with the identity the ledger keys them by (key, size, modification
time, version), streams one to a local file, and moves one exclusively to
its archive or failed key. Errors come out as one of two kinds, so that the
caller can decide without knowing the protocol: :class:`StoreTransient`
(a timeout, a 503, throttling: try again later) and :class:`StorePermanent`
(bad credentials, a missing bucket or folder, an unknown host key: a person
must act). A missing object is ``FileNotFoundError``, a taken destination
``FileExistsError``, as for local moves.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .. import filekinds
from ..scanner import is_candidate_name

#: Bytes read per chunk when streaming an object to its local copy.
CHUNK = 1 << 20
#: Tries of a download cut in the middle before the import gives up.
RESUME_TRIES = 5


class StoreError(Exception):
    """A remote store refused or could not answer."""


class StoreTransient(StoreError):
    """The store may answer next time: a timeout, a 5xx, throttling."""


class StorePermanent(StoreError):
    """The store will not answer until a person changes something."""


class ObjectChanged(StoreError):
    """The object under a key is another version than the one registered."""


@dataclass(frozen=True)
class StoredObject:
    """A candidate file as a remote listing saw it."""

    #: The key (S3) or absolute path (SFTP) inside the store.
    key: str
    name: str
    size: int
    #: Modification time, seconds since the epoch.
    mtime: float
    #: What changes when the content is replaced: S3's ETag, SFTP's mtime.
    version: str


class Store(AbstractContextManager):
    """One inbox's remote folder; subclasses speak one protocol.

    A store holds one connection; open it with :func:`ingest.stores.store_open`
    and use it as a context manager so the connection is closed.
    """

    #: URL scheme this store serves.
    scheme = ""

    def __init__(self, location, credentials) -> None:
        self.location = location
        self.credentials = credentials

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection; safe to call twice."""

    def url(self, key: str) -> str:
        """Return the full URL of *key*, as the ledger records it."""
        return self.location.url_for(key)

    def key(self, url: str) -> str:
        """Return the key of a URL this store's :meth:`url` made."""
        return self.location.key_for(url)

    def list(self, root: str | None = None) -> list[StoredObject]:
        """Return the candidate files directly in the inbox, oldest first.

        *root* lists another folder of the store instead (one that may not
        exist: it lists as empty); the inbox folder missing is
        :class:`StorePermanent`.
        """
        found = [
            item
            for item in self._list(root or self.location.root, missing_ok=bool(root))
            # Remote files of other kinds stay where they are (not yet
            # refused like a local inbox's: moving them is the store's), and
            # so do archives: their members are unpacked into a local folder.
            if is_candidate_name(item.name)
            and filekinds.is_readable(item.name)
            and not filekinds.is_archive(item.name)
        ]
        found.sort(key=lambda item: (item.mtime, item.name))
        return found

    def _list(self, root: str, *, missing_ok: bool) -> Iterator[StoredObject]:
        raise NotImplementedError

    def stat(self, key: str) -> StoredObject | None:
        """Return *key* as a listing would show it, or None if it is not there."""
        raise NotImplementedError

    def open(self, key: str, *, version: str = "", offset: int = 0) -> BinaryIO:
        """Return a streaming reader of *key* from *offset*.

        With *version*, raise :class:`ObjectChanged` if the object is
        another version now.
        """
        raise NotImplementedError

    def move(self, source: str, target: str, *, version: str = "") -> None:
        """Move *source* to *target*, never replacing an existing *target*.

        With *version*, only that version of *source* is moved (another
        one raises :class:`ObjectChanged`). A crash in the middle leaves
        the content under at least one of the two keys.
        """
        raise NotImplementedError

    def write_text(self, key: str, text: str) -> None:
        """Store *text* under *key* (UTF-8), replacing what was there."""
        raise NotImplementedError

    def reconnect(self) -> None:
        """Connect again after the connection broke (SFTP); a no-op by default."""

    def fetch(self, key: str, target: Path, *, version: str, size: int) -> str:
        """Stream *key* into the local file *target*; return its SHA-256.

        Memory stays at one chunk whatever the size. A download cut in the
        middle resumes where it stopped (a ranged read of the same
        version), up to :data:`RESUME_TRIES` times with a growing pause.
        """
        digest = hashlib.sha256()
        written = 0
        tries = 0
        with open(target, "wb") as out:
            while True:
                try:
                    if tries:
                        self.reconnect()
                    with self.open(key, version=version, offset=written) as source:
                        while chunk := source.read(CHUNK):
                            out.write(chunk)
                            digest.update(chunk)
                            written += len(chunk)
                    if written >= size:
                        return digest.hexdigest()
                    raise StoreTransient(
                        f"{self.url(key)} ended after {written} of {size} bytes."
                    )
                except StoreTransient:
                    tries += 1
                    if tries >= RESUME_TRIES:
                        raise
                    time.sleep(min(2**tries * 0.5, 10))
                except (OSError, EOFError) as exc:
                    if isinstance(exc, FileNotFoundError):
                        raise
                    tries += 1
                    if tries >= RESUME_TRIES:
                        raise StoreTransient(
                            f"Reading {self.url(key)} failed {tries} times: {exc}"
                        ) from exc
                    time.sleep(min(2**tries * 0.5, 10))
