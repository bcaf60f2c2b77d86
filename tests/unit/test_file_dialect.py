"""What the reader detected is on the ledger, the file page and its JSON; inboxes override it."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from ingest import services
from ingest.models import InboxFile
from tests.factories import drop, ledger_row
from tests.testapp.models import Journal

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

DAMAGED = (
    "Exported 2026-11-30 by 1C\n"
    "назва;issn;year;publisher\n"
    "Всесвіт;0320-8370;1925;Видавництво Всесвіт\n"
    '"Stray quote;0131-0011;1940;Каменяр\n'
    '"Дзвін; літературний часопис";0131-0012;1940;Каменяр\n'
    "Київ;0132-0013;1983;Радянський письменник\n"
    "Total: 3\n"
)


def test_an_imported_file_records_what_was_detected_and_its_malformed_record(
    eager, settings
):
    settings.INGEST_MAX_REJECT_RATE = 0.5  # One bad record of four.
    services.inbox_default()
    drop("journals.csv", DAMAGED.encode("cp1251"))
    services.inbox_scan()
    row = InboxFile.objects.get()
    assert (row.state, row.rows_imported, row.rows_rejected) == ("done", 3, 1)
    assert row.dialect == {
        "encoding": "cp1251",
        "delimiter": ";",
        "quotechar": '"',
        "escapechar": "",
        "skipinitialspace": False,
        "header_short": False,
        "lineterminator": "LF",
        "header_line": 2,
        "header": ["назва", "issn", "year", "publisher"],
        "skipped_lines": [
            {"line": 1, "text": "Exported 2026-11-30 by 1C"},
            {"line": 7, "text": "Total: 3"},
        ],
        "repeated_headers": 0,
        "malformed": 1,
        # Whole years only: the separators come from the site's language.
        "formats": {"decimal": ".", "decimal_from": "language"},
    }
    rejection = row.rejections.get()
    assert (rejection.line, rejection.message) == (4, "unbalanced quote")
    assert rejection.raw == ['"Stray quote;0131-0011;1940;Каменяр']
    assert Journal.objects.get(issn="0131-0012").title == "Дзвін; літературний часопис"


def test_an_inbox_declares_delimiter_quote_character_and_header_line(eager):
    inbox = services.inbox_default()
    inbox.delimiter, inbox.quotechar, inbox.header_line = "|", "'", 2
    inbox.save()
    # Detection alone would take the comma line for the header.
    drop("journals.csv", b"a,b,c\ntitle|issn|year\n'One|Two'|J1|2001\n")
    services.inbox_scan()
    row = InboxFile.objects.get()
    assert row.state == "done", row.error
    assert (row.dialect["delimiter"], row.dialect["header_line"]) == ("|", 2)
    assert Journal.objects.get().title == "One|Two"


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create_user("ops", password="pw", is_staff=True))
    return client


def test_the_file_page_and_its_json_show_what_was_detected(staff):
    dialect = {
        "encoding": "cp1251",
        "delimiter": ";",
        "quotechar": "'",
        "escapechar": "\\",
        "lineterminator": "CRLF",
        "header_line": 3,
        "header": ["Назва", "Автор", "Рік"],
        "skipped_lines": [{"line": 1, "text": "Exported by 1C"}],
        "repeated_headers": 2,
        "malformed": 4,
    }
    row = ledger_row(
        "journals.csv",
        encoding="cp1251",
        delimiter=";",
        dialect=dialect,
        rows_rejected=4,
    )
    page = staff.get(reverse("ingest:file-page", args=[row.pk])).content.decode()
    assert "cp1251, semicolon-separated, quoted with <code>&#x27;</code>" in page
    assert "<code>\\</code> escapes, CRLF line ends" in page
    assert "line 3: Назва, Автор, Рік" in page
    assert "line 1: <code>Exported by 1C</code>" in page
    assert "Repeated headers skipped</dt><dd>2" in page
    assert "4 records the CSV grammar could not read" in page
    data = staff.get(reverse("ingest:file-detail", args=[row.pk])).json()
    assert data["dialect"] == dialect
