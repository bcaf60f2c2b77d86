"""Inboxes on S3 buckets and SFTP servers: scan, fetch, settle.

No shared disk and no hard links: the ledger carries the guarantees alone.
A remote file's identity is (inbox, key, version) — the version being the
S3 ETag and upload second, or the SFTP size and mtime — held by a unique
index whatever state its row is in, so a file is registered once per
version and a replaced object is a new file. The claim is the ledger's
conditional update (``file_queue``), not a move: the object stays under
its key until the import is done, then moves to the archive (S3: copy,
then delete, both conditional on the ETag; SFTP: one rename). A crash
between the steps leaves it under at least one key; the next scan finds
the finished row for what it lists and completes the move, without a
second import.

A scan that cannot list the folder (bad credentials, a missing bucket)
raises, records why on the inbox (``last_scan_error``, shown in the
admin) and marks no file lost: only a listing that succeeded says a file
is gone.
"""

import contextlib
import datetime
import logging
from collections import Counter
from pathlib import Path

from django.db import IntegrityError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
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
    StorePermanent,
    StoreTransient,
    location_parse,
    store_open,
)
from .dispatch import file_queue

logger = logging.getLogger(__name__)

State = InboxFile.State
FINAL = InboxFile.FINAL_STATES


def inbox_store(inbox: Inbox | None, folder: str) -> Store:
    """Return a connected store for *folder* with *inbox*'s credentials."""
    credentials = Credentials.of(inbox) if inbox is not None else Credentials()
    return store_open(folder, credentials)


def remote_scan(*, inbox: Inbox, importer: str, min_age: float) -> dict:
    """List a remote inbox, register and queue its stable files, finish moves.

    Side effects: ledger rows created and queued, objects of finished rows
    moved to their archive or failed key, ``Inbox.last_scanned_at`` and
    ``last_scan_error``. Raises :class:`StorePermanent` (not worth a retry)
    or :class:`StoreTransient` (retried by the task) when the folder cannot
    be listed; nothing is marked lost then. Safe to run concurrently.
    """
    from .scan import _routing_defaults

    folder = location_parse(inbox.folder).url
    summary: Counter[str] = Counter()
    try:
        with inbox_store(inbox, folder) as store:
            listing = store.list()
            for found in listing:
                try:
                    summary[
                        _object_register(
                            store=store,
                            found=found,
                            inbox=inbox,
                            defaults=_routing_defaults(inbox, importer),
                            min_age=min_age,
                        )
                    ] += 1
                except StoreTransient:
                    raise
                except Exception:
                    logger.exception("Could not register %s", store.url(found.key))
                    summary["errors"] += 1
            seen = {store.url(found.key) for found in listing}
            summary.update(_remote_repair(store=store, folder=folder, seen=seen))
    except StoreError as exc:
        retrying = (
            _(" (the scan is retried)") if isinstance(exc, StoreTransient) else ""
        )
        Inbox.objects.filter(pk=inbox.pk).update(last_scan_error=f"{exc}{retrying}")
        logger.warning("Scan of inbox %r failed: %s", inbox.name, exc)
        raise
    Inbox.objects.filter(pk=inbox.pk).update(
        last_scanned_at=timezone.now(), last_scan_error=""
    )
    return {"inbox": inbox.name, "folder": folder, "seen": len(seen), **summary}


def _object_register(
    *,
    store: Store,
    found: StoredObject,
    inbox: Inbox,
    defaults: dict,
    min_age: float,
) -> str:
    """Register one listed object, queue it once stable; return what happened.

    Stable means two listings at least *min_age* apart agree on its
    version (timed by our clock, not the server's); 0 takes it at once.
    """
    url = store.url(found.key)
    row = InboxFile.objects.filter(inbox_path=url, version=found.version).first()
    if row is not None and row.state != State.DISCOVERED:
        if row.state in FINAL and row.stored_path:
            # Done, but the move to the archive never finished (a crash).
            _settle(store, row)
            return "settled"
        return "taken"
    now = timezone.now()
    if row is None:
        try:
            row, created = InboxFile.objects.get_or_create(
                inbox_path=url,
                state=State.DISCOVERED,
                defaults={
                    "name": found.name,
                    "inbox": inbox,
                    "folder": store.location.url,
                    "size": found.size,
                    "mtime": found.mtime,
                    "version": found.version,
                    **defaults,
                },
            )
        except IntegrityError:
            return "raced"  # A concurrent scan registered this version.
        if not created:
            # An earlier version was sighted and has been replaced since.
            try:
                InboxFile.objects.filter(pk=row.pk, state=State.DISCOVERED).update(
                    size=found.size,
                    mtime=found.mtime,
                    version=found.version,
                    discovered_at=now,
                )
            except IntegrityError:
                return "raced"
            return "changing"
        if min_age > 0:
            return "waiting"
    elif (now - row.discovered_at).total_seconds() < min_age:
        return "waiting"
    return "queued" if file_queue(row.pk, from_states=[State.DISCOVERED]) else "raced"


def _remote_repair(*, store: Store, folder: str, seen: set[str]) -> Counter[str]:
    """Record files gone from a listing that succeeded; settle re-imports.

    Only called after a complete listing, so an outage or a refused
    request never marks a file lost.
    """
    from .scan import _vanished

    repaired: Counter[str] = Counter()
    now = timezone.now()
    in_inbox = InboxFile.objects.filter(folder=folder)
    for row in in_inbox.filter(state=State.DISCOVERED).exclude(inbox_path__in=seen):
        # Its version is cleared: should the same object come back, it is new.
        repaired["vanished"] += InboxFile.objects.filter(
            pk=row.pk, state=State.DISCOVERED, version=row.version
        ).update(state=State.FAILED, finished_at=now, version="", **_vanished())
    # A re-import's copy left in processing by a crash before its move.
    processing = store.list(store.location.child(PROCESSING_DIRNAME))
    ids = [_id_prefix(item.name) for item in processing]
    for row in in_inbox.filter(pk__in=[i for i in ids if i], state__in=FINAL):
        _settle(store, row)
        repaired["settled"] += 1
    return repaired


def _id_prefix(name: str) -> int | None:
    head, _sep, _rest = name.partition("-")
    return int(head) if head.isdigit() else None


# --- The import's side ------------------------------------------------------


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
    processing = _processing_key(location, row)
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


def _processing_key(location: Location, row: InboxFile) -> str:
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
            _settle(store, row)
    except StoreError as exc:
        logger.warning(
            "Cannot move %s to %s now (%s); the next scan will.",
            row.inbox_path,
            row.stored_path,
            exc,
        )


def _settle(store: Store, row: InboxFile) -> None:
    from .imports import file_failure_paragraph

    target = store.key(row.stored_path)
    sources = [(_processing_key(store.location, row), "")]
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


__all__ = [
    "StorePermanent",
    "StoreTransient",
    "inbox_store",
    "remote_destination",
    "remote_fetch",
    "remote_scan",
    "remote_settle",
    "spool_clear",
]
