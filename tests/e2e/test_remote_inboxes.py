"""S3 and SFTP inboxes set up in the admin, imported by a real worker and beat.

Real processes on PostgreSQL + Redis: a web server (staff create both
inboxes through the admin's HTML form, secrets and all), a worker and a
beat scanning each inbox every second. Objects are put into a SeaweedFS
bucket prefix and files into an OpenSSH server's folder; each is
imported once, archived on its own store, and emailed.
"""

import datetime

import pytest

from catalogue.models import Book
from ingest.models import Inbox, InboxFile
from tests.e2e.harness import wait_until
from tests.e2e.test_inboxes_real import save
from tests.factories import books_csv

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]


def test_s3_and_sftp_inboxes_made_in_the_admin_are_imported_and_archived(
    services, mailbox, admin_user, s3_folder, sftp_folder
):
    web = services.web()
    services.worker()
    services.beat()
    staff = web.session()
    staff.login(admin_user.username, "password")
    for name, remote in (("partner bucket", s3_folder), ("bank sftp", sftp_folder)):
        fields = {
            key: value
            for key, value in remote.inbox_fields().items()
            if key != "region" or value
        }
        save(
            staff,
            "/admin/ingest/inbox/add/",
            {"name": name, "scan_every": "1", **fields},
        )
    s3_inbox = Inbox.objects.get(name="partner bucket")
    sftp_inbox = Inbox.objects.get(name="bank sftp")
    assert s3_inbox.secret and sftp_inbox.ssh_key  # Saved, though never shown.

    s3_folder.put("export.csv", books_csv(("Кобзар", "Тарас Шевченко", 1840)).encode())
    sftp_folder.put(
        "statement.csv", books_csv(("Лісова пісня", "Леся Українка", 1911)).encode()
    )
    done = wait_until(
        lambda: InboxFile.objects.filter(state="done").count() == 2,
        90,
        message="both remote files imported",
        services=services,
    )
    assert done
    day = datetime.date.today().strftime("%Y/%m/%d")
    for inbox, remote, name in (
        (s3_inbox, s3_folder, "export.csv"),
        (sftp_inbox, sftp_folder, "statement.csv"),
    ):
        row = InboxFile.objects.get(inbox=inbox)
        assert (row.name, row.rows_imported, row.attempts) == (name, 1, 1)
        archived = f"archive/{day}/{row.pk}-{name}"
        wait_until(
            lambda remote=remote, archived=archived: remote.keys() == [archived],
            30,
            message=f"{name} archived on its store",
            services=services,
        )
    assert sorted(Book.objects.values_list("title", flat=True)) == [
        "Кобзар",
        "Лісова пісня",
    ]
    subjects = wait_until(
        lambda: (
            len(mailbox.messages()) == 2
            and [mailbox.subject(m) for m in mailbox.messages()]
        ),
        30,
        message="two emails",
        services=services,
    )
    assert all(subject.startswith("Import finished:") for subject in subjects)
    assert InboxFile.objects.count() == 2
    for inbox in (s3_inbox, sftp_inbox):
        inbox.refresh_from_db()
        assert inbox.last_scan_error == "" and inbox.last_scanned_at is not None
