"""Celery tasks: thin adapters that take ledger ids and call the services."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import notify, services

logger = logging.getLogger(__name__)

#: Errors worth retrying: the database went away for a moment.
TRANSIENT = (OperationalError, InterfaceError)


@shared_task(
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=5,
    soft_time_limit=120,
    time_limit=180,
)
def scan_inbox(inbox: str | None = None, importer: str | None = None) -> dict:
    """Register, queue and repair the files of one inbox; safe to run twice.

    A PeriodicTask's kwargs ``{"inbox": ..., "importer": ...}`` arrive here:
    *importer* names the dataset of every file in that inbox.
    """
    return services.inbox_scan(inbox=inbox, importer=importer)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
)
def import_file(self, ledger_id: int) -> dict:
    """Import one claimed inbox file; safe to run twice (the twin skips)."""

    def report(meta: dict) -> None:
        self.update_state(state="PROGRESS", meta=meta)

    return services.file_import(
        file_id=ledger_id, task_id=self.request.id, progress_sink=report
    )


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def notify_file(ledger_id: int) -> str:
    """Email the outcome of one finished file; sends at most once."""
    return notify.file_notify(file_id=ledger_id)
