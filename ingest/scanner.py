"""List the files waiting in an inbox folder. Filesystem only, no database."""

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Name endings of files still being written by some tool; never taken.
TEMPORARY_SUFFIXES = ("~", ".part", ".tmp", ".partial", ".crdownload")


@dataclass(frozen=True)
class FoundFile:
    """A candidate file as the scanner saw it."""

    path: Path
    name: str
    size: int
    mtime: float
    #: Why the file is refused outright (a symlink, a device…); "" if not.
    refused: str = ""


def is_candidate_name(name: str) -> bool:
    """Return True for ``*.csv`` names (any case) that are not hidden or temporary."""
    lowered = name.lower()
    if name.startswith(".") or lowered.endswith(TEMPORARY_SUFFIXES):
        return False
    return lowered.endswith(".csv")


def inbox_list(inbox: Path) -> Iterator[FoundFile]:
    """Yield the candidate files directly inside *inbox*, oldest first.

    Symlinks are never followed: one is reported as refused, so that a link
    to ``/etc/passwd`` is recorded rather than read.
    """
    found = []
    with os.scandir(inbox) as entries:
        for entry in entries:
            if not is_candidate_name(entry.name):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # Taken by a concurrent scan between listing and stat.
            refused = ""
            if stat.S_ISLNK(info.st_mode):
                refused = (
                    "Refused: the file is a symbolic link; links are never followed."
                )
            elif stat.S_ISDIR(info.st_mode):
                continue
            elif not stat.S_ISREG(info.st_mode):
                refused = "Refused: not a regular file."
            found.append(
                FoundFile(
                    path=Path(entry.path),
                    name=entry.name,
                    size=info.st_size,
                    mtime=info.st_mtime,
                    refused=refused,
                )
            )
    found.sort(key=lambda item: (item.mtime, item.name))
    yield from found
