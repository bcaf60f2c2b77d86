"""Watch the inboxes and take finished files at once (a long-running process)."""

import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from ingest import conf
from ingest import tasks as _tasks  # noqa: F401
from ingest.watcher import Watcher

logger = logging.getLogger("ingest.watcher")
# ingest.tasks is imported above for its side effect: the services publish
# tasks by name, and outside a worker nothing else registers them.


class Command(BaseCommand):
    help = _(
        "Watch every enabled inbox and register a file as soon as its writer "
        "closes it or it is renamed in; the scheduled scan stays the safety "
        "net. Runs until SIGTERM or Ctrl-C. INGEST_WATCH=0 makes it idle."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--polling",
            action="store_true",
            help=_("Poll the folders instead of using OS file events."),
        )

    def handle(self, *args, polling: bool, **options):
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_args: stop.set())
        if not conf.watch_enabled():
            # Idle rather than exit: a supervisor (compose, bin/serve) would
            # restart a process that exits.
            logger.info(_("INGEST_WATCH is off; the scheduled scan alone runs."))
            stop.wait()
            return
        watcher = Watcher(polling=polling or None)
        watcher.refresh()
        logger.info(_("ingest_watch ready: %d inbox(es)."), len(watcher.watches))
        watcher.run(stop)
        logger.info(_("ingest_watch stopped."))
