"""Staff manage an inbox in the admin of a running server; beat follows.

Real processes on PostgreSQL + Redis: a web server, a worker and a beat
(DatabaseScheduler re-reading its schedule every second, as
``CELERY_BEAT_MAX_LOOP_INTERVAL=1`` in the test environment says). The
inbox is created, edited and disabled only through the admin's HTML form.
"""

import re
import time
from pathlib import Path

import pytest
from django_celery_beat.models import PeriodicTask
from django_celery_results.models import TaskResult

from catalogue.models import Book
from ingest.models import Inbox, InboxFile
from tests.e2e.harness import form_fields, wait_until
from tests.factories import books_csv

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

#: Seconds beat may take to follow a schedule edit: its loop re-reads the
#: schedule every CELERY_BEAT_MAX_LOOP_INTERVAL (1 s here, 5 s by default),
#: then the new interval (1 s) runs, then a worker scans and imports.
FOLLOW_BOUND = 15


def drop(folder: Path, name: str, text: str) -> None:
    partial = folder / f".{name}.part"
    partial.write_text(text, encoding="utf-8")
    partial.rename(folder / name)


def scans(name: str) -> int:
    """Return how many scans of inbox *name* workers have finished."""
    return TaskResult.objects.filter(
        task_name="ingest.tasks.scan_inbox", result__contains=f'"inbox": "{name}"'
    ).count()


def save(staff, path: str, changes: dict) -> None:
    """Submit the inbox form at *path* with *changes*, as a browser would."""
    status, _, page = staff.get(path)
    assert status == 200
    fields = form_fields(page, form_id="inbox_form")
    fields.update(changes)
    if changes.get("enabled") is False:
        fields.pop("enabled", None)
        del changes["enabled"]
    status, url, page = staff.post(path, fields)
    errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', page, re.S)
    assert status == 200 and url.endswith("/admin/ingest/inbox/"), (status, errors)


def test_an_inbox_made_in_the_admin_is_scanned_edited_and_disabled_live(
    services, tmp_path, admin_user
):
    partners = tmp_path / "partners"
    partners.mkdir()
    allowed = {"INGEST_ALLOWED_ROOTS": str(tmp_path)}
    web = services.web(**allowed)
    services.worker(**allowed)
    services.beat(**allowed)
    staff = web.session()
    staff.login(admin_user.username, "password")

    save(
        staff,
        "/admin/ingest/inbox/add/",
        {"name": "partners", "folder": str(partners), "scan_every": "3600"},
    )
    inbox = Inbox.objects.get(name="partners")
    task = inbox.periodic_task
    assert task.interval.every == 3600 and task.enabled
    # A new interval schedule first runs one interval after it was made.
    drop(partners, "export-2026-11.csv", books_csv(("Кобзар", "Тарас Шевченко", 1840)))
    time.sleep(4)
    assert not InboxFile.objects.exists(), "the first scan is an hour away"
    assert scans("partners") == 0

    # Staff shorten the interval; the running beat follows without a restart.
    change = f"/admin/ingest/inbox/{inbox.pk}/change/"
    edited = time.monotonic()
    save(staff, change, {"scan_every": "1"})
    row = wait_until(
        lambda: InboxFile.objects.filter(state="done").first(),
        FOLLOW_BOUND,
        message="the file imported after the interval edit",
        services=services,
    )
    followed = time.monotonic() - edited
    assert (row.inbox, row.importer, row.importer_chosen_by) == (
        inbox,
        "books",
        "header",
    )
    assert Book.objects.get().title == "Кобзар"
    print(f"beat followed the interval edit: file done {followed:.1f} s after save")

    # Disabled: no more scans, so the next file stays where it is.
    save(staff, change, {"enabled": False})
    assert not PeriodicTask.objects.get(pk=task.pk).enabled
    time.sleep(3)  # Let a scan already on its way finish.
    runs = scans("partners")
    drop(partners, "later.csv", books_csv(("Лісова пісня", "Леся Українка", 1911)))
    time.sleep(6)
    assert scans("partners") == runs
    assert (partners / "later.csv").exists()
    assert not InboxFile.objects.filter(name="later.csv").exists()
