"""Scan an inbox: register stable files once, queue them, repair the ledger.

Safe to run concurrently with itself and with imports: a discovered file
has one ledger row (partial unique index), files move by exclusive moves,
state by conditional UPDATEs.
"""

import datetime
import logging
import os
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from .. import conf, filekinds, locks, scanner, storage
from ..importers import importer_names
from ..languages import file_language
from ..models import Inbox, InboxFile
from ..reasons import Reason, reason_stored
from ..stores import is_remote
from .dispatch import (
    file_queue,
    files_queue,
    import_publish,
    notify_publish,
    preview_queue,
    webhook_republish,
)
from .imports import file_settle
from .inboxes import inbox_default
from .previews import previews_repair
from .remote import remote_scan

logger = logging.getLogger(__name__)

State = InboxFile.State
ChosenBy = InboxFile.ChosenBy
FINAL = InboxFile.FINAL_STATES
#: Files registered per round of statements: a larger burst makes several
#: rounds. The queueing UPDATE takes three parameters a file, and SQLite
#: before 3.32 allows 999 a statement.
REGISTER_BATCH = 300


def inbox_scan(*, inbox: Inbox | None = None, importer: str = "") -> dict:
    """Register new stable files in *inbox*, queue them, and repair the ledger.

    *inbox* None is the default inbox. *importer* is a dataset a person
    chose for every file this scan registers (``ingest_scan --importer``);
    without it each file is routed at import time (the inbox's dataset,
    else its header). Side effects: ledger rows created/updated, files
    moved into the inbox's processing folder, import and notify messages
    published. Safe to run concurrently with itself and with imports.
    """
    if inbox is None:
        inbox = inbox_default()
    for name in filter(None, (importer, inbox.importer)):
        if name not in importer_names():
            raise ImproperlyConfigured(
                f"Unknown dataset {name!r} for inbox {inbox.name!r}; known: "
                f"{', '.join(importer_names())}."
            )
    min_age = conf.min_file_age() if inbox.min_file_age is None else inbox.min_file_age
    if inbox.is_remote:
        summary = remote_scan(inbox=inbox, importer=importer, min_age=min_age)
        summary.update(_queue_repair(folder=summary["folder"]))
        return summary
    root = conf.resolve_inbox(str(inbox.path))
    processing = storage.processing_dir(root)
    if processing.is_symlink():
        # Files moved through it would leave the inbox for wherever it points.
        raise ImproperlyConfigured(
            f"{processing} is a symbolic link; refusing to scan {root}."
        )
    processing.mkdir(parents=True, exist_ok=True)
    summary: Counter[str] = Counter()
    seen: set[str] = set()
    listed = list(scanner.inbox_list(root))
    for start in range(0, len(listed), REGISTER_BATCH):
        batch = listed[start : start + REGISTER_BATCH]
        seen.update(str(found.path) for found in batch)
        try:
            summary.update(
                found_register_many(
                    found=batch,
                    inbox=inbox,
                    root=root,
                    importer=importer,
                    min_age=min_age,
                )
            )
        except Exception:
            # The database refused the round: its files wait for the next
            # scan, the repair below still runs.
            logger.exception("Could not register %d files of %s", len(batch), root)
            summary["errors"] += len(batch)
    summary.update(
        _inbox_repair(inbox=root, seen=seen, preview_first=inbox.preview_first)
    )
    Inbox.objects.filter(pk=inbox.pk).update(last_scanned_at=timezone.now())
    return {"inbox": inbox.name, "folder": str(root), "seen": len(seen), **summary}


def found_register(
    *,
    found: scanner.FoundFile,
    inbox: Inbox,
    root: Path,
    importer: str = "",
    min_age: float | None = None,
) -> str:
    """Register one file found in *inbox* and queue it once it is stable.

    Returns what happened (``queued``, ``waiting``, ``changing``, ``raced``,
    ``refused``, ``conflicts``, ``previewed``); see :func:`found_register_many`.
    """
    (outcome,) = found_register_many(
        found=[found], inbox=inbox, root=root, importer=importer, min_age=min_age
    )
    return outcome


def found_register_many(
    *,
    found: Sequence[scanner.FoundFile],
    inbox: Inbox,
    root: Path,
    importer: str = "",
    min_age: float | None = None,
) -> list[str]:
    """Register files found in *inbox* and queue those that are stable.

    Returns what happened to each, in order: ``queued``, ``waiting``,
    ``changing``, ``raced``, ``refused``, ``conflicts`` or ``previewed``.
    *min_age* None skips the stability checks (the age, and a size or
    mtime changed since an earlier sighting), for a caller that knows the
    writers have finished (the watcher: a close after writing, a rename
    into the inbox).

    However many files (up to :data:`REGISTER_BATCH` a round), the ledger
    hears four statements: one INSERT of every file (``ON CONFLICT DO
    NOTHING``), one SELECT of their DISCOVERED rows, one UPDATE queueing
    the ones moved into processing and, after commit, one UPDATE of their
    ``dispatched_at``, with the import messages published in one broker
    round trip between the two.
    Safe to call concurrently for the same files: the partial unique index
    keeps one DISCOVERED row per path whoever inserts it (the SELECT finds
    the winner's), the exclusive move lets one caller take each file, and
    the conditional UPDATE lets one queue it.
    """
    if len(found) > REGISTER_BATCH:
        return [
            outcome
            for start in range(0, len(found), REGISTER_BATCH)
            for outcome in found_register_many(
                found=found[start : start + REGISTER_BATCH],
                inbox=inbox,
                root=root,
                importer=importer,
                min_age=min_age,
            )
        ]
    outcomes = [""] * len(found)
    wanted: dict[str, int] = {}
    for index, item in enumerate(found):
        if item.refused:
            outcomes[index] = _found_refuse(found=item, inbox=inbox, root=root)
        elif str(item.path) in wanted:
            outcomes[index] = "raced"  # Named twice in one batch: once is enough.
        else:
            wanted[str(item.path)] = index
    if not wanted:
        return outcomes
    routing = _routing_defaults(inbox, importer)
    InboxFile.objects.bulk_create(
        [
            InboxFile(
                name=found[index].name,
                inbox=inbox if inbox.pk else None,
                folder=str(root),
                inbox_path=path,
                size=found[index].size,
                mtime=found[index].mtime,
                state=State.DISCOVERED,
                **routing,
            )
            # Sorted, so concurrent batches take the paths' index entries in
            # the same order and cannot deadlock each other.
            for path, index in sorted(wanted.items())
        ],
        ignore_conflicts=True,
    )
    rows = {
        row.inbox_path: row
        for row in InboxFile.objects.filter(
            state=State.DISCOVERED, inbox_path__in=list(wanted)
        )
    }
    taken: dict[int, int] = {}  # Ledger id -> index in *found*.
    for path, index in wanted.items():
        row = rows.get(path)
        if row is None:
            # Another caller's row left DISCOVERED between our two statements.
            outcomes[index] = "raced"
            continue
        outcome = _found_take(row=row, found=found[index], min_age=min_age)
        if outcome:
            outcomes[index] = outcome
        elif inbox.preview_first and not filekinds.is_archive(row.name):
            # A person confirms each file of this inbox from its preview first
            # (an archive's members, each: the archive itself is unpacked).
            held = preview_queue(row.pk, from_states=[State.DISCOVERED])
            outcomes[index] = "previewed" if held else "raced"
        else:
            taken[row.pk] = index
    queued = files_queue(list(taken), from_states=[State.DISCOVERED])
    for file_id, index in taken.items():
        outcomes[index] = "queued" if file_id in queued else "raced"
    return outcomes


def _found_take(
    *, row: InboxFile, found: scanner.FoundFile, min_age: float | None
) -> str:
    """Move a registered file into processing if it is stable; "" once moved.

    Otherwise returns why not: ``changing``, ``waiting``, ``raced`` (a
    concurrent caller moved it) or ``conflicts``.
    """
    if (row.size, row.mtime) != (found.size, found.mtime):
        # Seen before with another size or mtime: still being written.
        InboxFile.objects.filter(pk=row.pk, state=State.DISCOVERED).update(
            size=found.size, mtime=found.mtime
        )
        row.size, row.mtime = found.size, found.mtime
        if min_age is not None:
            return "changing"
    if min_age is not None and time.time() - found.mtime < min_age:
        return "waiting"
    try:
        storage.move_exclusive(found.path, row.processing_path)
    except FileNotFoundError:
        # A concurrent scan moved it; it queues it too. If our listing was
        # older than its move, the row we just made is a stale sighting.
        _sighting_forget(row)
        return "raced"
    except FileExistsError:
        logger.error(
            "%s is taken; leaving %s in the inbox", row.processing_path, found.path
        )
        return "conflicts"
    return ""


def _routing_defaults(inbox: Inbox, importer: str) -> dict:
    """Return the ledger's routing fields for a file registered in *inbox*."""
    if importer:
        return {"importer_requested": importer}
    if inbox.importer and not inbox.pk:
        # A deprecated kwargs-only schedule: no Inbox row carries its dataset.
        return {"importer": inbox.importer, "importer_chosen_by": ChosenBy.INBOX}
    return {}


def _sighting_forget(row: InboxFile) -> bool:
    """Delete a DISCOVERED row made from a listing older than the file's move.

    A scan that listed a file just before a concurrent scan took it can
    register it again after the other row left DISCOVERED. Such a row has
    no file behind it (neither in the inbox nor in its processing path)
    and the same path, size and mtime as an entry that already took the
    file; only then is it deleted, so a file really deleted from the inbox
    is still recorded as vanished.
    """
    if os.path.lexists(row.inbox_path) or os.path.lexists(row.processing_path):
        return False
    taken = (
        InboxFile.objects.filter(
            inbox_path=row.inbox_path, size=row.size, mtime=row.mtime
        )
        .exclude(pk=row.pk)
        .exclude(state=State.DISCOVERED)
    )
    if not taken.exists():
        return False
    deleted, _ = InboxFile.objects.filter(pk=row.pk, state=State.DISCOVERED).delete()
    return bool(deleted)


def _found_refuse(*, found: scanner.FoundFile, inbox: Inbox, root: Path) -> str:
    """Record a file the scanner will not read and move it out of the way."""
    refused, refused_id = reason_stored(found.refused)
    row = InboxFile.objects.create(
        name=found.name,
        inbox=inbox if inbox.pk else None,
        folder=str(root),
        inbox_path=str(found.path),
        state=State.FAILED,
        error=refused,
        error_reason=refused_id,
        finished_at=timezone.now(),
    )
    destination = storage.failed_path(file_id=row.pk, name=row.name)
    InboxFile.objects.filter(pk=row.pk).update(stored_path=str(destination))
    try:
        storage.move_exclusive(found.path, destination)
        with translation.override(file_language(row)):
            note = str(found.refused)
        storage.write_text_atomic(storage.reason_path(destination), note + "\n")
    except FileNotFoundError:
        # A concurrent scan refused it first and keeps the only record.
        InboxFile.objects.filter(pk=row.pk).delete()
        return "raced"
    except OSError:
        logger.exception("Could not move refused %s", found.path)
    notify_publish(row)
    return "refused"


def _vanished() -> dict:
    """Return the ledger fields of a file gone before it was taken."""
    text, stored = reason_stored(
        Reason(gettext_noop("The file disappeared from the inbox before it was taken."))
    )
    return {"error": text, "error_reason": stored}


def _inbox_repair(
    *, inbox: Path, seen: set[str], preview_first: bool = False
) -> Counter[str]:
    """Finish what crashed scans, dead workers and lost messages left undone.

    Files in preview are left alone, but for their lost preview messages.
    """
    repaired: Counter[str] = Counter()
    now = timezone.now()
    in_inbox = InboxFile.objects.filter(folder=str(inbox))

    # Moved into processing by a scan that died before queueing it.
    for row in in_inbox.filter(state=State.DISCOVERED):
        if row.inbox_path in seen:
            continue
        if row.processing_path.exists():
            previewed = preview_first and not filekinds.is_archive(row.name)
            hand_on = preview_queue if previewed else file_queue
            if hand_on(row.pk, from_states=[State.DISCOVERED]):
                repaired["recovered"] += 1
        elif row.archive_id:
            continue  # Not taken out yet: its archive's expansion does that.
        elif _sighting_forget(row):
            repaired["forgotten"] += 1
        elif not Path(row.inbox_path).exists():
            repaired["vanished"] += InboxFile.objects.filter(
                pk=row.pk, state=State.DISCOVERED
            ).update(state=State.FAILED, finished_at=now, **_vanished())

    # Finished (done/failed/duplicate) but the file never left processing.
    processing = storage.processing_dir(inbox)
    ids = [_id_prefix(entry.name) for entry in processing.iterdir()]
    for row in InboxFile.objects.filter(pk__in=[i for i in ids if i], state__in=FINAL):
        file_settle(row)
        repaired["settled"] += 1

    repaired.update(_queue_repair(folder=str(inbox)))
    return repaired


def _queue_repair(*, folder: str) -> Counter[str]:
    """Requeue, republish and renotify what dead workers and lost messages left.

    Needs no file: shared by local and remote inboxes.
    """
    repaired: Counter[str] = Counter()
    now = timezone.now()
    in_inbox = InboxFile.objects.filter(folder=folder)

    # Importing, but nobody holds the lock: the worker died mid-import.
    for file_id in in_inbox.filter(state=State.IMPORTING).values_list("pk", flat=True):
        with locks.file_lock(file_id) as free:
            if free and InboxFile.objects.filter(
                pk=file_id, state=State.IMPORTING
            ).update(state=State.QUEUED, queued_at=now, dispatched_at=None):
                logger.warning("Import of file #%s was interrupted; requeued.", file_id)
                row = InboxFile.objects.get(pk=file_id)
                import_publish(file_id, row.task_id)
                repaired["resumed"] += 1

    # Queued, but the doorbell may have been lost (a broker restart).
    stale = now - datetime.timedelta(seconds=conf.redispatch_after())
    for file_id, task_id in in_inbox.filter(
        Q(dispatched_at__lt=stale) | Q(dispatched_at__isnull=True, queued_at__lt=stale),
        state=State.QUEUED,
    ).values_list("pk", "task_id"):
        import_publish(file_id, task_id)
        repaired["redispatched"] += 1
    # Remote inboxes hold no previews (their files are never in processing).
    if not is_remote(folder) and (resent := previews_repair(folder=Path(folder))):
        repaired["previews_resent"] += resent

    # Finished, but the email never went out (an archive: once its members are).
    for file_id in (
        in_inbox.filter(
            state__in=FINAL,
            notify_state=InboxFile.Notify.PENDING,
            finished_at__lt=now - datetime.timedelta(seconds=conf.notify_grace()),
        )
        .exclude(InboxFile.unfinished_members())
        .values_list("pk", flat=True)
    ):
        notify_publish(InboxFile.objects.select_related("inbox").get(pk=file_id))
        repaired["renotified"] += 1

    # Finished, its webhook queued, but the message never reached a worker.
    for file_id in in_inbox.filter(
        state__in=FINAL,
        webhook_state=InboxFile.Notify.PENDING,
        finished_at__lt=now - datetime.timedelta(seconds=conf.notify_grace()),
    ).values_list("pk", flat=True):
        webhook_republish(file_id)
        repaired["rewebhooked"] += 1
    return repaired


def _id_prefix(name: str) -> int | None:
    head, _sep, _rest = name.partition("-")
    return int(head) if head.isdigit() else None
