"""Scenario 8: the mail server is down; imports succeed, one failed email each."""

from pathlib import Path

import pytest
from django.conf import settings
from django_celery_results.models import TaskResult

from ingest.models import InboxFile
from tests.chaos.audit import book_files, ledger_audit
from tests.chaos.processes import scan_loop, wait_until
from tests.e2e.harness import free_port

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

FILES = 10
Notify = InboxFile.Notify


def test_a_dead_mail_server_fails_each_email_once_and_no_import(
    fleet, broker_flush, chaos_settings, chaos_record
):
    """SMTP at a closed port: files done, notify failed and recorded, no retries."""
    dataset = book_files("mail", FILES, rows=50)
    worker = fleet.worker(
        concurrency=2,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(free_port()),
        EMAIL_TIMEOUT="5",
    )
    dataset.drop(Path(settings.INGEST_INBOX_DIR))

    def emails_settled() -> bool:
        return (
            InboxFile.objects.filter(notify_state=Notify.FAILED).count() == FILES
            and not InboxFile.objects.exclude(notify_state=Notify.FAILED).exists()
        )

    with scan_loop(interval=0.5) as scans:
        wait_until(emails_settled, timeout=240, message="every email to fail, recorded")
        # Keep scanning past the redispatch delay: nothing is sent again.
        settled_at = len(scans)
        wait_until(lambda: len(scans) >= settled_at + 8, timeout=60)

    attempts = TaskResult.objects.filter(task_name="ingest.tasks.notify_file")
    assert attempts.count() == FILES
    assert worker.log().count("Email about file #") == FILES
    for row in InboxFile.objects.all():
        assert row.state == InboxFile.State.DONE
        assert "Connection refused" in row.notify_error, row.notify_error
    audit = chaos_record(ledger_audit(dataset), scenario="8 mail server down")
    assert audit.problems == []
    assert (audit.lost, audit.duplicated) == (0, 0)
