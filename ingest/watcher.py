"""Take inbox files the moment their writer is done: file events, not ticks.

``manage.py ingest_watch`` runs a :class:`Watcher`. On Linux it listens to
inotify through watchdog and takes a file when its writer *closes it after
writing* (``IN_CLOSE_WRITE``, watchdog's ``FileClosedEvent``) or when it is
*renamed into* the inbox (the atomic-drop convention), without waiting for
the minimum file age. Opening a file, writing to it or closing a file that
was only read proves nothing, so a file still open for writing is never
taken here. Where there are no such events (another platform, or
``INGEST_WATCH_POLLING``) watchdog's polling observer reports new and
changed files, which still wait for the minimum age.

The watcher is a fast path, never the only one: it registers files through
the scan's own service (:func:`ingest.services.scan.found_register`), so a
watcher, a scan and a second watcher racing for one file import it once,
and whatever it misses (a watcher that is down, an overflowed event queue,
a write from another host over NFS) the next scheduled scan takes.

Threads: watchdog's observer thread only puts sightings on a queue; the
loop in the calling thread does the database work, so a slow or absent
database never makes the observer drop events. A sighting the database
refused is retried with backoff; the list of inboxes is read again every
``INGEST_WATCH_REFRESH`` seconds, so inboxes added, changed or disabled are
watched or unwatched without a restart.
"""

from __future__ import annotations

import heapq
import logging
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import InterfaceError, OperationalError, close_old_connections
from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from . import conf, scanner, selectors, storage
from .services import inboxes as inbox_services
from .services import scan as scan_services

logger = logging.getLogger(__name__)

#: Errors after which a sighting is tried again: the database went away.
TRANSIENT = (OperationalError, InterfaceError)
#: Seconds before the first retry of a sighting the database refused; doubled
#: on each further failure up to :data:`RETRY_MAX`.
RETRY_FIRST = 0.5
RETRY_MAX = 30.0
#: Longest sleep of the loop, so a stop request is seen at once.
TICK = 0.5
#: Most sightings registered in one round.
BURST = 500


@dataclass(order=True)
class Sighting:
    """A file an event named, and whether the event proved its write is over."""

    due: float
    path: Path = field(compare=False)
    inbox: selectors.WatchedInbox = field(compare=False)
    write_finished: bool = field(compare=False)
    failures: int = field(default=0, compare=False)


class InboxEventHandler(FileSystemEventHandler):
    """Turn one inbox's file events into sightings; runs on the observer thread.

    Only puts on a queue: no database, no file system work here.
    """

    def __init__(
        self, inbox: selectors.WatchedInbox, sink: queue.Queue, *, polling: bool
    ) -> None:
        self.inbox = inbox
        self.sink = sink
        self.polling = polling

    def on_closed(self, event: FileClosedEvent) -> None:
        self._sight(event.src_path, write_finished=True)

    def on_moved(self, event: FileSystemEvent) -> None:
        # A move out of the inbox (into .processing) has no destination here.
        if event.dest_path and not event.is_directory:
            self._sight(event.dest_path, write_finished=True)

    def on_created(self, event: FileSystemEvent) -> None:
        # inotify reports a creation at open(): the writer has just begun.
        if self.polling and not event.is_directory:
            self._sight(event.src_path, write_finished=False)

    def on_modified(self, event: FileSystemEvent) -> None:
        if self.polling and not event.is_directory:
            self._sight(event.src_path, write_finished=False)

    def _sight(self, raw: str | bytes, *, write_finished: bool) -> None:
        path = Path(raw.decode() if isinstance(raw, bytes) else raw)
        if path.parent != self.inbox.folder or not scanner.is_candidate_name(path.name):
            return
        self.sink.put(
            Sighting(
                due=time.monotonic(),
                path=path,
                inbox=self.inbox,
                write_finished=write_finished,
            )
        )


def observer_make(*, polling: bool) -> tuple[BaseObserver, bool]:
    """Return an observer and whether it polls.

    inotify on Linux (with full move events, so a file renamed in from an
    unwatched folder is a move, not a creation); the polling observer
    elsewhere, when asked, or when inotify cannot start (its instance limit).
    """
    if not polling and sys.platform.startswith("linux"):
        from watchdog.observers.inotify import InotifyObserver

        try:
            return InotifyObserver(generate_full_events=True), False
        except OSError as exc:
            logger.warning("inotify is unavailable (%s); polling instead.", exc)
    return PollingObserver(), True


class Watcher:
    """Watch the inboxes and register finished files; see the module docstring.

    :meth:`run` blocks until *stop* is set. :meth:`refresh` and :meth:`pump`
    are its steps, public so that tests can drive the loop.
    """

    def __init__(
        self, *, polling: bool | None = None, refresh_every: float | None = None
    ) -> None:
        self.observer, self.polling = observer_make(
            polling=conf.watch_polling() if polling is None else polling
        )
        self.refresh_every = (
            conf.watch_refresh() if refresh_every is None else refresh_every
        )
        self.events: queue.Queue[Sighting] = queue.Queue()
        self.watches: dict[Path, tuple[selectors.WatchedInbox, ObservedWatch]] = {}
        self.outcomes: dict[str, int] = {}
        self._later: list[Sighting] = []
        #: Paths with a look in ``_later``: a file the polling observer sees
        #: change every second gets one pending look, not one per event.
        self._looking: set[tuple[Path, bool]] = set()
        self._next_refresh = 0.0

    def start(self) -> None:
        self.observer.start()

    def stop(self) -> None:
        self.observer.stop()
        self.observer.join(10)

    def run(self, stop: threading.Event) -> None:
        """Watch until *stop* is set; never raises for a database outage."""
        self.start()
        try:
            while not stop.is_set():
                self.pump(TICK)
        finally:
            self.stop()

    # --- The inbox list ---------------------------------------------------

    def refresh(self) -> bool:
        """Watch the inboxes of the list now, unwatch the others.

        Returns False (and keeps what it watched) when the list cannot be
        read: the database is down.
        """
        self._next_refresh = time.monotonic() + self.refresh_every
        close_old_connections()
        try:
            inbox_services.inbox_default()  # As a scan would, on a new database.
            wanted = {inbox.folder: inbox for inbox in selectors.inboxes_watched()}
        except TRANSIENT as exc:
            logger.warning("Could not read the inbox list (%s); retrying.", exc)
            return False
        for folder, (inbox, watch) in list(self.watches.items()):
            if wanted.get(folder) != inbox or not folder.is_dir():
                self.observer.unschedule(watch)
                del self.watches[folder]
                logger.info("Stopped watching %s", folder)
        for folder, inbox in wanted.items():
            if folder in self.watches:
                continue
            if not folder.is_dir():
                logger.warning("Not watching %s: no such folder (yet).", folder)
                continue
            handler = InboxEventHandler(inbox, self.events, polling=self.polling)
            watch = self.observer.schedule(
                handler,
                str(folder),
                recursive=False,
                event_filter=(
                    [FileCreatedEvent, FileModifiedEvent, FileMovedEvent]
                    if self.polling
                    else [FileClosedEvent, FileMovedEvent]
                ),
            )
            self.watches[folder] = (inbox, watch)
            logger.info(
                "Watching %s (%s)", folder, "polling" if self.polling else "inotify"
            )
        return True

    # --- The loop ---------------------------------------------------------

    def pump(self, timeout: float) -> None:
        """Handle what is due: a refresh, retries, then the new sightings.

        Whatever arrived while the last round was being registered is
        registered together (:data:`BURST` at most): a burst of files costs
        a few statements and one broker round trip, not a round per file.
        """
        if time.monotonic() >= self._next_refresh:
            self.refresh()
        now = time.monotonic()
        due = []
        while self._later and self._later[0].due <= now:
            sighting = heapq.heappop(self._later)
            self._looking.discard((sighting.path, sighting.write_finished))
            due.append(sighting)
        if due:
            self.take_many(due)
        wait = min(timeout, self._next_refresh - now)
        if self._later:
            wait = min(wait, self._later[0].due - now)
        if self.events.empty():
            # A burst is one unit of work: its files share a connection,
            # which is closed (if stale or past CONN_MAX_AGE) once it is over.
            close_old_connections()
        try:
            sightings = [self.events.get(timeout=max(0.0, wait))]
        except queue.Empty:
            return
        while len(sightings) < BURST:
            try:
                sightings.append(self.events.get_nowait())
            except queue.Empty:
                break
        self.take_many(sightings)

    def take(self, sighting: Sighting) -> str:
        """Register one sighted file; return how it went (see :meth:`take_many`)."""
        (outcome,) = self.take_many([sighting])
        return outcome

    def take_many(self, sightings: list[Sighting]) -> list[str]:
        """Register sighted files through the scan's service; return how each went.

        Files of one inbox whose sightings say the same about their write
        are registered in one round. A database error puts a round's
        sightings back for a retry; any other error is logged and left to
        the next scan, like the scan does.
        """
        outcomes = [""] * len(sightings)
        rounds: dict[tuple, list[tuple[int, Sighting, scanner.FoundFile]]] = {}
        for index, sighting in enumerate(sightings):
            inbox = sighting.inbox
            if self.watches.get(inbox.folder, (None,))[0] != inbox:
                outcomes[index] = self._count("unwatched")
                continue
            found = scanner.file_found(sighting.path)
            if found is None:
                # A scan or another watcher took it.
                outcomes[index] = self._count("gone")
                continue
            key = (inbox.folder, inbox.key, sighting.write_finished)
            rounds.setdefault(key, []).append((index, sighting, found))
        for batch in rounds.values():
            for index, outcome in zip(
                (index for index, _s, _f in batch), self._register(batch), strict=True
            ):
                outcomes[index] = outcome
        return outcomes

    def _register(
        self, batch: list[tuple[int, Sighting, scanner.FoundFile]]
    ) -> list[str]:
        """Register one round: files of one inbox, sighted alike."""
        first = batch[0][1]
        inbox = first.inbox
        processing = storage.processing_dir(inbox.folder)
        if processing.is_symlink():
            logger.error(
                "%s is a symbolic link; not taking %d files", processing, len(batch)
            )
            return [self._count("errors") for _item in batch]
        try:
            processing.mkdir(exist_ok=True)
            outcomes = scan_services.found_register_many(
                found=[found for _i, _s, found in batch],
                inbox=inbox.inbox,
                root=inbox.folder,
                min_age=None if first.write_finished else self._min_age(inbox),
            )
        except TRANSIENT as exc:
            close_old_connections()  # Drop the broken one; the retry reconnects.
            counted = []
            for _index, sighting, found in batch:
                sighting.failures += 1
                delay = min(RETRY_MAX, RETRY_FIRST * 2 ** (sighting.failures - 1))
                logger.warning(
                    "Could not register %s (%s); retrying in %.1f s.",
                    found.path,
                    exc,
                    delay,
                )
                self._later_add(sighting, delay)
                counted.append(self._count("retrying"))
            return counted
        except Exception:
            logger.exception(
                "Could not register %d files of %s; the next scan will.",
                len(batch),
                inbox.folder,
            )
            return [self._count("errors") for _item in batch]
        for (_index, sighting, found), outcome in zip(batch, outcomes, strict=True):
            if outcome in {"waiting", "changing"}:
                # Only the polling observer's sightings wait: look again once
                # the file may be old enough.
                self._later_add(sighting, max(self._min_age(inbox), TICK))
            logger.info("%s: %s", found.path, outcome)
            self._count(outcome)
        return outcomes

    @staticmethod
    def _min_age(inbox: selectors.WatchedInbox) -> float:
        if inbox.min_file_age is None:
            return conf.min_file_age()
        return inbox.min_file_age

    def _later_add(self, sighting: Sighting, delay: float) -> None:
        key = (sighting.path, sighting.write_finished)
        if key in self._looking:
            return
        self._looking.add(key)
        sighting.due = time.monotonic() + delay
        heapq.heappush(self._later, sighting)

    def _count(self, outcome: str) -> str:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        return outcome
