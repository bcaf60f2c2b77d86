"""Turn a finished import into an email and send it, at most once.

A mail failure is logged and recorded on the ledger; it never touches the
import, and it is not retried in a loop (no storm against a dead server).
"""

import logging

from django.core.mail import send_mail
from django.utils import timezone

from . import conf
from .models import InboxFile

logger = logging.getLogger(__name__)

Notify = InboxFile.Notify


def file_message(row: InboxFile) -> tuple[str, str]:
    """Return (subject, body) describing a finished file, without row data."""
    seconds = row.duration or 0.0
    if row.state == InboxFile.State.DONE:
        subject = (
            f"Import finished: {row.name} — {row.rows_imported} imported, "
            f"{row.rows_updated} updated, {row.rows_rejected} rejected rows, "
            f"{seconds:.1f} s"
        )
    elif row.state == InboxFile.State.DUPLICATE:
        subject = f"Import skipped: {row.name} — duplicate of an imported file"
    else:
        first_line = (row.error.splitlines() or ["unknown error"])[0]
        subject = f"Import failed: {row.name} — {first_line}"
    lines = [
        f"File:      {row.name}",
        f"Ledger:    #{row.pk} ({row.get_state_display()})",
        f"Source:    {row.get_source_display()} ({row.inbox})",
        f"Rows:      {row.rows_total} read, {row.rows_imported} imported, "
        f"{row.rows_updated} updated, {row.rows_rejected} rejected",
        f"Duration:  {seconds:.1f} s",
        f"Attempts:  {row.attempts}",
        f"Stored at: {row.stored_path or '-'}",
        f"Task id:   {row.task_id or '-'}",
    ]
    if row.sha256:
        lines.append(f"SHA-256:   {row.sha256}")
    if row.error:
        lines += ["", row.error]
    return subject[:200], "\n".join(lines) + "\n"


def file_notify(*, file_id: int) -> str:
    """Email the outcome of a finished file; return the notify state.

    Safe to call twice: only the call that moves the row from PENDING to
    SENDING sends anything.
    """
    if not InboxFile.objects.filter(
        pk=file_id, state__in=InboxFile.FINAL_STATES, notify_state=Notify.PENDING
    ).update(notify_state=Notify.SENDING):
        return "unchanged"
    row = InboxFile.objects.get(pk=file_id)
    recipients = conf.notify_emails()
    if not recipients:
        _record(
            file_id,
            Notify.SKIPPED,
            "No recipients: set INGEST_NOTIFY_EMAILS or ADMINS.",
        )
        return Notify.SKIPPED
    subject, body = file_message(row)
    try:
        send_mail(subject, body, None, recipients)
    except Exception as exc:
        logger.warning("Email about file #%s failed: %s", file_id, exc)
        _record(file_id, Notify.FAILED, f"{type(exc).__name__}: {exc}"[:1000])
        return Notify.FAILED
    _record(file_id, Notify.SENT, "")
    return Notify.SENT


def _record(file_id: int, state: str, error: str) -> None:
    InboxFile.objects.filter(pk=file_id).update(
        notify_state=state, notify_error=error, notified_at=timezone.now()
    )
