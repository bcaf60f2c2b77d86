"""Move files between inbox, processing, archive and failed without losing any.

Moves never replace an existing file (a hard link refuses an existing
target, unlike ``rename``), so two scans racing for one file cannot clobber
each other, and a crash at any line leaves the file under at least one name.
"""

import datetime
import errno
import os
import shutil
import uuid
from pathlib import Path

from django.utils import timezone

from . import conf, filekinds

#: Where files wait between the inbox and their final folder, per inbox.
PROCESSING_DIRNAME = ".processing"
_LINK_UNSUPPORTED = {
    errno.EXDEV,
    errno.EPERM,
    errno.ENOTSUP,
    errno.EMLINK,
    errno.EACCES,
}


def _same_file(a: Path, b: Path) -> bool:
    try:
        sa, sb = os.lstat(a), os.lstat(b)
    except FileNotFoundError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def move_exclusive(src: Path, dst: Path) -> None:
    """Move *src* to *dst*, refusing to replace an existing *dst*.

    Raises ``FileNotFoundError`` when *src* is gone (someone else moved it)
    and ``FileExistsError`` when *dst* holds a different file. Symbolic links
    are moved as links, never followed.
    """
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst, follow_symlinks=False)
    except FileExistsError:
        if not os.path.lexists(src):
            # A concurrent mover of the same file linked and unlinked it
            # between our two looks: it is theirs, not a clash of names.
            raise FileNotFoundError(errno.ENOENT, "Moved meanwhile", str(src)) from None
        if not _same_file(src, dst):
            raise
        # A crash between link and unlink left two names; finish the move.
    except OSError as exc:
        if exc.errno not in _LINK_UNSUPPORTED:
            raise
        _copy_into_place(src, dst)
    os.unlink(src)


def _copy_into_place(src: Path, dst: Path) -> None:
    """Copy across filesystems: to a hidden temporary name, then into place."""
    temporary = dst.with_name(f".{dst.name}.{uuid.uuid4().hex}.tmp")
    try:
        shutil.copy2(src, temporary, follow_symlinks=False)
        if os.path.lexists(dst):
            raise FileExistsError(errno.EEXIST, "Target exists", str(dst))
        os.rename(temporary, dst)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file's content, reading it in chunks.

    Of the decompressed content for a compressed file (``.csv.gz``), so the
    same data compressed or not is one content, a duplicate.
    """
    return filekinds.content_sha256(path)


def processing_dir(inbox: Path) -> Path:
    return inbox / PROCESSING_DIRNAME


def archive_path(*, file_id: int, name: str, when: datetime.datetime) -> Path:
    """Return ``archive/YYYY/MM/DD/<id>-<name>`` for a file done at *when*."""
    local = timezone.localtime(when) if timezone.is_aware(when) else when
    return conf.archive_dir() / local.strftime("%Y/%m/%d") / f"{file_id}-{name}"


def failed_path(*, file_id: int, name: str) -> Path:
    return conf.failed_dir() / f"{file_id}-{name}"


def reason_path(path: Path) -> Path:
    """Return the ``<name>.error.txt`` that explains a failed file."""
    return path.with_name(f"{path.name}.error.txt")


def write_text_atomic(path: Path, text: str) -> None:
    """Write *text* to *path* through a temporary name, so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
