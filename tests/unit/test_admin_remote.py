"""Remote inboxes in the admin: URLs accepted, secrets never shown back."""

import subprocess
import sys

import pytest
from django.urls import reverse

from ingest import services
from ingest.models import Inbox
from ingest.stores import StorePermanent
from tests.unit.test_inboxes import ADD, form

pytestmark = pytest.mark.django_db(databases="__all__")

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----\n"


def remote_form(**fields) -> dict:
    return form(
        **{
            "folder": "s3://partner-drop/incoming",
            "endpoint_url": "http://127.0.0.1:8333",
            "region": "eu-central-1",
            "access_key": "AKIAEXAMPLE",
            "secret": SECRET,
            "ssh_key": "",
            "known_hosts": "",
            **fields,
        }
    )


def test_an_s3_inbox_is_saved_with_its_url_normalised(admin_client):
    response = admin_client.post(reverse(ADD), remote_form())
    assert response.status_code == 302, response.content.decode()
    inbox = Inbox.objects.get(name="partners")
    assert inbox.folder == "s3://partner-drop/incoming/"
    assert (inbox.secret, inbox.region) == (SECRET, "eu-central-1")
    assert inbox.periodic_task.enabled


def test_an_sftp_inbox_is_saved_with_its_key(admin_client):
    response = admin_client.post(
        reverse(ADD),
        remote_form(
            folder="sftp://erp@files.example.com:2222/out", secret="", ssh_key=SSH_KEY
        ),
    )
    assert response.status_code == 302, response.content.decode()
    inbox = Inbox.objects.get(name="partners")
    assert inbox.folder == "sftp://erp@files.example.com:2222/out/"
    assert inbox.ssh_key == SSH_KEY


@pytest.mark.parametrize(
    ("folder", "reason"),
    [
        ("sftp://erp:hunter2@files.example.com/out/", "password"),
        ("s3://Bad_Bucket/in/", "not a valid S3 bucket"),
        ("s3://bucket/../etc/", "&#x27;..&#x27;"),
    ],
)
def test_a_bad_remote_folder_is_refused_with_the_reason(admin_client, folder, reason):
    response = admin_client.post(reverse(ADD), remote_form(folder=folder))
    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not Inbox.objects.filter(name="partners").exists()


def test_secrets_are_never_shown_back_and_blank_keeps_them(admin_client):
    admin_client.post(reverse(ADD), remote_form(ssh_key=SSH_KEY))
    inbox = Inbox.objects.get(name="partners")
    change = reverse("admin:ingest_inbox_change", args=[inbox.pk])
    page = admin_client.get(change).content.decode()
    assert SECRET not in page and "b3BlbnNzaC1rZXktdjEAAAA" not in page
    assert "leave blank to keep it" in page
    response = admin_client.post(
        change, remote_form(secret="", ssh_key="", region="us-east-1")
    )
    assert response.status_code == 302, response.content.decode()
    inbox.refresh_from_db()
    assert (inbox.secret, inbox.ssh_key, inbox.region) == (SECRET, SSH_KEY, "us-east-1")
    admin_client.post(change, remote_form(secret="new-secret"))
    assert Inbox.objects.get(pk=inbox.pk).secret == "new-secret"


def test_the_last_scan_error_shows_on_the_inbox_page(admin_client):
    admin_client.post(reverse(ADD), remote_form())
    inbox = Inbox.objects.get(name="partners")
    Inbox.objects.filter(pk=inbox.pk).update(
        last_scan_error="Listing s3://partner-drop/incoming/: AccessDenied (Access Denied.)"
    )
    page = admin_client.get(reverse("admin:ingest_inbox_change", args=[inbox.pk]))
    assert "AccessDenied (Access Denied.)" in page.content.decode()


def test_preview_first_is_refused_for_a_remote_folder(admin_client):
    response = admin_client.post(reverse(ADD), remote_form(preview_first="on"))
    assert response.status_code == 200
    assert "local folders only" in response.content.decode()


def test_a_remote_inbox_without_its_library_is_refused_saying_what_to_install(
    admin_client, monkeypatch
):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "boto3" else real(name, *a),
    )
    response = admin_client.post(reverse(ADD), remote_form())
    assert "pip install &#x27;inbox-ingest[s3]&#x27;" in response.content.decode()
    inbox = Inbox.objects.create(name="old", folder="s3://partner-drop/old/")
    with pytest.raises(StorePermanent, match=r"inbox-ingest\[s3\]"):
        services.inbox_scan(inbox=inbox)
    assert "inbox-ingest[s3]" in Inbox.objects.get(pk=inbox.pk).last_scan_error


def test_ingest_imports_without_boto3_and_paramiko():
    code = (
        "import sys; sys.modules['boto3'] = None; sys.modules['paramiko'] = None\n"
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'myproject.settings'\n"
        "django.setup()\n"
        "import ingest.admin, ingest.services, ingest.stores, ingest.tasks, ingest.watcher\n"
        "from ingest.stores import library_missing\n"
        "print(library_missing('s3') != '' or 'boto3 found')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_archive_and_failed_folders_must_be_on_the_inboxs_own_store(admin_client):
    response = admin_client.post(
        reverse(ADD),
        remote_form(
            archive_folder="s3://other-bucket/archive/",
            failed_folder="s3://partner-drop/incoming/",
        ),
    )
    page = response.content.decode()
    assert "on the inbox&#x27;s own bucket or server" in page
    assert "another folder than the inbox itself" in page
    response = admin_client.post(
        reverse(ADD),
        remote_form(
            archive_folder="s3://partner-drop/done",
            failed_folder="s3://partner-drop/bad/",
        ),
    )
    assert response.status_code == 302, response.content.decode()
    inbox = Inbox.objects.get(name="partners")
    assert (inbox.archive_folder, inbox.failed_folder) == (
        "s3://partner-drop/done/",
        "s3://partner-drop/bad/",
    )
