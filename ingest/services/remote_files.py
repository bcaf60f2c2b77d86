"""A remote inbox's files on the import's side: where they are, fetch, settle.

The import of a file from an s3:// or sftp:// inbox streams it into the
worker's spool folder (:func:`remote_fetch`) and reads that local copy as
it would a local file; once the ledger says how it ended, the object is
moved to its archive or failed key (:func:`remote_settle`). The scan
(:mod:`.remote`) settles what a crash left unmoved, with :func:`store_settle`.
"""

import contextlib
import datetime
import logging
from pathlib import Path

from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from .. import conf
from ..importers import FileRejected
from ..languages import file_language
from ..models import Inbox, InboxFile
from ..reasons import Grouped, Reason
from ..stores import (
    ARCHIVE_DIRNAME,
    FAILED_DIRNAME,
    PROCESSING_DIRNAME,
    Credentials,
    Location,
    ObjectChanged,
    Store,
    StoredObject,
    StoreError,
    location_parse,
    store_open,
)

logger = logging.getLogger(__name__)

State = InboxFile.State


def inbox_store(inbox: Inbox | None, folder: str) -> Store:
    """Return a connected store for *folder* with *inbox*'s credentials."""
    credentials = Credentials.of(inbox) if inbox is not None else Credentials()
    return store_open(folder, credentials)


def remote_destination(row: InboxFile, *, failed: bool, when: datetime.datetime) -> str:
    """Return the archive (or failed) URL of a remote file finished at *when*.

    ``YYYY/MM/DD/<id>-<name>`` under the inbox's archive folder and
    ``<id>-<name>`` under its failed folder, on the same store: by default
    ``archive/`` and ``failed/`` inside the inbox folder, which its listing
    (never recursive) does not show.
    """
    inbox = row.inbox
    location = location_parse(row.folder)
    if failed:
        root = _root(location, inbox.failed_folder if inbox else "", FAILED_DIRNAME)
        return location.url_for(f"{root}{row.pk}-{row.name}")
    local = timezone.localtime(when) if timezone.is_aware(when) else when
    day = local.strftime("%Y/%m/%d")
    root = _root(location, inbox.archive_folder if inbox else "", ARCHIVE_DIRNAME)
    return location.url_for(f"{root}{day}/{row.pk}-{row.name}")


def _root(location: Location, folder: str, default: str) -> str:
    """Return the key prefix of a destination folder *folder* ("" = default)."""
    if folder:
        return location_parse(folder).root
    return location.child(default)


def spool_path(row: InboxFile) -> Path:
    """Return where this worker keeps its local copy of a remote file."""
    return conf.spool_dir() / f"{row.pk}-{row.name}"


def remote_fetch(row: InboxFile) -> Path:
    """Stream a claimed remote file into the worker's spool; return the copy.

    Reads the version registered under the inbox key; a re-import reads
    the archived (or failed) object, moved into processing first so a
    crash leaves it under one key the scan knows. Memory stays flat (one
    chunk). Raises ``FileRejected`` for a file gone, replaced or too
    large, :class:`StoreTransient` to retry.
    """
    target = spool_path(row)
    target.parent.mkdir(parents=True, exist_ok=True)
    with inbox_store(row.inbox, row.folder) as store:
        key, found = _located(store, row)
        if found.size > conf.max_file_size():
            raise FileRejected(
                Reason(
                    gettext_noop(
                        "The file is %(size)s bytes, more than the %(limit)s "
                        "allowed (INGEST_MAX_FILE_SIZE); split it into smaller "
                        "files."
                    ),
                    size=Grouped(found.size),
                    limit=Grouped(conf.max_file_size()),
                )
            )
        try:
            store.fetch(key, target, version=found.version, size=found.size)
        except ObjectChanged:
            raise FileRejected(_changed_text(row)) from None
        except FileNotFoundError:
            raise FileRejected(_gone_text(row)) from None
    return target


def _located(store: Store, row: InboxFile) -> tuple[str, StoredObject]:
    """Return the key holding *row*'s content now, and how it is listed."""
    location = store.location
    inbox_key = store.key(row.inbox_path)
    found = store.stat(inbox_key)
    if found is not None and found.version == row.version:
        return inbox_key, found
    processing = processing_key(location, row)
    if (held := store.stat(processing)) is not None:
        return processing, held
    if row.stored_path:
        with contextlib.suppress(FileNotFoundError):
            store.move(store.key(row.stored_path), processing)
        if (held := store.stat(processing)) is not None:
            return processing, held
    if found is not None:
        raise FileRejected(_changed_text(row))
    raise FileRejected(_gone_text(row))


def processing_key(location: Location, row: InboxFile) -> str:
    return location.child(f"{PROCESSING_DIRNAME}{row.pk}-{row.name}")


def _changed_text(row: InboxFile) -> Reason:
    return Reason(
        gettext_noop(
            "The object changed after it was registered; nothing was imported "
            "from this version. Its new version is registered as a new file."
        )
    )


def _gone_text(row: InboxFile) -> Reason:
    return Reason(
        gettext_noop("The file is gone: neither %(path)s nor %(other)s exists."),
        path=row.inbox_path,
        other=row.stored_path or Reason(gettext_noop("(no other copy)")),
    )


def spool_clear(row: InboxFile) -> None:
    """Delete the worker's local copy of a remote file; safe to repeat."""
    spool_path(row).unlink(missing_ok=True)


def remote_settle(row: InboxFile) -> None:
    """Move a finished remote file to where the ledger says it goes.

    A store that cannot be reached now leaves it for the next scan, which
    finds the finished row for the object it lists and settles it.
    """
    if not row.stored_path:
        return
    try:
        with inbox_store(row.inbox, row.folder) as store:
            store_settle(store, row)
    except StoreError as exc:
        logger.warning(
            "Cannot move %s to %s now (%s); the next scan will.",
            row.inbox_path,
            row.stored_path,
            exc,
        )


def store_settle(store: Store, row: InboxFile) -> None:
    """Move *row*'s object to its stored key over an open *store*."""
    from .imports import file_failure_paragraph

    target = store.key(row.stored_path)
    sources = [(processing_key(store.location, row), "")]
    if row.version:
        sources.insert(0, (store.key(row.inbox_path), row.version))
    for source, version in sources:
        if source == target:
            continue
        try:
            store.move(source, target, version=version)
        except (FileNotFoundError, ObjectChanged):
            # Not there, or another version now: that one is another file.
            continue
        except FileExistsError:
            logger.error("Cannot settle %s: %s already exists.", source, target)
            return
        break
    if row.state == State.FAILED:
        with translation.override(file_language(row)):
            text = file_failure_paragraph(row) + "\n"
        store.write_text(f"{target}.error.txt", text)
