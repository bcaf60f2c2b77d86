"""List the files waiting in an inbox folder. Filesystem only, no database."""

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext_noop

from . import filekinds
from .reasons import Reason

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
    refused: Reason | str = ""


def is_candidate_name(name: str) -> bool:
    """Return True for names that are not hidden or temporary.

    Every such file gets a ledger row: one the reader takes
    (:func:`~ingest.filekinds.is_readable`) is imported, any other is
    refused with a reason, never silently left in the inbox.
    """
    return not (name.startswith(".") or name.lower().endswith(TEMPORARY_SUFFIXES))


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
            if candidate := _found(Path(entry.path), info):
                found.append(candidate)
    found.sort(key=lambda item: (item.mtime, item.name))
    yield from found


def file_found(path: Path) -> FoundFile | None:
    """Return *path* as the scanner would list it, or None if it would not.

    For one file an event named (the watcher): None when the name is no
    candidate, the path is a folder, or the file is already gone.
    """
    if not is_candidate_name(path.name):
        return None
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    return _found(path, info)


def _found(path: Path, info: os.stat_result) -> FoundFile | None:
    refused: Reason | str = ""
    if stat.S_ISLNK(info.st_mode):
        refused = Reason(
            gettext_noop(
                "Refused: the file is a symbolic link; links are never followed."
            )
        )
    elif stat.S_ISDIR(info.st_mode):
        return None
    elif not stat.S_ISREG(info.st_mode):
        refused = Reason(gettext_noop("Refused: not a regular file."))
    elif not filekinds.is_readable(path.name):
        refused = filekinds.unreadable_reason(path.name)
    return FoundFile(
        path=path,
        name=path.name,
        size=info.st_size,
        mtime=info.st_mtime,
        refused=refused,
    )
