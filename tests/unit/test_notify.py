"""Emails about finished files: content, recipients, and a dead mail server."""

import socket

import pytest
from django.core import mail

from ingest import notify, services
from ingest.models import InboxFile
from tests.factories import drop, journals_csv

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State
Notify = InboxFile.Notify
SECRET_ROW = ("7777-0001", "Таємний журнал", 1999)


def imported(name: str, content: str) -> InboxFile:
    """Drop one file, scan (eagerly: import and email inline), return its row."""
    drop(name, content)
    services.inbox_scan()
    return InboxFile.objects.get(name=name)


def test_a_successful_import_mails_its_counts_and_no_row_data(eager):
    row = imported(
        "journals.csv", journals_csv(SECRET_ROW, ("0028-0836", "Nature", 1869))
    )
    assert row.state == State.DONE
    (message,) = mail.outbox
    assert message.subject.startswith(
        "Import finished: journals.csv — 2 imported, 0 updated, 0 rejected rows, "
    )
    assert message.subject.endswith(" s")
    assert message.to == ["ops@example.com"]
    assert "Rows:      2 read, 2 imported, 0 updated, 0 rejected" in message.body
    assert f"Ledger:    #{row.pk} (Done)" in message.body
    for value in SECRET_ROW:
        assert str(value) not in message.subject + message.body
    assert InboxFile.objects.get(pk=row.pk).notify_state == Notify.SENT


def test_a_failed_import_mails_the_reason(eager):
    row = imported("journals-bad.csv", "colour,size\nzebra-striped,3\n")
    assert row.state == State.FAILED
    (message,) = mail.outbox
    first_line = row.error.splitlines()[0]
    assert message.subject == f"Import failed: journals-bad.csv — {first_line}"[:200]
    assert row.error in message.body
    assert "zebra-striped" not in message.subject + message.body


def test_a_duplicate_mails_that_nothing_was_imported(eager):
    imported("journals.csv", journals_csv(SECRET_ROW))
    twin = imported("again.csv", journals_csv(SECRET_ROW))
    assert twin.state == State.DUPLICATE
    assert [m.subject for m in mail.outbox][1] == (
        "Import skipped: again.csv — duplicate of an imported file"
    )
    assert "nothing imported" in mail.outbox[1].body
    assert SECRET_ROW[0] not in mail.outbox[1].body


def test_recipients_fall_back_to_admins(eager, settings):
    settings.INGEST_NOTIFY_EMAILS = []
    settings.ADMINS = [("ops", "ops@admins.example"), ("dev", "dev@admins.example")]
    imported("journals.csv", journals_csv(("A", "Alpha", 2000)))
    assert mail.outbox[0].to == ["ops@admins.example", "dev@admins.example"]


def test_without_recipients_the_email_is_skipped_and_recorded(eager, settings):
    settings.INGEST_NOTIFY_EMAILS = []
    settings.ADMINS = []
    row = imported("journals.csv", journals_csv(("A", "Alpha", 2000)))
    assert mail.outbox == []
    assert (row.state, row.notify_state) == (State.DONE, Notify.SKIPPED)
    assert "INGEST_NOTIFY_EMAILS" in row.notify_error


def test_without_recipients_no_notify_task_is_queued(published, settings):
    """Nobody to tell costs no message: the skip is recorded by the import."""
    settings.INGEST_NOTIFY_EMAILS = []
    settings.ADMINS = []
    drop("journals.csv", journals_csv(("A", "Alpha", 2000)))
    services.inbox_scan()
    row = InboxFile.objects.get()
    services.file_import(file_id=row.pk, task_id=row.task_id)
    row.refresh_from_db()
    assert (row.state, row.notify_state) == (State.DONE, Notify.SKIPPED)
    assert [call["task"] for call in published] == ["ingest.tasks.import_file"]


def test_notifying_twice_sends_one_email(eager):
    row = imported("journals.csv", journals_csv(("A", "Alpha", 2000)))
    assert notify.file_notify(file_id=row.pk) == "unchanged"
    assert len(mail.outbox) == 1


def closed_port() -> int:
    """Return a local TCP port that nothing listens on (it was just released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_dead_mail_server_fails_the_email_not_the_import_and_is_not_retried(
    eager, settings, published_after_import
):
    """A FAILED email stays failed; the repair past the grace resends only PENDING."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port()
    settings.EMAIL_TIMEOUT = 2
    row = imported("journals.csv", journals_csv(("A", "Alpha", 2000)))
    assert (row.state, row.rows_imported) == (State.DONE, 1)
    assert row.notify_state == Notify.FAILED
    assert "ConnectionRefusedError" in row.notify_error
    assert row.notified_at is not None
    # A file whose email message was lost: finished, its email still PENDING.
    lost = imported("journals-lost.csv", journals_csv(("C", "Gamma", 2001)))
    InboxFile.objects.filter(pk=lost.pk).update(notify_state=Notify.PENDING)

    attempts = published_after_import()
    assert notify.file_notify(file_id=row.pk) == "unchanged"
    settings.INGEST_NOTIFY_GRACE = 0  # Both files finished longer ago than that.
    summary = services.inbox_scan()
    assert [c["args"] for c in attempts if c["task"].endswith("notify_file")] == [
        (lost.pk,)
    ]
    assert summary["renotified"] == 1
    assert InboxFile.objects.get(pk=row.pk).notify_state == Notify.FAILED


def test_the_import_sends_its_email_itself_without_a_notify_task(published):
    """The task that finished the file emails it: no message, no second task."""
    drop("journals.csv", journals_csv(("0001-0001", "A", 2000)))
    services.inbox_scan()
    row = InboxFile.objects.get()
    services.file_import(file_id=row.pk, task_id=row.task_id)
    row.refresh_from_db()
    assert (row.state, row.notify_state) == (State.DONE, Notify.SENT)
    (message,) = mail.outbox
    assert message.subject.startswith("Import finished: journals.csv — 1 imported")
    assert f"Ledger:    #{row.pk} (Done)" in message.body
    assert f"Task id:   {row.task_id}" in message.body
    assert [call["task"] for call in published] == ["ingest.tasks.import_file"]


def test_a_mail_error_while_building_the_email_does_not_undo_the_import(
    published, monkeypatch
):
    """The import's outcome stands; the email stays where it got to."""

    def broken(row, subject):
        raise RuntimeError("template missing")

    monkeypatch.setattr(notify, "file_message_html", broken)
    drop("journals.csv", journals_csv(("0001-0001", "A", 2000)))
    services.inbox_scan()
    row = InboxFile.objects.get()
    summary = services.file_import(file_id=row.pk, task_id=row.task_id)
    assert summary["status"] == State.DONE and summary["imported"] == 1
    assert InboxFile.objects.get(pk=row.pk).state == State.DONE
    assert mail.outbox == []


def test_within_the_grace_a_pending_email_is_left_to_its_worker(published, settings):
    """A scan does not republish an email whose file has only just finished."""
    settings.INGEST_NOTIFY_GRACE = 3600
    drop("journals.csv", journals_csv(("A", "Alpha", 2000)))
    services.inbox_scan()
    row = InboxFile.objects.get()
    services.file_import(file_id=row.pk, task_id=row.task_id)
    # As if the worker had died between the import's commit and its email.
    InboxFile.objects.filter(pk=row.pk).update(notify_state=Notify.PENDING)
    published.clear()
    assert "renotified" not in services.inbox_scan()
    assert [c for c in published if c["task"].endswith("notify_file")] == []
    settings.INGEST_NOTIFY_GRACE = 0
    assert services.inbox_scan()["renotified"] == 1
    assert [c["args"] for c in published if c["task"].endswith("notify_file")] == [
        (row.pk,)
    ]


@pytest.fixture
def published_after_import(monkeypatch):
    """Return a switch that starts recording published tasks from then on."""

    def start() -> list[dict]:
        calls: list[dict] = []

        def recorder(task):
            def apply_async(args=(), kwargs=None, task_id=None, **options):
                calls.append({"task": task.name, "args": tuple(args)})

            return apply_async

        from ingest import tasks

        for task in (tasks.import_file, tasks.notify_file, tasks.scan_inbox):
            monkeypatch.setattr(task, "apply_async", recorder(task))
        return calls

    return start
