"""Row errors where people look: errors CSV, admin, email, reason file."""

import csv
import io
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse

from ingest import services
from ingest.errors_csv import cell_neutralise, errors_csv_lines, file_errors_csv
from ingest.models import InboxFile, RowRejection
from tests.factories import drop, issn, journals_csv

State = InboxFile.State
db = pytest.mark.django_db(transaction=True, databases="__all__")
#: Ten rows, two of them bad: 20% rejected.
TEN_ROWS_TWO_BAD = journals_csv(
    *[(issn(i), f"Journal {i}", 2000 + i) for i in range(8)],
    (issn(8), '=HYPERLINK("http://evil")', "abc"),
    ("@SUM(A1)", "", 2000),
)


def parse(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def imported(name: str, content: str) -> InboxFile:
    drop(name, content)
    services.inbox_scan()
    return InboxFile.objects.get(name=name)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "\n"])
def test_a_cell_starting_like_a_formula_is_neutralised(start):
    assert cell_neutralise(f"{start}1+1") == f"'{start}1+1"


@pytest.mark.parametrize("value", ["Кобзар", "1840", "a=b", " =x", ""])
def test_ordinary_cells_are_left_alone(value):
    assert cell_neutralise(value) == value


def test_the_csv_has_a_header_and_one_line_per_rejected_row_with_its_fields():
    rejections = [
        RowRejection(line=3, column="year", message="year 'x' is bad", raw=["T", "-5"]),
        RowRejection(line=9, column="", message="short", raw=["=cmd|' /C calc'!A0"]),
    ]
    rows = parse("".join(errors_csv_lines(rejections)))
    assert rows == [
        ["line", "column", "message", "field 1", "field 2"],
        ["3", "year", "year 'x' is bad", "T", "'-5"],
        ["9", "", "short", "'=cmd|' /C calc'!A0"],
    ]


# --- Through a real import -------------------------------------------------


@db
def test_the_email_quotes_the_first_errors_and_attaches_the_csv(eager, settings):
    settings.INGEST_MAX_REJECT_RATE = 0.5
    row = imported("journals.csv", TEN_ROWS_TWO_BAD)
    assert (row.state, row.rows_imported, row.rows_rejected) == (State.DONE, 8, 2)
    (message,) = mail.outbox
    assert "Rejected rows (first 2 of 2;" in message.body
    assert "  line 10 year: year 'abc' is not a whole number" in message.body
    assert "  line 11 title: title is empty" in message.body
    assert "Read as:   utf-8, comma-delimited" in message.body
    ((filename, content, mimetype),) = message.attachments
    assert (filename, mimetype) == (f"{row.pk}-journals.errors.csv", "text/csv")
    rows = parse(content)
    assert rows[1][:5] == [
        "10",
        "year",
        "year 'abc' is not a whole number",
        issn(8),
        '\'=HYPERLINK("http://evil")',
    ]
    assert rows[2][3:5] == ["'@SUM(A1)", ""]


@db
def test_a_file_over_the_reject_rate_imports_nothing_but_records_its_errors(eager):
    row = imported("journals.csv", TEN_ROWS_TWO_BAD)
    assert row.state == State.FAILED
    assert (row.rows_total, row.rows_imported, row.rows_rejected) == (10, 0, 2)
    assert "2 of 10 rows (20.0%) are invalid, more than the 10% allowed" in row.error
    assert "First errors: line 10 (year): year 'abc' is not a whole number" in (
        row.error
    )
    assert row.rejections.count() == 2
    reason = Path(row.stored_path + ".error.txt").read_text(encoding="utf-8")
    assert reason.startswith(f"journals.csv (ledger #{row.pk}) was not imported: 2 of")
    assert reason.count("\n") == 1  # One paragraph.
    (message,) = mail.outbox
    assert message.subject.startswith("Import failed: journals.csv — 2 of 10 rows")
    assert len(message.attachments) == 1


@db
def test_a_clean_file_sends_no_attachment(eager):
    imported("journals.csv", journals_csv(("A", "Alpha", 2000)))
    assert mail.outbox[0].attachments == []
    assert "Rejected rows" not in mail.outbox[0].body


@db
def test_rejected_rows_are_capped_but_counted_exactly(eager, settings):
    settings.INGEST_MAX_ROW_ERRORS = 3
    settings.INGEST_MAX_REJECT_RATE = 1.0
    row = imported(
        "journals.csv",
        journals_csv(*[(issn(i), "T", "bad") for i in range(7)], ("G", "Gamma", 2000)),
    )
    assert (row.rows_rejected, row.rejections.count()) == (7, 3)
    assert len(parse(file_errors_csv(file=row))) == 4
    assert "Rejected rows (first 3 of 7;" in mail.outbox[0].body


@db
def test_ignored_columns_reach_the_ledger_the_summary_and_the_email(eager):
    row = imported("journals.csv", "issn,title,year,isbn,Notes\nA,B,2000,1,x\n")
    assert row.ignored_columns == ["isbn", "Notes"]
    assert services.file_summary(row)["ignored_columns"] == ["isbn", "Notes"]
    assert "Ignored:   columns isbn, Notes" in mail.outbox[0].body


@db
def test_a_file_over_the_size_limit_is_refused_unread(eager, settings):
    settings.INGEST_MAX_FILE_SIZE = 10
    row = imported("journals.csv", journals_csv(("A", "Alpha", 2000)))
    assert row.state == State.FAILED
    assert "more than the 10 allowed (INGEST_MAX_FILE_SIZE)" in row.error
    assert row.sha256 == ""


# --- Admin -----------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("boss", "b@example.com", "pw"))
    return client


@db
def test_the_admin_downloads_the_errors_csv(eager, settings, admin_client):
    settings.INGEST_MAX_REJECT_RATE = 0.5
    row = imported("journals.csv", TEN_ROWS_TWO_BAD)
    response = admin_client.get(
        reverse("admin:ingest_inboxfile_errors_csv", args=[row.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="{row.pk}-journals.errors.csv"' in response["Content-Disposition"]
    content = b"".join(response.streaming_content).decode()
    assert content == file_errors_csv(file=row)


@db
def test_the_ledger_page_shows_errors_inline_and_links_the_paged_list(
    eager, settings, admin_client
):
    settings.INGEST_MAX_REJECT_RATE = 0.5
    row = imported("journals.csv", TEN_ROWS_TWO_BAD)
    page = admin_client.get(
        reverse("admin:ingest_inboxfile_change", args=[row.pk])
    ).content.decode()
    assert "year &#x27;abc&#x27; is not a whole number" in page
    assert "2 rejected, 2 recorded" in page
    assert reverse("admin:ingest_inboxfile_errors_csv", args=[row.pk]) in page
    listing = reverse("admin:ingest_rowrejection_changelist")
    assert f"{listing}?file__id__exact={row.pk}" in page


@db
def test_the_paged_errors_list_shows_one_files_rows(eager, settings, admin_client):
    settings.INGEST_MAX_REJECT_RATE = 0.5
    first = imported("journals-1.csv", TEN_ROWS_TWO_BAD)
    imported("journals-2.csv", journals_csv(("T", "Tau", "later")))
    response = admin_client.get(
        reverse("admin:ingest_rowrejection_changelist"),
        {"file__id__exact": first.pk},
    )
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == list(first.rejections.all())


@db
def test_the_errors_csv_needs_a_staff_login(client):
    row = InboxFile.objects.create(name="b.csv", folder="/i", inbox_path="/i/b.csv")
    response = client.get(reverse("admin:ingest_inboxfile_errors_csv", args=[row.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


@db
def test_a_reimport_never_shows_the_row_errors_of_an_earlier_run(eager):
    row = imported("journals.csv", TEN_ROWS_TWO_BAD)
    assert row.rejections.count() == 2
    Path(row.stored_path).write_text("no,usable,header\n1,2,3\n")
    assert services.files_requeue(files=[row]) == 1
    row.refresh_from_db()
    assert row.state == State.FAILED and "matches no dataset" in row.error
    assert (row.rows_rejected, row.rejections.count()) == (0, 0)
    reason = Path(row.stored_path + ".error.txt").read_text(encoding="utf-8")
    assert "matches no dataset" in reason and "2 of 10" not in reason


@db
def test_a_rejected_rows_raw_fields_are_kept_cut_to_size(eager, settings):
    settings.INGEST_MAX_REJECT_RATE = 1.0
    row = imported("journals.csv", journals_csv(("A", "T" * 10_000, 2000)))
    (rejection,) = row.rejections.all()
    assert rejection.message == "title is 10000 characters; the limit is 200"
    assert rejection.raw == ["A", "T" * 1000 + "…", "2000"]
