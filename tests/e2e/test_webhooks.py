"""Webhooks from a real worker: retried with backoff, recorded, never in the way.

The receivers are HTTP servers this test starts: one answers 500 three
times and then 200, one accepts connections and never answers.
"""

import datetime
import itertools
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ingest import services as ingest_services
from ingest import webhooks
from ingest.models import Inbox, InboxFile
from tests.e2e.harness import scan_schedule_set, wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

Notify = InboxFile.Notify
SECRET = "e2e-webhook-secret"
BOOKS = "title,author,year\nКобзар,Тарас Шевченко,1840\n"


class FlakyReceiver:
    """Answer 500 to the first *failures* POSTs, then 200; keep each one."""

    def __init__(self, failures: int) -> None:
        self.requests: list[tuple[float, dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((time.monotonic(), dict(self.headers), body))
                self.send_response(500 if len(receiver.requests) <= failures else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky():
    receiver = FlakyReceiver(failures=3)
    yield receiver
    receiver.close()


@pytest.fixture
def silent():
    """A port that accepts connections and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"


def test_webhooks_retry_with_backoff_and_a_silent_receiver_fails_only_the_webhook(
    services, ingest_dirs, flaky, silent
):
    """500 three times then 200: delivered on the fourth POST, each retry
    later than the last, same body and signature. A receiver that never
    answers: the webhook fails after its retries; the file is done and
    emailed regardless."""
    scan_schedule_set(every=1)
    inbox = webhook_inbox(flaky.url)
    services.worker(
        INGEST_WEBHOOK_RETRY_DELAY="0.5",
        INGEST_WEBHOOK_MAX_RETRIES="3",
        INGEST_WEBHOOK_TIMEOUT="1",
    )
    services.beat()
    (ingest_dirs["INGEST_INBOX_DIR"] / "books.csv").write_text(BOOKS, encoding="utf-8")

    row = wait_until(
        lambda: (
            InboxFile.objects.filter(name="books.csv", webhook_state=Notify.SENT)
            .select_related("inbox")
            .first()
        ),
        90,
        message="the webhook delivered",
        services=services,
    )
    assert row.state == InboxFile.State.DONE
    assert row.webhook_error == ""
    assert len(flaky.requests) == 4
    times = [at for at, _headers, _body in flaky.requests]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[0] >= 0.4 and gaps[1] >= 0.9 and gaps[2] >= 1.9, gaps
    bodies = {body for _at, _headers, body in flaky.requests}
    assert len(bodies) == 1
    (body,) = bodies
    headers = flaky.requests[-1][1]
    assert webhooks.signature_valid(body, SECRET, headers["X-Ingest-Signature"])
    assert json.loads(body)["file_id"] == row.pk
    assert json.loads(body)["inbox"] == inbox.name

    # Now a receiver that never answers; the file is imported again.
    Inbox.objects.filter(pk=inbox.pk).update(webhook_url=silent)
    started = time.monotonic()
    ingest_services.files_requeue(files=[row])
    row = wait_until(
        lambda: InboxFile.objects.filter(
            pk=row.pk, webhook_state=Notify.FAILED
        ).first(),
        90,
        message="the webhook to give up",
        services=services,
    )
    # Four attempts of 1 s each and 0.5 + 1 + 2 s between them.
    assert time.monotonic() - started >= 4 + 3.5 - 0.5
    assert row.state == InboxFile.State.DONE
    assert row.rows_updated == 1
    assert "timed out" in row.webhook_error
    wait_until(
        lambda: InboxFile.objects.get(pk=row.pk).notify_state == Notify.SENT,
        30,
        message="the email, which the webhook did not hold up",
        services=services,
    )
    assert row.webhooked_at > row.finished_at - datetime.timedelta(seconds=1)


def webhook_inbox(url: str) -> Inbox:
    """Give the default inbox a webhook URL and secret; return it."""
    inbox = ingest_services.inbox_default()
    Inbox.objects.filter(pk=inbox.pk).update(webhook_url=url, webhook_secret=SECRET)
    return Inbox.objects.get(pk=inbox.pk)
