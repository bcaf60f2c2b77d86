"""Email through a real SMTP server: what a mail client would receive.

The test starts aiosmtpd (a real SMTP server, in this process, on a free
port); the worker sends through Django's SMTP backend. The messages are
parsed from the bytes the server received, as a mail client would.
"""

import csv
import email
import email.policy
import io
import threading
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from ingest.models import Inbox, InboxFile
from tests.e2e.harness import free_port, scan_schedule_set, wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

#: The default inbox's recipients.
RECIPIENTS = ["ops@example.com", "lead@example.org"]
CLEAN = (
    "title,author,year\nКобзар,Тарас Шевченко,1840\nЛісова пісня,Леся Українка,1911\n"
)
#: Eleven good rows and one rejected (its year): under the 10 % limit. The
#: rejected row's title would be a formula in a spreadsheet.
MIXED = (
    "title,author,year\n"
    + "".join(f"Новела {i},Василь Стефаник,{1897 + i}\n" for i in range(11))
    + '"=HYPERLINK(""http://evil.example"",""click"")",Хтось,рік\n'
)


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


class Postbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message)
            )
        return "250 OK"

    def about(self, filename: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if f": {filename} — " in subject(r)]


def subject(received: Received) -> str:
    return str(received.message["Subject"]).strip()


@pytest.fixture
def smtp_server():
    """Run a real SMTP server on a free port for the test."""
    handler = Postbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def parts(message: EmailMessage) -> tuple[str, str, list[EmailMessage]]:
    """Return (text body, HTML body, attachments) as a mail client sees them."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html, list(message.iter_attachments())


def test_imports_are_reported_over_smtp_with_parts_and_the_errors_csv(
    services, ingest_dirs, smtp_server
):
    """A clean file and one with a rejected row each send one message to
    every recipient of their inbox: subject, text and HTML parts, and for the rejected row
    a CSV attachment whose formula cell is neutralised."""
    handler, port = smtp_server
    scan_schedule_set(every=1)
    # The inbox's recipients win over INGEST_NOTIFY_EMAILS (ops@example.com).
    Inbox.objects.filter(folder="").update(notify_emails="\n".join(RECIPIENTS))
    services.worker(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(port),
        INGEST_NOTIFY_EMAILS="nobody@example.com",
        DEFAULT_FROM_EMAIL="ingest@example.net",
    )
    services.beat()
    inbox = ingest_dirs["INGEST_INBOX_DIR"]
    (inbox / "books-clean.csv").write_text(CLEAN, encoding="utf-8")
    (inbox / "books-mixed.csv").write_text(MIXED, encoding="utf-8")

    wait_until(
        lambda: handler.about("books-clean.csv") and handler.about("books-mixed.csv"),
        90,
        message="two messages at the SMTP server",
        services=services,
    )
    rows = {row.name: row for row in InboxFile.objects.all()}
    assert {row.notify_state for row in rows.values()} == {InboxFile.Notify.SENT}

    (clean,) = handler.about("books-clean.csv")
    assert clean.sender == "ingest@example.net"
    assert sorted(clean.recipients) == sorted(RECIPIENTS)
    assert clean.message["To"] == ", ".join(RECIPIENTS)
    assert subject(clean).startswith(
        "Import finished: books-clean.csv — 2 imported, 0 updated, 0 rejected rows, "
    )
    text, html, attachments = parts(clean.message)
    assert "Rows:      2 read, 2 imported, 0 updated, 0 rejected" in text
    assert f"#{rows['books-clean.csv'].pk} (Done)" in html
    assert "<th" in html and "Кобзар" not in text + html
    assert attachments == []

    (mixed,) = handler.about("books-mixed.csv")
    assert sorted(mixed.recipients) == sorted(RECIPIENTS)
    assert "11 imported, 0 updated, 1 rejected rows" in subject(mixed)
    text, html, attachments = parts(mixed.message)
    assert "Rejected rows (first 1 of 1" in text
    assert "line 13 year:" in text
    assert "line 13 year:" in html
    # The HTML part escapes what it quotes.
    assert "<script" not in html and "=HYPERLINK" not in html
    (attachment,) = attachments
    name = f"{rows['books-mixed.csv'].pk}-books-mixed.errors.csv"
    assert attachment.get_filename() == name
    assert attachment.get_content_type() == "text/csv"
    data = attachment.get_content()
    data = data.decode("utf-8") if isinstance(data, bytes) else data
    assert data.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(data.removeprefix("\ufeff"))))
    assert table[0] == ["line", "column", "message", "field 1", "field 2", "field 3"]
    ((line, column, _message, title, author, year),) = table[1:]
    assert (line, column, author, year) == ("13", "year", "Хтось", "рік")
    assert title == '\'=HYPERLINK("http://evil.example","click")'
    # Every cell quoted, CRLF line ends: what spreadsheets expect.
    assert data.splitlines(keepends=True)[1].endswith("\r\n")
    assert data.splitlines()[1].startswith('"13","year",')
