"""Webhooks: a signed JSON POST per finished file, retried, recorded.

The receivers are real HTTP servers on free ports, started by the tests.
Tasks run eagerly here, where Celery does not run retries; the retries with
backoff run on a real worker in ``tests/e2e/test_webhooks.py``.
"""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ingest import services, webhooks
from ingest.models import Inbox, InboxFile
from tests.factories import drop, journals_csv

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

Notify = InboxFile.Notify
SECRET = "webhook-secret-ключ"


class Receiver:
    """An HTTP server answering POSTs with *statuses* in turn (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=()):
        made.append(Receiver(list(statuses)))
        return made[-1]

    yield make
    for server in made:
        server.close()


@pytest.fixture
def fast_retries(settings):
    settings.INGEST_WEBHOOK_RETRY_DELAY = 0.01
    settings.INGEST_WEBHOOK_TIMEOUT = 1.0
    return settings


def inbox_with_webhook(url: str, secret: str = SECRET) -> Inbox:
    inbox = services.inbox_default()
    Inbox.objects.filter(pk=inbox.pk).update(webhook_url=url, webhook_secret=secret)
    return inbox


def imported(name: str = "journals.csv") -> InboxFile:
    drop(name, journals_csv(("0028-0836", "Nature", 1869)))
    services.inbox_scan()
    return InboxFile.objects.get(name=name)


def test_a_finished_import_posts_its_signed_summary(eager, receiver, fast_retries):
    hook = receiver()
    inbox = inbox_with_webhook(hook.url)
    row = imported()

    assert row.state == InboxFile.State.DONE
    assert (row.webhook_state, row.webhook_error) == (Notify.SENT, "")
    assert row.webhooked_at is not None
    ((headers, body),) = hook.requests
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Ingest-Delivery"].startswith(f"{row.pk}-")
    # Verify as a receiver would: HMAC-SHA256 of the raw body under the secret.
    assert webhooks.signature_valid(body, SECRET, headers["X-Ingest-Signature"])
    assert not webhooks.signature_valid(body, "other", headers["X-Ingest-Signature"])
    payload = json.loads(body)
    assert payload == {
        **payload,
        "event": "file.finished",
        "status": "done",
        "file_id": row.pk,
        "file": "journals.csv",
        "inbox": inbox.name,
        "dataset": "journals",
        "imported": 1,
        "updated": 0,
        "rejected": 0,
        "total": 1,
    }
    assert payload["finished_at"] == row.finished_at.isoformat()


def test_a_failed_attempt_is_recorded_and_raised_until_the_last(
    eager, receiver, fast_retries
):
    """The task retries on WebhookFailed; the last attempt records failure."""
    fast_retries.INGEST_WEBHOOK_MAX_RETRIES = 0  # The eager run: one attempt.
    hook = receiver([503, 500])
    inbox_with_webhook(hook.url)
    row = imported()
    assert (row.webhook_state, row.webhook_error) == (
        Notify.FAILED,
        "HTTP 503 Service Unavailable",
    )
    InboxFile.objects.filter(pk=row.pk).update(webhook_state=Notify.PENDING)
    with pytest.raises(webhooks.WebhookFailed):
        webhooks.file_webhook(file_id=row.pk, last_attempt=False)
    row.refresh_from_db()
    assert row.webhook_state == Notify.SENDING
    assert row.webhook_error == "HTTP 500 Internal Server Error (will retry)"
    assert webhooks.file_webhook(file_id=row.pk, last_attempt=True) == Notify.SENT
    assert len(hook.requests) == 3


def test_a_receiver_that_never_answers_fails_the_webhook_not_the_import(
    eager, fast_retries
):
    fast_retries.INGEST_WEBHOOK_MAX_RETRIES = 0
    fast_retries.INGEST_WEBHOOK_TIMEOUT = 0.5
    with socket.socket() as silent:  # Accepts connections, never answers.
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        inbox_with_webhook(f"http://127.0.0.1:{silent.getsockname()[1]}/hook")
        row = imported()
    assert row.state == InboxFile.State.DONE
    assert row.notify_state == Notify.SENT
    assert row.webhook_state == Notify.FAILED
    assert "timed out" in row.webhook_error


def test_an_inbox_without_a_url_sends_nothing_and_records_nothing(eager, receiver):
    row = imported()
    assert row.webhook_state == ""


def test_a_reimport_sends_the_new_outcome_once_more(eager, receiver, fast_retries):
    hook = receiver()
    inbox_with_webhook(hook.url)
    row = imported()
    assert len(hook.requests) == 1
    services.files_requeue(files=[row])
    row.refresh_from_db()
    assert row.webhook_state == Notify.SENT
    assert len(hook.requests) == 2
    assert json.loads(hook.requests[1][1])["updated"] == 1


def test_a_delivered_webhook_is_not_sent_again(eager, receiver, fast_retries):
    hook = receiver()
    inbox_with_webhook(hook.url)
    row = imported()
    assert webhooks.file_webhook(file_id=row.pk) == "unchanged"
    assert len(hook.requests) == 1


def test_no_secret_means_no_signature_header(eager, receiver, fast_retries):
    hook = receiver()
    inbox_with_webhook(hook.url, secret="")
    imported()
    ((headers, _body),) = hook.requests
    assert "X-Ingest-Signature" not in headers


def test_staff_set_an_inboxs_webhook_url_and_secret_in_the_admin(
    admin_client, settings, tmp_path
):
    settings.INGEST_ALLOWED_ROOTS = [str(tmp_path)]
    page = admin_client.get("/admin/ingest/inbox/add/").content.decode()
    assert 'name="webhook_url"' in page and 'name="webhook_secret"' in page
    response = admin_client.post(
        "/admin/ingest/inbox/add/",
        {
            "name": "partners",
            "folder": str(tmp_path),
            "enabled": "on",
            "column_aliases": "{}",
            "webhook_url": "https://hooks.example.com/ingest",
            "webhook_secret": SECRET,
            "scan_every": "30",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    inbox = Inbox.objects.get(name="partners")
    assert (inbox.webhook_url, inbox.webhook_secret) == (
        "https://hooks.example.com/ingest",
        SECRET,
    )


def test_a_webhook_whose_message_was_lost_is_sent_by_a_later_scan(
    eager, receiver, fast_retries, settings
):
    """The broker is a doorbell: a lost webhook message is repaired, once."""
    hook = receiver()
    inbox_with_webhook(hook.url)
    row = imported()
    assert len(hook.requests) == 1
    # As if the webhook message had vanished with a broker restart.
    InboxFile.objects.filter(pk=row.pk).update(
        webhook_state=Notify.PENDING, webhooked_at=None
    )
    settings.INGEST_NOTIFY_GRACE = 3600
    assert "rewebhooked" not in services.inbox_scan()
    assert len(hook.requests) == 1, "within the grace its worker may still come"
    settings.INGEST_NOTIFY_GRACE = 0
    assert services.inbox_scan()["rewebhooked"] == 1
    assert len(hook.requests) == 2
    assert InboxFile.objects.get(pk=row.pk).webhook_state == Notify.SENT
    assert "rewebhooked" not in services.inbox_scan()
