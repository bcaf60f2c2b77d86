"""A .zip is a parcel of files: each member becomes a ledger entry of its own.

The archive's import task does not read rows: it registers every member as
an :class:`~ingest.models.InboxFile` linked to the archive (one row per
member, by a unique constraint, however often this runs), extracts each
into the processing folder (streamed, under the bomb limits) and queues it
like a file found in the inbox. Each member then imports exactly once, with
its own outcome; the archive's email, sent when the last member is final,
summarizes them all.

A worker killed half-way leaves the archive IMPORTING: the scan requeues
it and the expansion runs again, skipping the members already registered
and extracted, so none is registered twice and none is skipped.
"""

import logging
import os
import zipfile
from pathlib import Path, PurePosixPath

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from .. import conf, filekinds, storage
from ..importers.base import FileRejected
from ..models import InboxFile
from ..reasons import Grouped, Reason, reason_stored
from .dispatch import files_queue, preview_queue

logger = logging.getLogger(__name__)
State = InboxFile.State
Notify = InboxFile.Notify
CHUNK = 1 << 20


def archive_expand(row: InboxFile, path: Path) -> dict:
    """Register, extract and queue the members of the archive *row* at *path*.

    Returns the archive's summary; the archive itself ends DONE (its rows
    are its members'), or FAILED through :class:`FileRejected` when it is
    not a readable zip or breaks a limit as a whole.
    """
    with _zip_open(path) as archive:
        infos = _members_checked(archive, path.stat().st_size)
        _members_register(row, infos)
        queued = _members_extract(row, archive, infos)
    finished = timezone.now()
    destination = storage.archive_path(file_id=row.pk, name=row.name, when=finished)
    InboxFile.objects.filter(pk=row.pk, state=State.IMPORTING).update(
        state=State.DONE,
        finished_at=finished,
        stored_path=str(destination),
        rows_total=len(infos),
        error="",
        error_reason={},
    )
    row.refresh_from_db()
    logger.info(
        "Archive #%s (%s): %d members, %d queued now.",
        row.pk,
        row.name,
        len(infos),
        queued,
    )
    return {
        "status": row.state,
        "file_id": row.pk,
        "file": row.name,
        "members": len(infos),
        "queued": queued,
    }


def _zip_open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise FileRejected(
            Reason(
                gettext_noop(
                    "Refused: the file is not a readable .zip archive (%(error)s)."
                ),
                error=str(error) or type(error).__name__,
            )
        ) from None


def _members_checked(archive: zipfile.ZipFile, size: int) -> list[zipfile.ZipInfo]:
    """Return the archive's files (folders left out), refusing a bomb whole."""
    infos = [info for info in archive.infolist() if not info.is_dir()]
    limit = conf.max_archive_members()
    if len(infos) > limit:
        raise FileRejected(
            Reason(
                gettext_noop(
                    "Refused: the archive holds %(count)s files, more than the "
                    "%(limit)s allowed (INGEST_MAX_ARCHIVE_MEMBERS)."
                ),
                count=Grouped(len(infos)),
                limit=Grouped(limit),
            )
        )
    total = sum(info.file_size for info in infos)
    if total > conf.max_uncompressed_bytes():
        raise FileRejected(
            Reason(
                gettext_noop(
                    "Refused: the archive's files add up to %(total)s bytes, more "
                    "than %(limit)s (INGEST_MAX_UNCOMPRESSED_BYTES)."
                ),
                total=Grouped(total),
                limit=Grouped(conf.max_uncompressed_bytes()),
            )
        )
    ratio = conf.max_compression_ratio()
    if total > filekinds.RATIO_GRACE_BYTES and total > ratio * max(size, 1):
        raise FileRejected(
            Reason(
                gettext_noop(
                    "Refused: the archive inflates more than %(ratio)d times its "
                    "size (INGEST_MAX_COMPRESSION_RATIO); it looks like a "
                    "decompression bomb."
                ),
                ratio=ratio,
            )
        )
    return infos


def member_refusal(info: zipfile.ZipInfo) -> Reason | None:
    """Return why the member *info* is not taken out, or None."""
    pure = PurePosixPath(info.filename.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or ":" in pure.parts[0]:
        return Reason(
            gettext_noop(
                "Refused: the member's path %(path)s points outside the archive."
            ),
            path=repr(info.filename),
        )
    if info.flag_bits & 0x1:
        return Reason(
            gettext_noop("Refused: the member %(path)s is encrypted."),
            path=repr(info.filename),
        )
    if filekinds.is_archive(pure.name) or filekinds.compression(pure.name):
        return Reason(
            gettext_noop(
                "Refused: %(path)s is an archive or compressed file inside an "
                "archive; archives are not unpacked within archives."
            ),
            path=repr(info.filename),
        )
    if not filekinds.is_readable(pure.name):
        return filekinds.unreadable_reason(pure.name)
    return None


def _member_name(info: zipfile.ZipInfo) -> str:
    """Return the member's own name, safe as a path component."""
    name = PurePosixPath(info.filename.replace("\\", "/")).name
    return name.lstrip(".") or "member"


def _members_register(row: InboxFile, infos: list[zipfile.ZipInfo]) -> None:
    """Insert one ledger row per member; those there already are left alone."""
    now = timezone.now()
    rows = []
    for info in infos:
        refusal = member_refusal(info)
        refused, refused_id = reason_stored(refusal) if refusal else ("", {})
        rows.append(
            InboxFile(
                name=_member_name(info),
                member=info.filename,
                archive=row,
                inbox=row.inbox,
                folder=row.folder,
                inbox_path=f"{row.inbox_path}!{info.filename}#{row.pk}",
                source=row.source,
                importer_requested=row.importer_requested,
                size=info.file_size,
                mtime=now.timestamp(),
                state=State.FAILED if refusal else State.DISCOVERED,
                error=refused,
                error_reason=refused_id,
                finished_at=now if refusal else None,
                notify_state=Notify.ARCHIVE,
            )
        )
    InboxFile.objects.bulk_create(rows, ignore_conflicts=True)


def _members_extract(
    row: InboxFile, archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]
) -> int:
    """Take out each member still DISCOVERED and queue it; return how many."""
    by_name = {info.filename: info for info in infos}
    waiting = list(row.members.filter(state=State.DISCOVERED).order_by("pk"))
    preview = bool(row.inbox_id and row.inbox.preview_first)
    taken: list[int] = []
    for member in waiting:
        info = by_name.get(member.member)
        if info is None:
            continue
        target = member.processing_path
        refusal = None if target.exists() else _extract(archive, info, target)
        if refusal is not None:
            refused, refused_id = reason_stored(refusal)
            InboxFile.objects.filter(pk=member.pk, state=State.DISCOVERED).update(
                state=State.FAILED,
                error=refused,
                error_reason=refused_id,
                finished_at=timezone.now(),
            )
            continue
        taken.append(member.pk)
    # Taken out but not queued, should this run die here: the scan's repair
    # queues a DISCOVERED row whose processing file exists, as does a rerun.
    with transaction.atomic():
        if preview:
            return sum(
                preview_queue(pk, from_states=[State.DISCOVERED]) for pk in taken
            )
        return len(files_queue(taken, from_states=[State.DISCOVERED]))


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path):
    """Stream *info* into *target* atomically; return why not, or None.

    Never more bytes than the member declares: a forged size cannot
    inflate past the limits the archive was checked against.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    written = 0
    try:
        with archive.open(info) as source, open(temporary, "wb") as out:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                if written > info.file_size:
                    return Reason(
                        gettext_noop(
                            "Refused: the member %(path)s is larger than the "
                            "archive says; the archive is damaged or forged."
                        ),
                        path=repr(info.filename),
                    )
                out.write(chunk)
        storage.move_exclusive(temporary, target)
    except FileExistsError:
        pass  # Extracted by an earlier run that died before queuing it.
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as error:
        return Reason(
            gettext_noop("Refused: the member %(path)s cannot be read (%(error)s)."),
            path=repr(info.filename),
            error=str(error) or type(error).__name__,
        )
    finally:
        if temporary.exists():
            os.unlink(temporary)
    return None


def archive_members_done(row: InboxFile) -> bool:
    """Return True once every member of archive *row* is final."""
    return not row.members.exclude(state__in=InboxFile.FINAL_STATES).exists()
