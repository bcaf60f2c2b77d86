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
#: Seconds past which the scans resend a PENDING email, once all have failed.
NOTIFY_GRACE = 1
Notify = InboxFile.Notify


def test_a_dead_mail_server_fails_each_email_once_and_no_import(
    fleet, broker_flush, chaos_settings, chaos_record
):
    """SMTP at a closed port: files done, notify failed and recorded, no retries.

    Past the notify grace the scans resend an email whose message was lost
    (PENDING), and never one that failed.
    """
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

    # Each import sends its own email; a notify task runs only for a repair.
    attempts = TaskResult.objects.filter(task_name="ingest.tasks.notify_file")
    with scan_loop(interval=0.5) as scans:
        wait_until(emails_settled, timeout=240, message="every email to fail, recorded")
        assert attempts.count() == 0
        # From now on every file finished longer ago than the grace: the scans
        # repair emails. One email's message is lost (PENDING again): it alone
        # is sent again; the failed ones are not.
        chaos_settings.INGEST_NOTIFY_GRACE = NOTIFY_GRACE
        lost = InboxFile.objects.order_by("pk").first()
        InboxFile.objects.filter(pk=lost.pk).update(notify_state=Notify.PENDING)
        wait_until(
            lambda: attempts.count() >= 1 and emails_settled(),
            timeout=60,
            message="the lost email to be sent again, and fail",
        )
        # Keep scanning well past the grace (and the redispatch delay).
        settled_at = len(scans)
        wait_until(lambda: len(scans) >= settled_at + 12, timeout=60)

    assert sum(scan.get("renotified", 0) for scan in scans) == 1
    assert attempts.count() == 1
    assert worker.log().count("Email about file #") == FILES + 1
    for row in InboxFile.objects.all():
        assert row.state == InboxFile.State.DONE
        assert "Connection refused" in row.notify_error, row.notify_error
    audit = chaos_record(ledger_audit(dataset), scenario="8 mail server down")
    assert audit.problems == []
    assert (audit.lost, audit.duplicated) == (0, 0)
