"""The preview pages and their JSON equivalents: access, CSRF, the flow."""

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from ingest import services
from ingest.models import InboxFile

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State
#: Two journals; a publishers import reads the same file's publisher column.
GOOD = (
    "issn,title,year,publisher\n"
    "0320-8370,Всесвіт,1925,Каменяр\n"
    "0036-8075,Science,1880,AAAS\n"
)


def upload(name: str = "journals.csv", content: str = GOOD) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode(), content_type="text/csv")


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create_user("ops", password="pw", is_staff=True))
    return client


def computed(row: InboxFile) -> InboxFile:
    services.file_preview(file_id=row.pk, task_id=row.task_id)
    row.refresh_from_db()
    return row


def test_the_dashboard_offers_preview_next_to_upload_and_import(staff):
    page = staff.get(reverse("ingest:home")).content.decode()
    assert "Upload and import" in page
    assert f'formaction="{reverse("ingest:preview-upload")}"' in page


def test_preview_stores_the_upload_and_shows_its_page(staff, published):
    """The file waits in preview; the page says it is being read."""
    response = staff.post(reverse("ingest:preview-upload"), {"file": upload()})

    row = InboxFile.objects.get()
    assert row.state == State.PREVIEW
    assert response.url == reverse("ingest:preview-page", args=[row.pk])
    assert [c["task"] for c in published] == ["ingest.tasks.preview_file"]
    page = staff.get(response.url).content.decode()
    assert "Reading the file" in page
    assert staff.get(reverse("ingest:file-page", args=[row.pk])).url == response.url


def test_the_preview_page_shows_counts_mapping_and_first_rows(staff, published):
    staff.post(reverse("ingest:preview-upload"), {"file": upload()})
    row = computed(InboxFile.objects.get())

    page = staff.get(reverse("ingest:preview-page", args=[row.pk])).content.decode()

    assert '<dd data-count="new">2</dd>' in page
    assert '<dd data-count="rejected">0</dd>' in page
    assert "Всесвіт" in page and 'id="preview-mapping"' in page
    assert f'name="version" value="{row.task_id}"' in page


def test_import_confirms_and_cancel_deletes_from_the_page(staff, published):
    staff.post(reverse("ingest:preview-upload"), {"file": upload()})
    staff.post(reverse("ingest:preview-upload"), {"file": upload("b.csv")})
    first, second = (computed(r) for r in InboxFile.objects.order_by("pk"))

    confirmed = staff.post(
        reverse("ingest:preview-confirm", args=[first.pk]),
        {"version": first.task_id},
    )
    cancelled = staff.post(reverse("ingest:preview-cancel", args=[second.pk]))

    assert confirmed.url == reverse("ingest:home")
    assert InboxFile.objects.get(pk=first.pk).state == State.QUEUED
    assert cancelled.url == reverse("ingest:home")
    assert not InboxFile.objects.filter(pk=second.pk).exists()


def test_changing_the_dataset_previews_again(staff, published):
    staff.post(reverse("ingest:preview-upload"), {"file": upload()})
    row = computed(InboxFile.objects.get())

    staff.post(
        reverse("ingest:preview-change", args=[row.pk]), {"importer": "publishers"}
    )

    changed = InboxFile.objects.get()
    assert changed.task_id != row.task_id
    assert (changed.importer_requested, changed.preview) == (
        "publishers",
        {"status": "pending"},
    )


def test_the_json_preview_and_confirm_answer_202_and_409(staff, published):
    created = staff.post(reverse("ingest:import-preview"), {"file": upload()})
    assert created.status_code == 202, created.content
    body = created.json()
    file_id = body["file_id"]
    confirm = reverse("ingest:file-confirm", args=[file_id])
    assert body["files"][0]["confirm_url"] == confirm

    not_ready = staff.post(confirm)
    assert not_ready.status_code == 409 and "not ready" in not_ready.json()["error"]
    computed(InboxFile.objects.get(pk=file_id))
    detail = staff.get(reverse("ingest:file-detail", args=[file_id])).json()
    assert detail["preview"]["status"] == "ready" and detail["preview"]["new"] == 2
    assert len(detail["preview"]["rows"]) == 2
    (listed,) = staff.get(reverse("ingest:file-index"), {"ids": file_id}).json()[
        "files"
    ]
    assert listed["preview"]["new"] == 2 and "rows" not in listed["preview"]

    done = staff.post(confirm, {"version": detail["task_id"]})
    assert done.status_code == 202, done.content
    assert InboxFile.objects.get(pk=file_id).state == State.QUEUED
    assert staff.post(confirm).status_code == 409


@pytest.mark.parametrize("name", ["ingest:import-preview", "ingest:file-confirm"])
def test_the_json_endpoints_answer_401_and_check_csrf_after_auth(name, published):
    row = services.file_upload(name="a.csv", chunks=[GOOD.encode()], preview=True)
    url = reverse(name, args=[row.pk] if name == "ingest:file-confirm" else [])
    anonymous = Client().post(url, {"file": upload()})
    assert anonymous.status_code == 401 and "error" in anonymous.json()
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(User.objects.create_user("ops", password="p", is_staff=1))
    refused = csrf_client.post(url, {"file": upload()})
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]
    assert InboxFile.objects.get(pk=row.pk).state == State.PREVIEW
    assert InboxFile.objects.count() == 1
