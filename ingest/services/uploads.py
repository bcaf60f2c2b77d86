"""Bring files in other than by the inbox scan: uploads and ``ingest_file``."""

import codecs
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .. import conf, filekinds, storage
from ..importers import importer_names
from ..models import Inbox, InboxFile
from .dispatch import file_queue, preview_queue
from .inboxes import inbox_default

logger = logging.getLogger(__name__)

State = InboxFile.State
FINAL = InboxFile.FINAL_STATES


def file_register_path(
    *, path: Path, importer: str = "", inbox: Inbox | None = None
) -> InboxFile:
    """Copy a file from anywhere into an inbox's processing folder, queued.

    Used by ``ingest_file``; the caller's file is left where it is.
    *importer* is the dataset the person chose ("" = route by header);
    *inbox* None is the default inbox.
    """
    inbox = inbox or inbox_default()
    folder = _upload_folder(inbox)
    storage.processing_dir(folder).mkdir(parents=True, exist_ok=True)
    info = path.stat()
    row = InboxFile.objects.create(
        name=path.name,
        inbox=inbox,
        folder=str(folder),
        inbox_path=str(path.resolve()),
        source=InboxFile.Source.COMMAND,
        size=info.st_size,
        mtime=info.st_mtime,
        importer_requested=importer,
        state=State.QUEUED,
        task_id=str(uuid.uuid4()),
        queued_at=timezone.now(),
    )
    temporary = row.processing_path.with_name(f".{row.processing_path.name}.tmp")
    storage.move_exclusive(_copy(path, temporary), row.processing_path)
    return row


def _upload_folder(inbox: Inbox) -> Path:
    """Return the local folder an upload waits in for *inbox*.

    An upload "into" a remote inbox takes its settings, not its bucket:
    the file waits in the default inbox's folder, on this host.
    """
    if inbox.is_remote:
        return conf.inbox_dir()
    return conf.resolve_inbox(str(inbox.path))


def _copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


# --- Upload ---------------------------------------------------------------

#: Longest original name kept, in UTF-8 bytes: ``<id>-<name>`` and the
#: hidden temporary names built from it must fit a 255-byte file name.
UPLOAD_NAME_MAX_BYTES = 160
_UPLOAD_NAME_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class UploadRejected(Exception):
    """An upload refused before it reached the ledger; the message says why."""


def upload_name(name: str) -> str:
    """Return the client's file name reduced to one safe path component.

    Only the last component survives (``../../x.csv`` → ``x.csv``), control
    characters and leading dots go, long names are shortened keeping
    ``.csv``. The result is only ever used after ``<ledger id>-``.
    """
    base = re.split(r"[/\\]", name)[-1]
    base = _UPLOAD_NAME_UNSAFE.sub("", base).strip().lstrip(".").strip()
    ending = filekinds.readable_ending(base)
    stem = base[: -len(ending)] if ending else ""
    if not stem.strip():
        raise UploadRejected(
            _("%(name)s is not a file this service reads (it reads %(kinds)s).")
            % {
                "name": repr(name) if name else _("(no name)"),
                "kinds": filekinds.kinds_text(),
            }
        )
    encoded = stem.encode("utf-8")[: UPLOAD_NAME_MAX_BYTES - len(ending)]
    return encoded.decode("utf-8", errors="ignore").strip() + ending


def file_upload(
    *,
    name: str,
    chunks: Iterable[bytes],
    importer: str = "",
    inbox: Inbox | None = None,
    preview: bool = False,
) -> InboxFile:
    """Store one uploaded CSV, register it in the ledger and queue its import.

    *preview* stores it the same way but queues a preview instead: the row
    waits in PREVIEW until a person confirms it (:mod:`.previews`); so does
    every upload to an inbox set to preview first.

    *importer* is the dataset the uploader chose ("" = route by header),
    *inbox* the inbox it belongs to (None = the default one: its email
    recipients, encoding and aliases apply). The bytes go to a hidden
    temporary file in that inbox's processing folder (the scanner never
    lists it), checked on the way (size limit; text, not binary). The
    ledger row
    (``source=upload``) is created, the file moved to its processing path
    and the row queued in one transaction, so no scan ever sees the row
    before it is QUEUED and none can import it a second time; the import
    message is published on commit. Not idempotent: every call is a new
    upload (a second copy of the same content becomes a duplicate).

    Raises :class:`UploadRejected` with a message for the uploader.
    """
    display = upload_name(name)
    if importer and importer not in importer_names():
        raise UploadRejected(
            _("Unknown dataset %(name)s; known: %(known)s.")
            % {"name": repr(importer), "known": ", ".join(importer_names())}
        )
    inbox = inbox or inbox_default()
    # An inbox that holds its files for a person ("preview first") holds its
    # uploads too: they wait in preview like the files found in its folder.
    preview = (preview or inbox.preview_first) and not filekinds.is_archive(display)
    folder = _upload_folder(inbox)
    processing = storage.processing_dir(folder)
    processing.mkdir(parents=True, exist_ok=True)
    temporary = processing / f".upload-{uuid.uuid4().hex}.tmp"
    committed: list[bool] = []
    stored: Path | None = None
    try:
        size = _upload_write(
            chunks,
            temporary,
            limit=conf.max_upload_size(),
            text=not filekinds.is_binary_kind(display),
        )
        with transaction.atomic():
            row = InboxFile.objects.create(
                name=display,
                inbox=inbox,
                folder=str(folder),
                inbox_path=str(temporary),
                source=InboxFile.Source.UPLOAD,
                size=size,
                mtime=time.time(),
                importer_requested=importer,
                state=State.DISCOVERED,
            )
            stored = row.processing_path
            storage.move_exclusive(temporary, stored)
            transaction.on_commit(lambda: committed.append(True))
            hand_on = preview_queue if preview else file_queue
            if not hand_on(
                row.pk, from_states=[State.DISCOVERED], inbox_path=str(stored)
            ):
                raise RuntimeError(f"Upload #{row.pk} left DISCOVERED unexpectedly.")
    except BaseException:
        # Nothing may stay behind for a row that never committed.
        temporary.unlink(missing_ok=True)
        if stored is not None and not committed:
            stored.unlink(missing_ok=True)
        raise
    row.refresh_from_db()
    return row


def _upload_write(
    chunks: Iterable[bytes], path: Path, *, limit: int, text: bool = True
) -> int:
    """Write *chunks* to the new file *path*, refusing what is not CSV text.

    Binary content (a NUL byte: no 8-bit encoding the importers read has
    one) and UTF-32 are refused here, as is a file that declares UTF-8 or
    UTF-16 with a BOM but is not; which 8-bit encoding the rest is in is the
    importer's call, and its verdict is recorded in the ledger. A compressed
    file or a spreadsheet (*text* false) is binary by nature: the reader
    checks what is inside when it imports it.
    """
    decoder: codecs.IncrementalDecoder | None = None
    wide = False  # UTF-16 is made of NUL bytes; the reader checks its text.
    size = 0
    with open(path, "xb") as handle:
        for chunk in chunks:
            if not chunk:
                continue
            if size + len(chunk) > limit:
                raise UploadRejected(
                    _("The file is larger than the upload limit of %(limit)s bytes.")
                    % {
                        "limit": formats.number_format(
                            limit, use_l10n=True, force_grouping=True
                        )
                    }
                )
            if not text:
                handle.write(chunk)
                size += len(chunk)
                continue
            if not size:
                if chunk.startswith(_UTF32_BOMS):
                    raise UploadRejected(
                        _('The file is UTF-32 text; save it as "CSV UTF-8" instead.')
                    )
                if chunk.startswith(_UTF16_BOMS):
                    decoder = codecs.getincrementaldecoder("utf-16")()
                    wide = True
                elif chunk.startswith(codecs.BOM_UTF8):
                    decoder = codecs.getincrementaldecoder("utf-8")()
            if not wide and b"\0" in chunk:
                raise UploadRejected(
                    _("The file contains NUL bytes: it is binary, not CSV text.")
                )
            if decoder is not None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    name = "UTF-16" if wide else "UTF-8"
                    raise UploadRejected(
                        _(
                            "The file starts with a %(encoding)s mark but is not "
                            "%(encoding)s text (bad byte at offset %(offset)d)."
                        )
                        % {"encoding": name, "offset": size + exc.start}
                    ) from None
            handle.write(chunk)
            size += len(chunk)
        if decoder is not None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise UploadRejected(
                    _("The file is not %(encoding)s text (it ends inside a character).")
                    % {"encoding": "UTF-16" if wide else "UTF-8"}
                ) from None
        if not size:
            raise UploadRejected(_("The file is empty."))
        handle.flush()
        os.fsync(handle.fileno())
    return size
