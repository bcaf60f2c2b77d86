"""Uploading CSVs: the service (atomic, safe names, queued once) and its views."""

import codecs
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ingest import conf, services, storage
from ingest.models import Inbox, InboxFile
from ingest.services import uploads
from tests.testapp.models import Journal, Publisher

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State
#: Two journals; a publishers import reads the same file's publisher column.
GOOD = (
    "issn,title,year,publisher\n"
    "0320-8370,Всесвіт,1925,Каменяр\n"
    "0036-8075,Science,1880,AAAS\n"
)


def upload(name: str, content: str | bytes) -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create_user("ops", password="pw", is_staff=True))
    return client


def processing_entries() -> list[str]:
    folder = storage.processing_dir(Path(conf.inbox_dir()))
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- The service ----------------------------------------------------------


def test_an_upload_is_stored_under_its_ledger_id_and_queued_at_once(published):
    row = services.file_upload(name="journals.csv", chunks=[GOOD.encode()])
    assert row.state == State.QUEUED
    assert row.source == InboxFile.Source.UPLOAD
    assert row.name == "journals.csv"
    assert row.size == len(GOOD.encode())
    assert row.processing_path.read_text() == GOOD
    assert row.processing_path.name == f"{row.pk}-journals.csv"
    assert published == [
        {"task": "ingest.tasks.import_file", "args": (row.pk,), "task_id": row.task_id}
    ]
    assert row.dispatched_at is not None
    # No temporary file is left beside it.
    assert processing_entries() == [f"{row.pk}-journals.csv"]


def test_an_upload_is_imported_by_the_worker_path(eager):
    row = services.file_upload(name="journals.csv", chunks=[GOOD.encode()])
    row.refresh_from_db()
    assert row.state == State.DONE
    assert row.rows_imported == 2
    assert Journal.objects.filter(title="Всесвіт").exists()
    assert Path(row.stored_path).exists() and "/archive/" in row.stored_path


def test_an_upload_to_a_preview_first_inbox_waits_in_preview(published):
    """An inbox that holds its files for a person holds its uploads too."""
    held = services.inbox_default()
    held.preview_first = True
    held.save(update_fields=["preview_first"])
    row = services.file_upload(name="books.csv", chunks=[GOOD.encode()], inbox=held)
    assert row.state == State.PREVIEW
    assert [call["task"] for call in published] == ["ingest.tasks.preview_file"]
    assert row.processing_path.read_text() == GOOD
    assert not Journal.objects.exists()


def test_the_upload_form_says_a_preview_first_upload_waits_for_a_person(
    staff, published
):
    held = services.inbox_default()
    held.preview_first = True
    held.save(update_fields=["preview_first"])
    response = staff.post(
        reverse("ingest:upload"),
        {"file": upload("books.csv", GOOD), "inbox": held.pk},
        follow=True,
    )
    row = InboxFile.objects.get()
    assert row.state == State.PREVIEW
    assert "previews files first: confirm it to import" in response.content.decode()
    answer = staff.post(
        reverse("ingest:import"), {"file": upload("more.csv", GOOD), "inbox": held.pk}
    ).json()
    assert answer["files"][0]["state"] == "preview"


def test_a_scan_after_an_upload_does_not_import_it_again(published):
    row = services.file_upload(name="journals.csv", chunks=[GOOD.encode()])
    summary = services.inbox_scan()
    assert summary["seen"] == 0
    assert "queued" not in summary and "recovered" not in summary
    assert InboxFile.objects.count() == 1
    assert [call["args"] for call in published] == [(row.pk,)]


def test_a_client_path_in_the_name_is_reduced_to_its_last_component(published):
    row = services.file_upload(
        name="../../myproject/../evil.csv", chunks=[GOOD.encode()]
    )
    assert row.name == "evil.csv"
    inbox = Path(conf.inbox_dir())
    assert row.processing_path.parent == storage.processing_dir(inbox)
    assert row.processing_path.resolve().is_relative_to(inbox)
    windows = services.file_upload(name="C:\\temp\\..\\x.csv", chunks=[b"a,b\n"])
    assert windows.name == "x.csv"


def test_a_python_file_with_a_traversal_name_is_refused_and_writes_nothing():
    with pytest.raises(services.UploadRejected, match=r"it reads \.csv, \.csv\.gz"):
        services.file_upload(name="../../myproject/settings.py", chunks=[b"x = 1\n"])
    assert InboxFile.objects.count() == 0
    assert processing_entries() == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("journals.csv", "journals.csv"),
        ("JOURNALS.CSV", "JOURNALS.CSV"),
        (".hidden.csv", "hidden.csv"),
        ("we\x00ird\n.csv", "weird.csv"),
        ("книги 2024.csv", "книги 2024.csv"),
        ("export.csv.gz", "export.csv.gz"),
        ("../Export.CSV.xz", "Export.CSV.xz"),
    ],
)
def test_upload_names_keep_their_readable_form(name, expected):
    assert services.upload_name(name) == expected


@pytest.mark.parametrize(
    "name",
    ["", ".csv", "journals.txt", "journals.csv.exe", "..", "/", ".csv.gz", "x.gz"],
)
def test_names_that_are_not_csv_files_are_refused(name):
    with pytest.raises(services.UploadRejected):
        services.upload_name(name)


def test_a_long_name_is_shortened_to_fit_the_file_system():
    name = services.upload_name("я" * 300 + ".csv")
    assert name.endswith(".csv")
    assert len(name.encode()) <= services.UPLOAD_NAME_MAX_BYTES


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"issn,title,year\nA,B,2000\n\x00\x01\x02", "NUL bytes"),
        ("issn,title\n".encode("utf-32"), "UTF-32"),
        (codecs.BOM_UTF16_LE + b"t\x00i\x00\x00\xd8", "not UTF-16"),
        (b"\xef\xbb\xbfissn,title,year\n\xff\xfe,B,1\n", "not UTF-8"),
        (b"", "empty"),
    ],
)
def test_content_that_is_not_csv_text_is_refused_and_leaves_nothing(content, message):
    with pytest.raises(services.UploadRejected, match=message):
        services.file_upload(name="journals.csv", chunks=[content])
    assert InboxFile.objects.count() == 0
    assert processing_entries() == []


def test_a_utf16_upload_with_a_bom_is_accepted_and_queued():
    content = "issn,title,year\r\nJ1,Всесвіт,1925\r\n".encode("utf-16")
    row = services.file_upload(name="journals.csv", chunks=[content[:7], content[7:]])
    assert row.state == InboxFile.State.QUEUED
    assert row.processing_path.read_bytes() == content


def test_an_upload_over_the_size_limit_is_refused_while_streaming(settings):
    settings.INGEST_MAX_UPLOAD_SIZE = 100
    with pytest.raises(services.UploadRejected, match="upload limit of 100 bytes"):
        services.file_upload(name="journals.csv", chunks=[b"a" * 60, b"b" * 60])
    assert processing_entries() == []


def test_a_database_failure_leaves_no_file_behind(published, monkeypatch):
    def broken_queue(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(uploads, "file_queue", broken_queue)
    with pytest.raises(RuntimeError):
        services.file_upload(name="journals.csv", chunks=[GOOD.encode()])
    assert InboxFile.objects.count() == 0
    assert processing_entries() == []
    assert published == []


# --- The upload page ------------------------------------------------------


def test_the_upload_form_stores_several_files_and_returns_to_the_dashboard(
    staff, eager
):
    response = staff.post(
        reverse("ingest:upload"),
        {"file": [upload("a.csv", GOOD), upload("b.csv", "issn,title,year\n")]},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("ingest:home")
    text = response.content.decode()
    assert "a.csv uploaded as #" in text and "import queued" in text
    rows = {row.name: row for row in InboxFile.objects.all()}
    assert sorted(rows) == ["a.csv", "b.csv"]
    assert (rows["a.csv"].state, rows["a.csv"].rows_imported) == (State.DONE, 2)
    assert rows["a.csv"].importer_chosen_by == InboxFile.ChosenBy.HEADER
    assert rows["b.csv"].state == State.FAILED and "no data rows" in rows["b.csv"].error
    assert Journal.objects.filter(title="Всесвіт").exists()


def test_an_upload_named_like_any_export_is_imported_by_its_header(staff, eager):
    staff.post(reverse("ingest:upload"), {"file": upload("web-upload.csv", GOOD)})
    row = InboxFile.objects.get()
    assert (row.state, row.importer, row.rows_imported) == (State.DONE, "journals", 2)


def test_the_uploader_may_choose_the_dataset_and_the_inbox(
    staff, eager, settings, tmp_path, mailoutbox
):
    settings.INGEST_ALLOWED_ROOTS = [str(tmp_path)]
    (tmp_path / "people").mkdir()
    people = services.inbox_save(
        inbox=Inbox(
            name="people", folder=str(tmp_path / "people"), notify_emails="hr@x.org"
        )
    )
    response = staff.post(
        reverse("ingest:import"),
        {
            "file": upload("export.csv", GOOD),
            "importer": "publishers",
            "inbox": people.pk,
        },
    )
    assert response.status_code == 202
    assert response.json()["files"][0]["dataset"] == "publishers"
    assert response.json()["files"][0]["inbox"] == "people"
    row = InboxFile.objects.get()
    assert (row.inbox, row.state, row.importer, row.importer_chosen_by) == (
        people,
        State.DONE,
        "publishers",
        "person",
    )
    assert sorted(Publisher.objects.values_list("name", flat=True)) == [
        "AAAS",
        "Каменяр",
    ]
    assert not Journal.objects.exists()
    assert mailoutbox[-1].to == ["hr@x.org"]
    assert Path(row.stored_path).exists()


def test_an_unknown_dataset_in_the_upload_form_is_refused(staff, published):
    response = staff.post(
        reverse("ingest:import"), {"file": upload("a.csv", GOOD), "importer": "films"}
    )
    assert response.status_code == 400
    assert "films is not one of the available choices" in response.json()["error"]
    assert not InboxFile.objects.exists() and published == []


def test_the_upload_form_refuses_a_non_csv_file_with_a_message(staff, published):
    response = staff.post(
        reverse("ingest:upload"), {"file": upload("notes.txt", "hello")}, follow=True
    )
    assert "notes.txt: not a file this service reads" in response.content.decode()
    assert InboxFile.objects.count() == 0


def test_the_upload_form_refuses_a_file_over_the_limit_while_receiving_it(
    staff, settings, published
):
    settings.INGEST_MAX_UPLOAD_SIZE = 100
    big = "issn,title,year\n" + "A,B,2000\n" * 20
    response = staff.post(
        reverse("ingest:upload"),
        {"file": [upload("small.csv", GOOD), upload("big.csv", big)]},
        follow=True,
    )
    assert (
        "big.csv: over the upload limit of 100 bytes; nothing was uploaded."
        in response.content.decode()
    )
    assert InboxFile.objects.count() == 0
    assert processing_entries() == [] and published == []


def test_the_size_check_stops_reading_before_the_file_is_whole(settings):
    from django.core.files.uploadhandler import StopUpload
    from django.test import RequestFactory

    from ingest.forms import UploadLimitHandler

    settings.INGEST_MAX_UPLOAD_SIZE = 10
    handler = UploadLimitHandler(RequestFactory().post("/"))
    handler.new_file("file", "big.csv", "text/csv", 1000)
    assert handler.receive_data_chunk(b"12345", 0) == b"12345"
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"678901", 5)
    assert handler.request.upload_refused == "big.csv"


def test_the_upload_form_needs_staff(client, published):
    response = client.post(reverse("ingest:upload"), {"file": upload("a.csv", GOOD)})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    client.force_login(User.objects.create_user("reader", password="pw"))
    response = client.post(reverse("ingest:upload"), {"file": upload("a.csv", GOOD)})
    assert response.status_code == 403
    assert InboxFile.objects.count() == 0


def test_the_upload_form_is_csrf_protected():
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(User.objects.create_user("ops", password="p", is_staff=1))
    response = csrf_client.post(
        reverse("ingest:upload"), {"file": upload("a.csv", GOOD)}
    )
    assert response.status_code == 403
    assert InboxFile.objects.count() == 0


# --- The JSON API ---------------------------------------------------------


def test_the_api_answers_the_file_and_task_id_a_seed_client_polls(staff, published):
    response = staff.post(reverse("ingest:import"), {"file": upload("a.csv", GOOD)})
    assert response.status_code == 202
    body = response.json()
    row = InboxFile.objects.get()
    assert body["file_id"] == row.pk and body["task_id"] == row.task_id
    assert body["files"] == [
        {
            "file_id": row.pk,
            "task_id": row.task_id,
            "name": "a.csv",
            "state": "queued",
            "inbox": "default",
            "dataset": None,
        }
    ]
    status = staff.get(reverse("ingest:task-status", args=[body["task_id"]]))
    assert status.json() == {"state": "PENDING", "status": "Queued"}


def test_the_api_lists_every_file_of_a_multi_upload(staff, published):
    response = staff.post(
        reverse("ingest:import"),
        {"file": [upload("a.csv", GOOD), upload("b.csv", "issn,title,year\n")]},
    )
    body = response.json()
    assert [f["name"] for f in body["files"]] == ["a.csv", "b.csv"]
    assert body["file_id"] == body["files"][0]["file_id"]
    assert {f["task_id"] for f in body["files"]} == set(
        InboxFile.objects.values_list("task_id", flat=True)
    )


def test_the_api_reports_refused_files_beside_the_stored_ones(staff, published):
    response = staff.post(
        reverse("ingest:import"),
        {"file": [upload("a.csv", GOOD), upload("b.csv", b"\x00\x01")]},
    )
    assert response.status_code == 202
    body = response.json()
    assert [f["name"] for f in body["files"]] == ["a.csv"]
    assert body["errors"] == [
        "b.csv: The file contains NUL bytes: it is binary, not CSV text."
    ]


def test_the_api_answers_413_for_a_file_over_the_limit(staff, settings):
    settings.INGEST_MAX_UPLOAD_SIZE = 10
    response = staff.post(reverse("ingest:import"), {"file": upload("a.csv", GOOD)})
    assert response.status_code == 413
    assert response.json() == {
        "error": "a.csv: over the upload limit of 10 bytes; nothing was uploaded."
    }
    assert InboxFile.objects.count() == 0


def test_the_api_answers_400_when_nothing_was_stored(staff):
    response = staff.post(reverse("ingest:import"), {"file": upload("x.txt", "a")})
    assert response.status_code == 400
    assert "not a file this service reads" in response.json()["error"]
    response = staff.post(reverse("ingest:import"), {})
    assert response.status_code == 400
    assert response.json()["errors"]


def test_the_api_answers_json_401_to_the_anonymous_and_stores_nothing(client):
    response = client.post(reverse("ingest:import"), {"file": upload("a.csv", GOOD)})
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error"}
    assert InboxFile.objects.count() == 0


def test_the_api_answers_json_403_to_non_staff(client):
    client.force_login(User.objects.create_user("reader", password="pw"))
    response = client.post(reverse("ingest:import"), {"file": upload("a.csv", GOOD)})
    assert response.status_code == 403
    assert response.json() == {"error": "Staff only."}
    assert InboxFile.objects.count() == 0


def test_the_api_refuses_a_post_without_csrf_token_in_json(published):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(User.objects.create_user("ops", password="p", is_staff=1))
    response = csrf_client.post(
        reverse("ingest:import"), {"file": upload("a.csv", GOOD)}
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]
    assert InboxFile.objects.count() == 0


def test_the_api_accepts_a_post_with_the_csrf_header(published):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(User.objects.create_user("ops", password="p", is_staff=1))
    csrf_client.get(reverse("ingest:home"))  # Sets the CSRF cookie.
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post(
        reverse("ingest:import"),
        {"file": upload("a.csv", GOOD)},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 202, response.content
    assert json.loads(response.content)["file_id"] == InboxFile.objects.get().pk


def test_the_api_import_is_post_only(staff):
    assert staff.get(reverse("ingest:import")).status_code == 405
