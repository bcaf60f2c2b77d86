"""The dashboard pages and the JSON API: access, content, live-progress data."""

import csv
import datetime
import io
import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_celery_results.models import TaskResult

from ingest import selectors, services
from ingest.models import Inbox, InboxFile, RowRejection
from tests.factories import default_inbox, ledger_row

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State


def running_row(name: str = "big.csv", percent: float = 42.0) -> InboxFile:
    row = ledger_row(
        name, State.IMPORTING, started_at=timezone.now(), rows_imported=0, size=1000
    )
    TaskResult.objects.create(
        task_id=row.task_id,
        status="PROGRESS",
        result=json.dumps(
            {"current": 420, "total": 1000, "percent": percent, "rows": 21000}
        ),
    )
    return row


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create_user("ops", password="pw", is_staff=True))
    return client


@pytest.fixture
def reader(client):
    client.force_login(User.objects.create_user("reader", password="pw"))
    return client


@pytest.fixture
def default_schedule() -> PeriodicTask:
    """Create the default inbox and its schedule: ``migrate`` made none."""
    return default_inbox().periodic_task


def next_scan():
    """Return the default inbox's schedule as the dashboard reads it."""
    inbox = selectors.inbox_list().get(folder="")
    return selectors.inbox_schedule_next(inbox=inbox)


def finished_row(name: str = "done.csv", **fields) -> InboxFile:
    started = timezone.now() - datetime.timedelta(seconds=12)
    return ledger_row(
        name,
        started_at=started,
        finished_at=started + datetime.timedelta(seconds=3.5),
        **fields,
    )


PAGES = [
    ("ingest:home", []),
    ("ingest:file-page", ["{pk}"]),
    ("ingest:file-errors", ["{pk}"]),
]
API_GETS = [
    ("ingest:file-index", []),
    ("ingest:file-detail", ["{pk}"]),
    ("ingest:task-status", ["{task_id}"]),
]


def url(name: str, args: list[str], row: InboxFile) -> str:
    return reverse(name, args=[a.format(pk=row.pk, task_id=row.task_id) for a in args])


# --- Access ---------------------------------------------------------------


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_pages_send_the_anonymous_to_the_login_page(client, name, args):
    row = finished_row()
    target = url(name, args, row)
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={target}"


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_pages_refuse_logged_in_non_staff(reader, name, args):
    response = reader.get(url(name, args, finished_row()))
    assert response.status_code == 403
    assert b"done.csv" not in response.content


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_pages_open_for_staff(staff, name, args):
    assert staff.get(url(name, args, finished_row())).status_code == 200


@pytest.mark.parametrize(("name", "args"), API_GETS)
def test_the_api_answers_401_json_to_the_anonymous_without_data(client, name, args):
    response = client.get(url(name, args, finished_row()))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Authentication required: log in first."}


@pytest.mark.parametrize(("name", "args"), API_GETS)
def test_the_api_answers_403_json_to_non_staff_without_data(reader, name, args):
    response = reader.get(url(name, args, finished_row()))
    assert response.status_code == 403
    assert response.json() == {"error": "Staff only."}


def test_an_inactive_staff_user_is_not_staff(client):
    user = User.objects.create_user("gone", password="pw", is_staff=True)
    client.force_login(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    # Django's ModelBackend logs inactive users out; the page must not open.
    assert client.get(reverse("ingest:home")).status_code == 302


@pytest.mark.parametrize(
    "name", ["ingest:scan", "ingest:upload", "ingest:file-requeue"]
)
def test_actions_are_post_only(staff, name):
    args = [finished_row().pk] if name == "ingest:file-requeue" else []
    assert staff.get(reverse(name, args=args)).status_code == 405


def test_the_login_form_logs_staff_in_and_returns_to_the_dashboard(client):
    User.objects.create_user("ops", password="secret-pw-1", is_staff=True)
    page = client.get(reverse("login"))
    assert b'<label for="id_username">Username</label>' in page.content
    assert b'<label for="id_password">Password</label>' in page.content
    response = client.post(
        reverse("login"),
        {"username": "ops", "password": "secret-pw-1", "next": "/"},
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_the_login_form_refuses_a_wrong_password(client):
    User.objects.create_user("ops", password="secret-pw-1", is_staff=True)
    response = client.post(reverse("login"), {"username": "ops", "password": "nope"})
    assert response.status_code == 200
    assert b"enter a correct username and password" in response.content


def test_logging_out_needs_a_post_and_ends_the_session(staff):
    response = staff.post(reverse("logout"))
    assert response.status_code == 302
    assert staff.get(reverse("ingest:home")).status_code == 302


# --- The dashboard --------------------------------------------------------


def test_the_dashboard_lists_recent_imports_newest_first_with_their_numbers(staff):
    first = finished_row("first.csv", rows_updated=2, rows_rejected=1)
    second = ledger_row("second.csv", State.QUEUED, source=InboxFile.Source.UPLOAD)
    response = staff.get(reverse("ingest:home"))
    text = response.content.decode()
    assert text.index("second.csv") < text.index("first.csv")
    assert f'data-file-id="{first.pk}" data-state="done"' in text
    assert f'data-file-id="{second.pk}" data-state="queued"' in text
    assert "3.5 s" in text  # Duration of the finished one.
    assert ">Upload<" in text and ">Inbox<" in text
    assert [row.pk for row, _progress in response.context["rows"]] == [
        second.pk,
        first.pk,
    ]


def test_a_running_import_shows_an_accessible_progress_bar_with_rows(staff):
    row = running_row(percent=42.0)
    text = staff.get(reverse("ingest:home")).content.decode()
    assert 'role="progressbar"' in text
    assert 'aria-valuenow="42.0"' in text
    assert 'aria-valuemin="0" aria-valuemax="100"' in text
    assert f'aria-label="Import progress of {row.name}"' in text
    assert "42.0% · 21,000 rows" in text  # Grouped as the language groups.


def test_a_running_import_without_a_report_yet_shows_a_bar_at_zero(staff):
    ledger_row("new.csv", State.IMPORTING, started_at=timezone.now())
    text = staff.get(reverse("ingest:home")).content.decode()
    assert 'role="progressbar"' in text and 'aria-valuenow="0"' in text
    assert "starting…" in text


def test_finished_and_queued_imports_show_no_progress_bar(staff):
    finished_row()
    ledger_row("waiting.csv", State.QUEUED)
    text = staff.get(reverse("ingest:home")).content.decode()
    assert 'role="progressbar"' not in text
    assert "waiting for a worker" in text


def test_the_dashboard_filters_by_state(staff):
    ledger_row("good.csv", State.DONE)
    ledger_row("bad.csv", State.FAILED, error="broken")
    text = staff.get(reverse("ingest:home"), {"state": "failed"}).content.decode()
    assert "bad.csv" in text and "good.csv" not in text
    assert '<option value="failed" selected>' in text


def test_an_unknown_state_filter_shows_everything(staff):
    ledger_row("good.csv", State.DONE)
    text = staff.get(reverse("ingest:home"), {"state": "bogus"}).content.decode()
    assert "good.csv" in text


def test_the_dashboard_is_paginated(staff):
    for number in range(30):
        ledger_row(f"f{number:02}.csv")
    first = staff.get(reverse("ingest:home")).context["rows"]
    second = staff.get(reverse("ingest:home"), {"page": 2})
    assert len(first) == 25 and len(second.context["rows"]) == 5
    assert "Page 2 of 2" in second.content.decode()
    assert 'href="?page=1" rel="prev"' in second.content.decode()
    filtered = staff.get(reverse("ingest:home"), {"state": "done"}).content.decode()
    assert 'href="?state=done&amp;page=2" rel="next"' in filtered
    assert {r.name for r, _ in first}.isdisjoint(
        {r.name for r, _ in second.context["rows"]}
    )


def test_imports_older_than_the_window_are_left_out(staff):
    old = ledger_row("old.csv")
    InboxFile.objects.filter(pk=old.pk).update(
        discovered_at=timezone.now() - datetime.timedelta(days=30)
    )
    ledger_row("new.csv")
    text = staff.get(reverse("ingest:home")).content.decode()
    assert "new.csv" in text and "old.csv" not in text


def test_the_dashboard_has_a_labelled_keyboard_usable_upload_form(staff):
    text = staff.get(reverse("ingest:home")).content.decode()
    assert 'enctype="multipart/form-data"' in text
    assert '<label for="id_file">CSV files</label>' in text
    assert (
        'type="file" name="file" accept=".csv,.gz,.bz2,.xz,.xlsx,.xlsm,.xls,.ods,.zip" multiple'
        in text
    )
    assert 'aria-describedby="id_file_helptext"' in text
    assert 'id="id_file_helptext"' in text
    assert '<button type="submit">Upload and import</button>' in text


def test_the_dashboard_polls_the_json_index(staff):
    text = staff.get(reverse("ingest:home")).content.decode()
    assert f'data-poll-url="{reverse("ingest:file-index")}"' in text
    assert 'data-active-states="discovered,queued,importing"' in text
    assert "ingest/dashboard.js" in text


# --- Scan and schedule ----------------------------------------------------


def test_the_dashboard_shows_when_the_interval_scan_is_due_and_links_to_it(
    staff, default_schedule
):
    PeriodicTask.objects.filter(pk=default_schedule.pk).update(
        last_run_at=timezone.now() - datetime.timedelta(seconds=3)
    )
    text = staff.get(reverse("ingest:home")).content.decode()
    assert "Next scan" in text
    assert "every 10 seconds" in text
    assert any(f"in {s} s" in text for s in (5, 6, 7))
    change = reverse(
        "admin:ingest_inbox_change", args=[default_schedule.ingest_inbox.pk]
    )
    assert f'href="{change}"' in text


def test_the_next_interval_scan_is_the_last_run_plus_the_interval(default_schedule):
    last = timezone.now() - datetime.timedelta(seconds=4)
    PeriodicTask.objects.filter(pk=default_schedule.pk).update(last_run_at=last)
    schedule = next_scan()
    expected = last + datetime.timedelta(seconds=10)
    assert abs((schedule.next_run - expected).total_seconds()) < 1


def test_a_scan_never_run_is_due_now(default_schedule):
    schedule = next_scan()
    assert schedule.enabled
    assert abs((schedule.next_run - timezone.now()).total_seconds()) < 2


def test_a_crontab_scan_is_due_at_its_next_matching_time(default_schedule):
    crontab = CrontabSchedule.objects.create(minute="30", hour="3", timezone="UTC")
    PeriodicTask.objects.filter(pk=default_schedule.pk).update(
        interval=None, crontab=crontab, last_run_at=timezone.now()
    )
    next_run = next_scan().next_run
    assert next_run > timezone.now()
    assert next_run - timezone.now() <= datetime.timedelta(days=1)
    utc = next_run.astimezone(datetime.UTC)
    assert (utc.hour, utc.minute) == (3, 30)


def test_a_disabled_schedule_says_so(staff, default_schedule):
    PeriodicTask.objects.filter(pk=default_schedule.pk).update(enabled=False)
    text = staff.get(reverse("ingest:home")).content.decode()
    assert "Scheduled scans are <strong>disabled</strong>" in text


def test_a_missing_inbox_says_how_to_create_it(staff):
    Inbox.objects.all().delete()
    text = staff.get(reverse("ingest:home")).content.decode()
    assert "No inbox exists yet" in text
    assert reverse("admin:ingest_inbox_add") in text


def test_an_inbox_without_a_schedule_says_so(staff, default_schedule):
    PeriodicTask.objects.filter(pk=default_schedule.pk).delete()
    text = staff.get(reverse("ingest:home")).content.decode()
    assert "No schedule is set." in text


def test_scan_now_queues_a_scan_and_returns_to_the_dashboard(staff, published):
    response = staff.post(reverse("ingest:scan"), follow=True)
    default = Inbox.objects.get(folder="")
    assert [(c["task"], c["kwargs"]) for c in published] == [
        ("ingest.tasks.scan_inbox", {"inbox_id": default.pk})
    ]
    assert "Scan of inbox default queued." in response.content.decode()


def test_scan_now_scans_the_inbox_whose_button_was_pressed(
    staff, published, settings, tmp_path
):
    settings.INGEST_ALLOWED_ROOTS = [str(tmp_path)]
    other = services.inbox_save(inbox=Inbox(name="partners", folder=str(tmp_path)))
    text = staff.get(reverse("ingest:home")).content.decode()
    assert "Scan partners now" in text
    staff.post(reverse("ingest:scan"), {"inbox": other.pk})
    assert [c["kwargs"] for c in published] == [{"inbox_id": other.pk}]
    assert staff.post(reverse("ingest:scan"), {"inbox": "999999"}).status_code == 404


def test_scan_now_says_when_the_broker_is_unreachable(staff, monkeypatch):
    from ingest import tasks

    def down(*args, **kwargs):
        raise ConnectionError("no broker")

    monkeypatch.setattr(tasks.scan_inbox, "apply_async", down)
    response = staff.post(reverse("ingest:scan"), follow=True)
    assert "the broker is unreachable" in response.content.decode()


def test_scan_now_needs_staff(client, published):
    assert client.post(reverse("ingest:scan")).status_code == 302
    client.force_login(User.objects.create_user("reader", password="pw"))
    assert client.post(reverse("ingest:scan")).status_code == 403
    assert published == []


# --- A file's page --------------------------------------------------------


def test_a_file_page_shows_summary_timings_task_result_and_links(staff):
    row = finished_row(
        "books.csv",
        rows_rejected=2,
        encoding="cp1251",
        delimiter=";",
        ignored_columns=["isbn"],
    )
    TaskResult.objects.create(
        task_id=row.task_id,
        status="SUCCESS",
        result=json.dumps({"status": "done", "imported": 3}),
    )
    text = staff.get(reverse("ingest:file-page", args=[row.pk])).content.decode()
    assert f"#{row.pk} books.csv" in text
    assert "3 / 0 / 2" in text  # imported / updated / rejected
    assert "3.500 s" in text
    assert "cp1251, semicolon-separated" in text
    assert "isbn" in text
    assert "SUCCESS" in text and "&quot;imported&quot;: 3" in text
    assert reverse("admin:ingest_inboxfile_change", args=[row.pk]) in text
    assert reverse("ingest:file-errors", args=[row.pk]) in text
    assert "Re-import" not in text  # Only failed files offer it.


def test_a_file_page_pages_its_rejected_rows(staff):
    row = finished_row("bad.csv", rows_rejected=60)
    RowRejection.objects.bulk_create(
        RowRejection(file=row, line=n + 2, column="year", message=f"bad {n}", raw=[])
        for n in range(60)
    )
    first = staff.get(reverse("ingest:file-page", args=[row.pk]))
    second = staff.get(reverse("ingest:file-page", args=[row.pk]), {"page": 2})
    assert len(first.context["rejections"]) == 50
    assert len(second.context["rejections"]) == 10
    assert "bad 0<" in first.content.decode()
    assert "bad 59<" in second.content.decode()
    assert "Page 2 of 2" in second.content.decode()
    assert 'href="?page=1" rel="prev"' in second.content.decode()


def test_a_failed_file_offers_re_import_and_it_queues_the_file(staff, published):
    row = finished_row("broken.csv", state=State.FAILED, error="No header")
    page = staff.get(reverse("ingest:file-page", args=[row.pk])).content.decode()
    assert "Re-import" in page and "No header" in page
    response = staff.post(reverse("ingest:file-requeue", args=[row.pk]), follow=True)
    row.refresh_from_db()
    assert row.state == State.QUEUED and row.error == ""
    assert [call["args"] for call in published] == [(row.pk,)]
    assert "broken.csv queued for another import." in response.content.decode()


def test_re_import_of_a_file_that_is_not_failed_is_refused(staff, published):
    row = finished_row("fine.csv")
    response = staff.post(reverse("ingest:file-requeue", args=[row.pk]), follow=True)
    assert "Only failed files can be re-imported." in response.content.decode()
    row.refresh_from_db()
    assert row.state == State.DONE and published == []


def test_re_import_needs_staff(reader, published):
    row = finished_row("broken.csv", state=State.FAILED)
    assert reader.post(reverse("ingest:file-requeue", args=[row.pk])).status_code == 403
    row.refresh_from_db()
    assert row.state == State.FAILED and published == []


def test_the_errors_csv_lists_rejected_rows_and_defuses_formulas(staff):
    row = finished_row("books.csv", rows_rejected=2)
    RowRejection.objects.create(
        file=row,
        line=3,
        column="year",
        message="year 'x' is not a whole number",
        raw=['=HYPERLINK("http://evil")', "Author", "x"],
    )
    RowRejection.objects.create(
        file=row, line=7, column="title", message="title is empty", raw=["", "+cmd"]
    )
    response = staff.get(reverse("ingest:file-errors", args=[row.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{row.pk}-books.errors.csv"'
    )
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads UTF-8 only with a BOM.
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert rows[0] == ["line", "column", "message", "field 1", "field 2", "field 3"]
    assert rows[1] == [
        "3",
        "year",
        "year 'x' is not a whole number",
        '\'=HYPERLINK("http://evil")',
        "Author",
        "x",
    ]
    assert rows[2] == ["7", "title", "title is empty", "", "'+cmd"]


def test_the_errors_csv_of_a_file_without_rejections_is_just_a_header(staff):
    row = finished_row("clean.csv")
    response = staff.get(reverse("ingest:file-errors", args=[row.pk]))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body))) == [["line", "column", "message"]]


# --- Unknown ids ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("ingest:file-page", "get"),
        ("ingest:file-errors", "get"),
        ("ingest:file-requeue", "post"),
        ("ingest:file-detail", "get"),
    ],
)
def test_unknown_file_ids_are_404(staff, name, method):
    response = getattr(staff, method)(reverse(name, args=[987654]))
    assert response.status_code == 404


def test_a_task_id_the_ledger_never_issued_is_404_not_pending(staff):
    response = staff.get(reverse("ingest:task-status", args=["never-issued"]))
    assert response.status_code == 404


# --- JSON for the live page -----------------------------------------------


def test_the_file_json_carries_progress_of_a_running_import(staff):
    row = running_row(percent=55.5)
    data = staff.get(reverse("ingest:file-detail", args=[row.pk])).json()
    assert data["state"] == "importing" and data["state_display"] == "Importing"
    assert data["progress"] == {
        "current": 420,
        "total": 1000,
        "percent": 55.5,
        "rows": 21000,
    }
    assert data["url"] == reverse("ingest:file-page", args=[row.pk])


def test_the_task_status_of_a_running_import_follows_the_seed_contract(staff):
    row = running_row(percent=42.0)
    data = staff.get(reverse("ingest:task-status", args=[row.task_id])).json()
    assert data == {
        "state": "PROGRESS",
        "current": 420,
        "total": 1000,
        "percent": 42.0,
        "rows": 21000,
    }


def test_polling_by_ids_returns_just_those_files(staff):
    one, two, _other = (
        finished_row("a.csv"),
        running_row("b.csv"),
        finished_row("c.csv"),
    )
    data = staff.get(reverse("ingest:file-index"), {"ids": f"{one.pk},{two.pk}"}).json()
    assert sorted(f["file"] for f in data["files"]) == ["a.csv", "b.csv"]
    by_name = {f["file"]: f for f in data["files"]}
    assert by_name["b.csv"]["progress"]["percent"] == 42.0
    assert by_name["a.csv"]["progress"] is None and by_name["a.csv"]["seconds"] == 3.5


def test_polling_with_bad_ids_is_a_400(staff):
    response = staff.get(reverse("ingest:file-index"), {"ids": "1,x"})
    assert response.status_code == 400


def test_the_file_index_filters_by_state_and_refuses_unknown_states(staff):
    ledger_row("good.csv", State.DONE)
    ledger_row("bad.csv", State.FAILED)
    data = staff.get(reverse("ingest:file-index"), {"state": "failed"}).json()
    assert [f["file"] for f in data["files"]] == ["bad.csv"]
    assert staff.get(reverse("ingest:file-index"), {"state": "nope"}).status_code == 400
