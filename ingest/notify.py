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
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import conf, filekinds
from .errors_csv import errors_csv_filename, file_errors_csv
from .importers.reader import delimiter_name
from .languages import file_language
from .models import InboxFile

logger = logging.getLogger(__name__)

Notify = InboxFile.Notify
#: Row errors quoted in the body; the attachment has the rest.
BODY_ERRORS = 5


def _number(value: int) -> str:
    return formats.number_format(value, use_l10n=True, force_grouping=True)


def _seconds(value: float) -> str:
    return formats.number_format(value, 1, use_l10n=True)


def file_message(
    row: InboxFile, *, members: list[InboxFile] | None = None
) -> tuple[str, str]:
    """Return (subject, body) describing a finished file, in the active language.

    No row data beyond the first few error messages, which quote at most
    the offending value. :func:`file_notify` renders it in the inbox's
    language (else the site's).
    """
    seconds = row.duration or 0.0
    members = archive_members(row) if members is None else members
    if members:
        subject = _(
            "Archive finished: %(name)s — %(files)s files: %(imported)s imported, "
            "%(updated)s updated, %(rejected)s rejected rows, %(failed)s files failed"
        ) % {
            "name": row.name,
            "files": _number(len(members)),
            "imported": _number(sum(m.rows_imported for m in members)),
            "updated": _number(sum(m.rows_updated for m in members)),
            "rejected": _number(sum(m.rows_rejected for m in members)),
            "failed": _number(
                sum(1 for m in members if m.state == InboxFile.State.FAILED)
            ),
        }
    elif row.state == InboxFile.State.DONE:
        subject = _(
            "Import finished: %(name)s — %(imported)s imported, %(updated)s "
            "updated, %(rejected)s rejected rows, %(seconds)s s"
        ) % {
            "name": row.name,
            "imported": _number(row.rows_imported),
            "updated": _number(row.rows_updated),
            "rejected": _number(row.rows_rejected),
            "seconds": _seconds(seconds),
        }
    elif row.state == InboxFile.State.DUPLICATE:
        subject = _("Import skipped: %(name)s — duplicate of an imported file") % {
            "name": row.name
        }
    else:
        first_line = (row.error_text.splitlines() or [_("unknown error")])[0]
        subject = _("Import failed: %(name)s — %(reason)s") % {
            "name": row.name,
            "reason": first_line,
        }
    fields = file_fields(row)
    width = max(len(label) for label, _value in fields) + 2
    lines = [f"{label + ':':<{width}}{value}" for label, value in fields]
    if row.error:
        lines += ["", row.error_text]
    if members:
        lines += ["", _("Files in the archive:")]
        lines += [f"- {member_line(member)}" for member in members]
    lines += _errors_lines(row)
    return subject[:200], "\n".join(lines) + "\n"


def archive_members(row: InboxFile) -> list[InboxFile]:
    """Return the members of archive *row* in their order ([] if it is none)."""
    if row.archive_id or not filekinds.is_archive(row.name):
        return []
    return list(row.members.order_by("pk"))


def member_line(member: InboxFile) -> str:
    """Return one member's outcome in one line, for the archive's email."""
    if member.state == InboxFile.State.FAILED:
        outcome = member.error_text.splitlines()[0] if member.error else ""
    elif member.state == InboxFile.State.DUPLICATE:
        outcome = _("duplicate of an imported file")
    else:
        outcome = _(
            "%(imported)s imported, %(updated)s updated, %(rejected)s rejected"
        ) % {
            "imported": _number(member.rows_imported),
            "updated": _number(member.rows_updated),
            "rejected": _number(member.rows_rejected),
        }
    return _("%(name)s (#%(id)d, %(state)s): %(outcome)s") % {
        "name": member.member or member.name,
        "id": member.pk,
        "state": member.get_state_display(),
        "outcome": outcome,
    }


def _inbox_text(row: InboxFile) -> str:
    if row.inbox_id:
        return _("inbox %(name)s, %(folder)s") % {
            "name": row.inbox.name,
            "folder": row.folder,
        }
    return row.folder


def _dataset_text(row: InboxFile) -> str:
    if not row.importer:
        return _("not chosen")
    if not row.importer_chosen_by:
        return row.importer
    return f"{row.importer} ({row.get_importer_chosen_by_display().lower()})"


def file_fields(row: InboxFile) -> list[tuple[str, str]]:
    """Return the (label, value) facts of a finished file, for both parts."""
    seconds = row.duration or 0.0
    fields = [
        (_("File"), row.name),
        (_("Ledger"), f"#{row.pk} ({row.get_state_display()})"),
        (_("Source"), f"{row.get_source_display()} ({_inbox_text(row)})"),
        (_("Dataset"), _dataset_text(row)),
        (
            _("Rows"),
            _(
                "%(total)s read, %(imported)s imported, %(updated)s updated, "
                "%(rejected)s rejected"
            )
            % {
                "total": _number(row.rows_total),
                "imported": _number(row.rows_imported),
                "updated": _number(row.rows_updated),
                "rejected": _number(row.rows_rejected),
            },
        ),
        (_("Duration"), _("%(seconds)s s") % {"seconds": _seconds(seconds)}),
        (_("Attempts"), str(row.attempts)),
        (_("Stored at"), row.stored_path or "-"),
        (_("Task id"), row.task_id or "-"),
    ]
    if row.sha256:
        fields.append(("SHA-256", row.sha256))
    if row.encoding:
        fields.append(
            (
                _("Read as"),
                _("%(encoding)s, %(delimiter)s-delimited")
                % {
                    "encoding": row.encoding,
                    "delimiter": delimiter_name(row.delimiter),
                },
            )
        )
    if row.ignored_columns:
        fields.append(
            (
                _("Ignored"),
                _("columns %(columns)s") % {"columns": ", ".join(row.ignored_columns)},
            )
        )
    return fields


def file_message_html(
    row: InboxFile, subject: str, *, members: list[InboxFile] | None = None
) -> str:
    """Return the HTML part: the same facts and first errors, escaped."""
    return render_to_string(
        "ingest/email/file_outcome.html",
        {
            "subject": subject,
            "fields": file_fields(row),
            "error": row.error_text,
            "rejections": list(row.rejections.order_by("line", "pk")[:BODY_ERRORS])
            if row.rows_rejected
            else [],
            "rows_rejected": row.rows_rejected,
            "members": [
                member_line(member)
                for member in (archive_members(row) if members is None else members)
            ],
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
        ngettext(
            "Rejected rows (first %(shown)d of %(total)s; the recorded ones are "
            "attached as %(name)s):",
            "Rejected rows (first %(shown)d of %(total)s; the recorded ones are "
            "attached as %(name)s):",
            len(shown),
        )
        % {
            "shown": len(shown),
            "total": _number(row.rows_rejected),
            "name": errors_csv_filename(row),
        },
    ]
    for error in shown:
        column = f" {error.column}" if error.column else ""
        line = _("line %(line)s") % {"line": error.line}
        lines.append(f"  {line}{column}: {error.message_text}")
    return lines


def file_email(row: InboxFile, recipients: list[str]) -> EmailMultiAlternatives:
    """Return the email about *row*, written in its inbox's language.

    Subject, text, HTML and the errors CSV's reasons are all in that
    language (the inbox's, else ``LANGUAGE_CODE``), whatever the process.
    """
    with translation.override(file_language(row)):
        members = archive_members(row)  # Read once for both parts.
        subject, body = file_message(row, members=members)
        message = EmailMultiAlternatives(subject, body, None, recipients)
        message.attach_alternative(
            file_message_html(row, subject, members=members), "text/html"
        )
        if row.rows_rejected and row.rejections.exists():
            message.attach(
                errors_csv_filename(row), file_errors_csv(file=row), "text/csv"
            )
    return message


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
    # An archive is told once its last member is final, in one email.
    pending = InboxFile.objects.filter(
        pk=file_id, state__in=InboxFile.FINAL_STATES, notify_state=Notify.PENDING
    ).exclude(InboxFile.unfinished_members())
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
    message = file_email(row, recipients)
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
