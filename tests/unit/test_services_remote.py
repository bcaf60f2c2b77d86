"""Remote inboxes end to end in one process: scan, import, archive, repair.

Against real servers (SeaweedFS for S3, OpenSSH for SFTP); the import
runs eagerly, the stores are real.
"""

import datetime
import time

import pytest
from django.core import mail
from django_celery_results.models import TaskResult

from ingest import conf, selectors, services, tasks
from ingest.models import Inbox, InboxFile
from ingest.stores import StorePermanent, StoreTransient
from ingest.stores.s3 import S3Store
from ingest.stores.sftp import SftpStore
from tests.factories import issn, journals_csv
from tests.remote_servers import free_port
from tests.testapp.models import Journal

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State


def _inbox(remote, **overrides) -> Inbox:
    return Inbox.objects.create(
        name=f"remote {remote.scheme}", **remote.inbox_fields(**overrides)
    )


def _archived(remote) -> list[str]:
    return [key for key in remote.keys() if key.startswith("archive/")]


def test_a_remote_file_is_imported_archived_and_emailed_once(eager, remote_folder):
    inbox = _inbox(remote_folder)
    remote_folder.put("journals.csv", journals_csv((issn(1), "Кобзар", 1840)).encode())
    summary = services.inbox_scan(inbox=inbox)
    assert summary["queued"] == 1
    row = InboxFile.objects.get()
    assert row.state == State.DONE and row.rows_imported == 1
    assert row.version and row.inbox_path == remote_folder.url + "journals.csv"
    day = datetime.date.today().strftime("%Y/%m/%d")
    assert _archived(remote_folder) == [f"archive/{day}/{row.pk}-journals.csv"]
    assert row.stored_path == remote_folder.url + f"archive/{day}/{row.pk}-journals.csv"
    assert "journals.csv" not in remote_folder.keys()
    assert Journal.objects.get().title == "Кобзар"
    assert len(mail.outbox) == 1
    again = services.inbox_scan(inbox=inbox)
    assert again["seen"] == 0 and InboxFile.objects.count() == 1
    inbox.refresh_from_db()
    assert inbox.last_scanned_at is not None and inbox.last_scan_error == ""


def test_a_remote_file_is_taken_when_two_listings_a_minimum_age_apart_agree(
    published, remote_folder
):
    inbox = _inbox(remote_folder, min_file_age=30)
    remote_folder.put("journals.csv", journals_csv((issn(1), "A", 2000)).encode())
    assert services.inbox_scan(inbox=inbox)["waiting"] == 1
    assert services.inbox_scan(inbox=inbox)["waiting"] == 1
    row = InboxFile.objects.get()
    assert row.state == State.DISCOVERED and published == []
    # Thirty seconds later (by our clock, never the server's) it is stable.
    InboxFile.objects.filter(pk=row.pk).update(
        discovered_at=row.discovered_at - datetime.timedelta(seconds=31)
    )
    assert services.inbox_scan(inbox=inbox)["queued"] == 1
    assert InboxFile.objects.get().state == State.QUEUED
    # The claim is the ledger's, not a move: the object stays where it is.
    assert remote_folder.keys() == ["journals.csv"]
    assert services.inbox_scan(inbox=inbox).get("taken") == 1
    assert InboxFile.objects.count() == 1


def test_a_remote_file_replaced_while_waiting_waits_again(published, remote_folder):
    inbox = _inbox(remote_folder, min_file_age=30)
    remote_folder.put("journals.csv", journals_csv((issn(1), "A", 2000)).encode())
    services.inbox_scan(inbox=inbox)
    row = InboxFile.objects.get()
    InboxFile.objects.filter(pk=row.pk).update(
        discovered_at=row.discovered_at - datetime.timedelta(seconds=31)
    )
    time.sleep(1.1)
    remote_folder.put(
        "journals.csv",
        journals_csv((issn(1), "A", 2000), (issn(3), "C", 1999)).encode(),
    )
    assert services.inbox_scan(inbox=inbox)["changing"] == 1
    assert InboxFile.objects.get().state == State.DISCOVERED
    assert InboxFile.objects.get().version != row.version


def test_a_bad_remote_file_goes_to_failed_with_its_reason(eager, remote_folder):
    inbox = _inbox(remote_folder)
    remote_folder.put("people.csv", b"nme,birth_yr\nAnn,1900\n")
    services.inbox_scan(inbox=inbox)
    row = InboxFile.objects.get()
    assert row.state == State.FAILED and "matches no dataset" in row.error
    assert remote_folder.keys() == [
        f"failed/{row.pk}-people.csv",
        f"failed/{row.pk}-people.csv.error.txt",
    ]
    reason = remote_folder.read(f"failed/{row.pk}-people.csv.error.txt").decode()
    assert "was not imported" in reason


def test_a_changed_object_under_an_imported_key_is_a_new_file(eager, remote_folder):
    inbox = _inbox(remote_folder)
    remote_folder.put("journals.csv", journals_csv((issn(1), "A", 2000)).encode())
    services.inbox_scan(inbox=inbox)
    time.sleep(1.1)
    remote_folder.put("journals.csv", journals_csv((issn(3), "C", 2001)).encode())
    services.inbox_scan(inbox=inbox)
    time.sleep(1.1)
    remote_folder.put("journals.csv", journals_csv((issn(3), "C", 2001)).encode())
    services.inbox_scan(inbox=inbox)
    states = list(InboxFile.objects.order_by("pk").values_list("state", flat=True))
    assert states == [State.DONE, State.DONE, State.DUPLICATE]
    assert sorted(Journal.objects.values_list("title", flat=True)) == ["A", "C"]
    assert (
        len(_archived(remote_folder)) == 3
        and "journals.csv" not in remote_folder.keys()
    )


@pytest.fixture
def crash_before_move(monkeypatch, remote_folder):
    """The first archive move dies with the network (S3: after the copy)."""
    crashed = []
    backend = S3Store if remote_folder.scheme == "s3" else SftpStore
    original = backend.move

    def move(self, source, target, *, version=""):
        if not crashed and "/archive/" in target:
            crashed.append(target)
            if isinstance(self, S3Store):  # The copy went through, not the delete.
                self.client.copy_object(
                    Bucket=self.bucket,
                    Key=target,
                    CopySource={"Bucket": self.bucket, "Key": source},
                )
            raise StoreTransient("connection reset")
        return original(self, source, target, version=version)

    monkeypatch.setattr(backend, "move", move)
    return crashed


def test_a_crash_between_copy_and_delete_is_finished_by_the_next_scan(
    eager, remote_folder, crash_before_move
):
    inbox = _inbox(remote_folder)
    remote_folder.put("journals.csv", journals_csv((issn(1), "A", 2000)).encode())
    services.inbox_scan(inbox=inbox)
    row = InboxFile.objects.get()
    assert row.state == State.DONE and crash_before_move
    assert "journals.csv" in remote_folder.keys()  # Still under its inbox key.
    summary = services.inbox_scan(inbox=inbox)
    assert summary["settled"] == 1 and "queued" not in summary
    assert remote_folder.keys() == [key for key in _archived(remote_folder)]
    assert len(_archived(remote_folder)) == 1
    assert InboxFile.objects.count() == 1 and Journal.objects.count() == 1
    assert InboxFile.objects.get().attempts == 1 and len(mail.outbox) == 1


def test_a_refused_scan_says_why_and_marks_no_file_lost(
    published, s3_folder, seaweedfs
):
    inbox = _inbox(s3_folder, min_file_age=30)
    s3_folder.put("journals.csv", journals_csv((issn(1), "A", 2000)).encode())
    services.inbox_scan(inbox=inbox)
    Inbox.objects.filter(pk=inbox.pk).update(
        access_key=seaweedfs.denied_key, secret=seaweedfs.denied_secret
    )
    result = tasks.scan_inbox.apply(kwargs={"inbox_id": inbox.pk})
    assert result.failed() and isinstance(result.result, StorePermanent)
    assert "AccessDenied" in str(result.result)
    inbox.refresh_from_db()
    assert "AccessDenied" in inbox.last_scan_error
    assert InboxFile.objects.get().state == State.DISCOVERED  # Not "vanished".
    Inbox.objects.filter(pk=inbox.pk).update(
        access_key=seaweedfs.access_key, secret=seaweedfs.secret_key
    )
    services.inbox_scan(inbox=Inbox.objects.get(pk=inbox.pk))
    assert Inbox.objects.get(pk=inbox.pk).last_scan_error == ""


def test_a_missing_bucket_fails_the_scan_task_with_the_reason(s3_folder, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    inbox = _inbox(s3_folder, folder="s3://no-such-bucket-here/in/")
    tasks.scan_inbox.apply(kwargs={"inbox_id": inbox.pk}, task_id="scan-1")
    result = TaskResult.objects.filter(task_id="scan-1").first()
    inbox.refresh_from_db()
    assert "NoSuchBucket" in inbox.last_scan_error
    if result is not None:  # Stored when the result backend runs eagerly too.
        assert result.status == "FAILURE" and "NoSuchBucket" in result.result


def test_an_unreachable_store_is_transient_and_marks_no_file_lost(
    published, remote_folder, settings
):
    settings.INGEST_REMOTE_RETRIES = 1
    settings.INGEST_REMOTE_TIMEOUT = 2
    inbox = _inbox(remote_folder, min_file_age=30)
    remote_folder.put("journals.csv", journals_csv((issn(1), "A", 2000)).encode())
    services.inbox_scan(inbox=inbox)
    if remote_folder.scheme == "s3":
        Inbox.objects.filter(pk=inbox.pk).update(
            endpoint_url=f"http://127.0.0.1:{free_port()}"
        )
    else:
        port = remote_folder.server.port
        Inbox.objects.filter(pk=inbox.pk).update(
            folder=inbox.folder.replace(f":{port}/", f":{free_port()}/")
        )
    with pytest.raises(StoreTransient):
        services.inbox_scan(inbox=Inbox.objects.get(pk=inbox.pk))
    assert "retried" in Inbox.objects.get(pk=inbox.pk).last_scan_error
    assert InboxFile.objects.get().state == State.DISCOVERED
    assert StoreTransient in tasks.scan_inbox.autoretry_for
    assert StoreTransient in tasks.import_file.autoretry_for


def test_an_import_cut_by_the_network_is_retried_not_failed(
    published, remote_folder, monkeypatch
):
    inbox = _inbox(remote_folder)
    remote_folder.put("journals.csv", journals_csv((issn(1), "A", 2000)).encode())
    services.inbox_scan(inbox=inbox)
    row = InboxFile.objects.get()
    backend = S3Store if remote_folder.scheme == "s3" else SftpStore

    def cut(self, *args, **kwargs):
        raise StoreTransient("connection reset by peer")

    with monkeypatch.context() as patch:
        patch.setattr(backend, "fetch", cut)
        with pytest.raises(StoreTransient):
            services.file_import(file_id=row.pk, task_id=row.task_id)
    # Queued again for the task's retry; no worker died, so no attempt is used.
    assert InboxFile.objects.get().state == State.QUEUED
    assert InboxFile.objects.get().attempts == 0
    with monkeypatch.context() as patch:
        patch.setattr(backend, "fetch", cut)
        for _try in range(conf.max_attempts() + 2):
            with pytest.raises(StoreTransient):
                services.file_import(file_id=row.pk, task_id=row.task_id)
    outcome = services.file_import(file_id=row.pk, task_id=row.task_id)
    assert outcome["status"] == "done" and Journal.objects.count() == 1
    assert "journals.csv" not in remote_folder.keys()


def test_a_reimport_reads_the_archived_object_and_archives_it_again(
    eager, remote_folder
):
    inbox = _inbox(remote_folder)
    remote_folder.put("journals.csv", journals_csv((issn(1), "A", 2000)).encode())
    services.inbox_scan(inbox=inbox)
    services.files_requeue(files=InboxFile.objects.all())
    row = InboxFile.objects.get()
    assert row.state == State.DONE and row.attempts == 1
    assert len(_archived(remote_folder)) == 1
    assert not [key for key in remote_folder.keys() if key.startswith(".processing")]


def test_the_watcher_leaves_remote_inboxes_to_the_scan(remote_folder):
    _inbox(remote_folder)
    assert [w.inbox.name for w in selectors.inboxes_watched()] == []


def test_archive_and_failed_folders_set_separately_are_used(eager, remote_folder):
    inbox = _inbox(
        remote_folder,
        archive_folder=remote_folder.url + "imported/",
        failed_folder=remote_folder.url + "rejected/",
    )
    remote_folder.put("journals.csv", journals_csv((issn(1), "A", 2000)).encode())
    remote_folder.put("people.csv", b"nme,birth_yr\nAnn,1900\n")
    services.inbox_scan(inbox=inbox)
    done = InboxFile.objects.get(name="journals.csv")
    failed = InboxFile.objects.get(name="people.csv")
    day = datetime.date.today().strftime("%Y/%m/%d")
    assert remote_folder.keys() == sorted(
        [
            f"imported/{day}/{done.pk}-journals.csv",
            f"rejected/{failed.pk}-people.csv",
            f"rejected/{failed.pk}-people.csv.error.txt",
        ]
    )
    assert services.inbox_scan(inbox=inbox)["seen"] == 0


def test_a_concurrent_scan_that_meets_a_fresh_row_of_the_same_version_waits(
    published, remote_folder
):
    """A scan whose lookup missed another scan's new row neither resets nor doubles it."""
    from ingest.services.remote import _object_register
    from ingest.services.remote_files import inbox_store

    inbox = _inbox(remote_folder, min_file_age=30)
    remote_folder.put("journals.csv", journals_csv((issn(1), "A", 2000)).encode())
    with inbox_store(inbox, inbox.folder) as store:
        (found,) = store.list()
        first = _object_register(
            store=store, found=found, inbox=inbox, defaults={}, min_age=30
        )
        row = InboxFile.objects.get()
        again = _object_register(
            store=store, found=found, inbox=inbox, defaults={}, min_age=30
        )
    assert (first, again) == ("waiting", "waiting")
    assert InboxFile.objects.get().discovered_at == row.discovered_at
