"""Celery tasks: thin adapters that take ledger ids and call the services."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import notify, services, webhooks
from .stores import StoreTransient

logger = logging.getLogger(__name__)

#: Errors worth retrying: the database or a remote inbox's store went away
#: for a moment (a remote store refusing for good is not retried).
TRANSIENT = (OperationalError, InterfaceError, StoreTransient)
#: Seconds before reading a preview again whose older version is being read.
PREVIEW_BUSY_RETRY = 2
#: Tasks that read a whole file (import, preview): acknowledged after they
#: ran, so a worker killed mid-file hands it to another; the ledger's lock
#: and state make the second run safe.
FILE_TASK_OPTIONS = {
    "bind": True,
    # No STARTED result row: the ledger says IMPORTING (or PREVIEW) with its
    # start time, and progress is the PROGRESS state. One write less a file.
    "track_started": False,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 8,
}


def _progress(task):
    """Return a progress sink storing reports as the task's PROGRESS state."""

    def report(meta: dict) -> None:
        task.update_state(state="PROGRESS", meta=meta)

    return report


@shared_task(
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=5,
    soft_time_limit=120,
    time_limit=180,
)
def scan_inbox(
    inbox_id: int | None = None,
    inbox: str | None = None,
    importer: str | None = None,
) -> dict:
    """Register, queue and repair the files of one inbox; safe to run twice.

    An inbox's PeriodicTask sends ``{"inbox_id": N}``; no id is the default
    inbox. The pre-Inbox kwargs ``{"inbox": "/path", "importer": "…"}``
    still work for one release, with a deprecation warning.
    """
    if inbox is not None or importer is not None:
        target = services.inbox_legacy(folder=inbox, importer=importer)
    elif inbox_id is None:
        target = services.inbox_default()
    else:
        target = services.inbox_get(inbox_id=inbox_id)
        if target is None:
            logger.warning("Inbox #%s no longer exists; nothing to scan.", inbox_id)
            return {"inbox_id": inbox_id, "status": "missing"}
    return services.inbox_scan(inbox=target)


@shared_task(**FILE_TASK_OPTIONS)
def import_file(self, ledger_id: int) -> dict:
    """Import one claimed inbox file; safe to run twice (the twin skips)."""

    return services.file_import(
        file_id=ledger_id, task_id=self.request.id, progress_sink=_progress(self)
    )


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def notify_file(ledger_id: int) -> str:
    """Email the outcome of one finished file; sends at most once."""
    return notify.file_notify(file_id=ledger_id)


@shared_task(soft_time_limit=1800, time_limit=1900)
def apply_retention() -> dict:
    """Delete stored files and ledger entries past their keep days; safe to repeat."""
    return services.retention_apply()


@shared_task(bind=True, acks_late=True, soft_time_limit=120, time_limit=150)
def webhook_file(self, ledger_id: int) -> str:
    """POST one finished file's summary to its inbox's webhook, with retries.

    Retried with a doubling delay (``INGEST_WEBHOOK_RETRY_DELAY``) up to
    ``INGEST_WEBHOOK_MAX_RETRIES`` times; the outcome is on the ledger.
    """
    retries = self.request.retries
    try:
        return webhooks.file_webhook(
            file_id=ledger_id, last_attempt=retries >= webhooks.webhook_max_retries()
        )
    except webhooks.WebhookFailed as exc:
        raise self.retry(
            exc=exc,
            countdown=webhooks.webhook_backoff(retries),
            max_retries=webhooks.webhook_max_retries(),
        ) from exc


@shared_task(**FILE_TASK_OPTIONS)
def preview_file(self, ledger_id: int) -> dict:
    """Read one PREVIEW file as its import would, writing nothing; repeatable."""

    outcome = services.file_preview(
        file_id=ledger_id, task_id=self.request.id, progress_sink=_progress(self)
    )
    if outcome["status"] == "busy":
        raise self.retry(countdown=PREVIEW_BUSY_RETRY, max_retries=None)
    return outcome


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def expire_previews() -> dict:
    """Remove previews nobody confirmed in time; safe to run twice."""
    return services.previews_expire()
