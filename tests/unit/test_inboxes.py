"""Inboxes in the admin: one page for the folder, its reading and its schedule."""

import json

import pytest
from django.urls import reverse
from django_celery_beat.models import PeriodicTask, PeriodicTasks

from ingest import services, tasks
from ingest.models import Inbox, InboxFile
from tests.factories import drop, journals_csv
from tests.testapp.models import Journal, Publisher

ADD = "admin:ingest_inbox_add"
pytestmark = pytest.mark.django_db(databases="__all__")


def form(**fields) -> dict:
    """Return the inbox admin form's fields as a browser submits them."""
    data = {
        "name": "partners",
        "folder": "",
        "importer": "",
        "enabled": "on",
        "encoding": "",
        "column_aliases": "{}",
        "min_file_age": "",
        "max_reject_rate": "",
        "notify_emails": "",
        "webhook_url": "",
        "scan_every": "30",
        "scan_crontab": "",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def partners(tmp_path, settings):
    folder = tmp_path / "partners"
    folder.mkdir()
    settings.INGEST_ALLOWED_ROOTS = [str(tmp_path)]
    return folder


def test_adding_an_inbox_in_the_admin_creates_its_one_schedule(admin_client, partners):
    response = admin_client.post(reverse(ADD), form(folder=str(partners)))
    assert response.status_code == 302, response.content.decode()
    inbox = Inbox.objects.get(name="partners")
    task = inbox.periodic_task
    assert (inbox.folder, inbox.importer, inbox.enabled) == (str(partners), "", True)
    assert (task.task, json.loads(task.kwargs)) == (
        "ingest.tasks.scan_inbox",
        {"inbox_id": inbox.pk},
    )
    assert (task.interval.every, task.interval.period, task.enabled) == (
        30,
        "seconds",
        True,
    )
    assert PeriodicTask.objects.filter(kwargs=task.kwargs).count() == 1


def test_editing_the_schedule_changes_the_same_task_and_tells_beat(
    admin_client, partners
):
    admin_client.post(reverse(ADD), form(folder=str(partners)))
    inbox = Inbox.objects.get(name="partners")
    before = PeriodicTasks.last_change()
    change = reverse("admin:ingest_inbox_change", args=[inbox.pk])
    page = admin_client.get(change).content.decode()
    assert 'name="scan_every" value="30"' in page
    response = admin_client.post(
        change, form(folder=str(partners), scan_every="", scan_crontab="*/5 * * * *")
    )
    assert response.status_code == 302
    task = PeriodicTask.objects.get(pk=inbox.periodic_task_id)
    assert (task.interval, task.crontab.minute, task.crontab.hour) == (None, "*/5", "*")
    assert PeriodicTasks.last_change() > before
    admin_client.post(change, form(folder=str(partners), enabled=None))
    assert not PeriodicTask.objects.get(pk=task.pk).enabled
    assert not Inbox.objects.get(pk=inbox.pk).enabled


def test_deleting_an_inbox_deletes_its_schedule_and_keeps_its_ledger(
    admin_client, partners
):
    admin_client.post(reverse(ADD), form(folder=str(partners)))
    inbox = Inbox.objects.get(name="partners")
    row = InboxFile.objects.create(name="a.csv", inbox=inbox, folder=str(partners))
    delete = reverse("admin:ingest_inbox_delete", args=[inbox.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert not Inbox.objects.filter(pk=inbox.pk).exists()
    assert not PeriodicTask.objects.filter(pk=inbox.periodic_task_id).exists()
    row.refresh_from_db()
    assert (row.inbox, row.folder) == (None, str(partners))


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        ("/etc", "is outside INGEST_ALLOWED_ROOTS"),
        ("relative/path", "is not an absolute path"),
        ("{root}/partners/../../etc", "contains &#x27;..&#x27;"),
        ("{root}/escape", "resolves to /etc"),
    ],
)
def test_the_form_refuses_a_folder_outside_the_allowed_roots(
    admin_client, partners, folder, message
):
    (partners.parent / "escape").symlink_to("/etc")
    folder = folder.format(root=partners.parent)
    response = admin_client.post(reverse(ADD), form(folder=folder))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Inbox.objects.filter(name="partners").exists()


def test_the_form_refuses_bad_aliases_recipients_rates_and_schedules(
    admin_client, partners
):
    cases = {
        "column_aliases": ('{"Назва": "titel"}', "Not a column of any dataset: titel"),
        "notify_emails": ("ops@example.com, not-an-address", "valid email"),
        "max_reject_rate": ("1.5", "between 0 and 1"),
        "scan_crontab": ("every day", "is not a crontab line"),
        "encoding": ("klingon", "Unknown encoding"),
    }
    for field, (value, message) in cases.items():
        extra = {"scan_every": ""} if field == "scan_crontab" else {}
        response = admin_client.post(
            reverse(ADD), form(folder=str(partners), **{field: value}, **extra)
        )
        assert message in response.content.decode(), field
    assert not Inbox.objects.filter(name="partners").exists()


def test_scan_now_in_the_admin_queues_a_scan_of_each_selected_inbox(
    admin_client, published
):
    inbox = services.inbox_save(inbox=services.inbox_default())
    response = admin_client.post(
        reverse("admin:ingest_inbox_changelist"),
        {"action": "scan_now", "_selected_action": [inbox.pk]},
        follow=True,
    )
    assert [c["kwargs"] for c in published] == [{"inbox_id": inbox.pk}]
    assert "Scan of 1 inbox queued." in response.content.decode()


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_an_inboxs_settings_apply_to_its_files(eager, partners, mailoutbox):
    inbox = services.inbox_save(
        inbox=Inbox(
            name="partners",
            folder=str(partners),
            encoding="cp1251",
            column_aliases={"Видавництво": "name"},
            notify_emails="partners@example.com\nboss@example.com",
        )
    )
    drop("houses.csv", "Видавництво\nКаменяр\n".encode("cp1251"), inbox=partners)
    tasks.scan_inbox.apply_async(kwargs={"inbox_id": inbox.pk}).get()
    row = InboxFile.objects.get()
    assert (row.inbox, row.state, row.importer, row.encoding) == (
        inbox,
        "done",
        "publishers",
        "cp1251",
    )
    assert Publisher.objects.get().name == "Каменяр"
    assert mailoutbox[-1].to == ["partners@example.com", "boss@example.com"]
    assert "Dataset:   publishers (matched by the header)" in mailoutbox[-1].body


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_an_inboxs_dataset_and_reject_rate_apply(eager, partners):
    inbox = services.inbox_save(
        inbox=Inbox(
            name="partners",
            folder=str(partners),
            importer="publishers",
            max_reject_rate=0.5,
            min_file_age=0,
        )
    )
    # The header alone would make it a journals file.
    body = "issn,title,publisher\nA,Alpha,Springer\nB,Beta,\n"
    drop("journals.csv", body, inbox=partners)
    services.inbox_scan(inbox=inbox)
    row = InboxFile.objects.get()
    assert (row.state, row.importer, row.importer_chosen_by) == (
        "done",
        "publishers",
        "inbox",
    )
    assert (row.rows_imported, row.rows_rejected) == (1, 1)
    assert list(Publisher.objects.values_list("name", flat=True)) == ["Springer"]
    assert not Journal.objects.exists()


def test_an_inbox_waits_its_own_minimum_file_age(partners, published):
    inbox = services.inbox_save(
        inbox=Inbox(name="slow", folder=str(partners), min_file_age=3600)
    )
    drop("journals.csv", journals_csv(("A", "Alpha", 2000)), age=60, inbox=partners)
    assert services.inbox_scan(inbox=inbox)["waiting"] == 1


def test_a_deleted_inboxs_stale_schedule_scans_nothing(caplog):
    assert tasks.scan_inbox.apply(kwargs={"inbox_id": 987654}).get() == {
        "inbox_id": 987654,
        "status": "missing",
    }
