"""Turn a finished import into an email and send it, at most once.

The body (plain text, and the same as HTML) carries counts and the first
few row errors; when rows were rejected, all recorded ones ride along as an
Excel-safe CSV attachment (:mod:`ingest.errors_csv`).

A mail failure is logged and recorded on the ledger; it never touches the
import, and it is not retried in a loop (no storm against a dead server).
"""

import logging

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from . import conf
from .errors_csv import errors_csv_filename, file_errors_csv
from .importers.reader import delimiter_name
from .models import InboxFile

logger = logging.getLogger(__name__)

Notify = InboxFile.Notify
#: Row errors quoted in the body; the attachment has the rest.
BODY_ERRORS = 5


def file_message(row: InboxFile) -> tuple[str, str]:
    """Return (subject, body) describing a finished file.

    No row data beyond the first few error messages, which quote at most
    the offending value.
    """
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
    lines = [f"{label + ':':<11}{value}" for label, value in file_fields(row)]
    if row.error:
        lines += ["", row.error]
    lines += _errors_lines(row)
    return subject[:200], "\n".join(lines) + "\n"


def _inbox_text(row: InboxFile) -> str:
    if row.inbox_id:
        return f"inbox {row.inbox.name}, {row.folder}"
    return row.folder


def _dataset_text(row: InboxFile) -> str:
    if not row.importer:
        return "not chosen"
    if not row.importer_chosen_by:
        return row.importer
    return f"{row.importer} ({row.get_importer_chosen_by_display().lower()})"


def file_fields(row: InboxFile) -> list[tuple[str, str]]:
    """Return the (label, value) facts of a finished file, for both parts."""
    seconds = row.duration or 0.0
    fields = [
        ("File", row.name),
        ("Ledger", f"#{row.pk} ({row.get_state_display()})"),
        ("Source", f"{row.get_source_display()} ({_inbox_text(row)})"),
        ("Dataset", _dataset_text(row)),
        (
            "Rows",
            f"{row.rows_total} read, {row.rows_imported} imported, "
            f"{row.rows_updated} updated, {row.rows_rejected} rejected",
        ),
        ("Duration", f"{seconds:.1f} s"),
        ("Attempts", str(row.attempts)),
        ("Stored at", row.stored_path or "-"),
        ("Task id", row.task_id or "-"),
    ]
    if row.sha256:
        fields.append(("SHA-256", row.sha256))
    if row.encoding:
        fields.append(
            ("Read as", f"{row.encoding}, {delimiter_name(row.delimiter)}-delimited")
        )
    if row.ignored_columns:
        fields.append(("Ignored", f"columns {', '.join(row.ignored_columns)}"))
    return fields


def file_message_html(row: InboxFile, subject: str) -> str:
    """Return the HTML part: the same facts and first errors, escaped."""
    return render_to_string(
        "ingest/email/file_outcome.html",
        {
            "subject": subject,
            "fields": file_fields(row),
            "error": row.error,
            "rejections": list(row.rejections.order_by("line", "pk")[:BODY_ERRORS])
            if row.rows_rejected
            else [],
            "rows_rejected": row.rows_rejected,
            "attachment": errors_csv_filename(row),
        },
    )


def _errors_lines(row: InboxFile) -> list[str]:
    if not row.rows_rejected:
        return []
    shown = list(row.rejections.order_by("line", "pk")[:BODY_ERRORS])
    if not shown:
        return []
    lines = [
        "",
        f"Rejected rows (first {len(shown)} of {row.rows_rejected}; the recorded "
        f"ones are attached as {errors_csv_filename(row)}):",
    ]
    for error in shown:
        column = f" {error.column}" if error.column else ""
        lines.append(f"  line {error.line}{column}: {error.message}")
    return lines


def file_recipients(row: InboxFile) -> list[str]:
    """Return who hears about *row*: its inbox's recipients, else the default."""
    return (row.inbox.recipients() if row.inbox_id else []) or conf.notify_emails()


#: Recorded when nobody is to be told.
NO_RECIPIENTS = "No recipients: set INGEST_NOTIFY_EMAILS or ADMINS."


def file_notify(*, file_id: int, row: InboxFile | None = None) -> str:
    """Email the outcome of a finished file; return the notify state.

    Safe to call twice: only the call that moves the row from PENDING to
    SENDING (or, with nobody to tell, to SKIPPED) does anything. *row* is
    the finished row as its import just wrote it (with its inbox), which
    saves reading it back; without it the row is read.
    """
    pending = InboxFile.objects.filter(
        pk=file_id, state__in=InboxFile.FINAL_STATES, notify_state=Notify.PENDING
    )
    recipients = file_recipients(row) if row is not None else None
    if recipients == []:
        # Nobody to tell: one conditional update records it.
        skipped = pending.update(
            notify_state=Notify.SKIPPED,
            notify_error=NO_RECIPIENTS,
            notified_at=timezone.now(),
        )
        return Notify.SKIPPED if skipped else "unchanged"
    if not pending.update(notify_state=Notify.SENDING):
        return "unchanged"
    if row is None:
        row = InboxFile.objects.select_related("inbox").get(pk=file_id)
        recipients = file_recipients(row)
    if not recipients:
        _record(file_id, Notify.SKIPPED, NO_RECIPIENTS)
        return Notify.SKIPPED
    subject, body = file_message(row)
    message = EmailMultiAlternatives(subject, body, None, recipients)
    message.attach_alternative(file_message_html(row, subject), "text/html")
    if row.rows_rejected and row.rejections.exists():
        message.attach(errors_csv_filename(row), file_errors_csv(file=row), "text/csv")
    try:
        message.send()
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
