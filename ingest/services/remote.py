"""Scan inboxes on S3 buckets and SFTP servers; :mod:`.remote_files` imports.

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

import logging
from collections import Counter

from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Inbox, InboxFile
from ..stores import (
    PROCESSING_DIRNAME,
    Store,
    StoredObject,
    StoreError,
    StoreTransient,
    location_parse,
)
from .dispatch import file_queue
from .remote_files import inbox_store, store_settle

logger = logging.getLogger(__name__)

State = InboxFile.State
FINAL = InboxFile.FINAL_STATES


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
            store_settle(store, row)
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
        if not created and row.version != found.version:
            # An earlier version was sighted and has been replaced since.
            try:
                InboxFile.objects.filter(
                    pk=row.pk, state=State.DISCOVERED, version=row.version
                ).update(
                    size=found.size,
                    mtime=found.mtime,
                    version=found.version,
                    discovered_at=now,
                )
            except IntegrityError:
                return "raced"
            return "changing"
    if min_age > 0 and (now - row.discovered_at).total_seconds() < min_age:
        # Registered (by this scan or a concurrent one) less than min_age ago.
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
        store_settle(store, row)
        repaired["settled"] += 1
    return repaired


def _id_prefix(name: str) -> int | None:
    head, _sep, _rest = name.partition("-")
    return int(head) if head.isdigit() else None
