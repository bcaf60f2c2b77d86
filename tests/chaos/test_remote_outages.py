"""Scenarios 11–13: remote inboxes through a dead worker and dead servers.

11. a worker's process group SIGKILLed in the middle of a remote import;
12. the S3 server (a private SeaweedFS) stopped for 5 s as a worker starts
    importing, then started again on the same ports and data;
13. the SFTP connection cut (the server's per-connection process killed)
    while a worker downloads the file.

Each time scans run every second in a thread, as beat would; scans that
meet the outage fail transiently (and are counted), never permanently.
The audit then wants each file imported once and archived once.
"""

import contextlib
import threading
import time

import psutil
import pytest
from django.db import connection
from django_celery_results.models import TaskResult

from ingest import services
from ingest.models import Inbox, InboxFile
from ingest.stores import StoreTransient
from tests.chaos.audit import Dataset, remote_audit
from tests.chaos.processes import kill_group, wait_until
from tests.remote_servers import S3Folder, SeaweedFS

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

State = InboxFile.State
#: Rows of the big file: its import takes seconds on a loaded 2-core VM.
ROWS = 200_000
SMALL = 10


@contextlib.contextmanager
def remote_scans(name: str, interval: float = 1.0):
    """Scan inbox *name* every *interval* s in a thread; yield the outcomes.

    A transient store error is an outcome (the real task retries it); any
    other error is raised when the block ends.
    """
    outcomes: list[str] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def run() -> None:
        try:
            while not stop.is_set():
                try:
                    services.inbox_scan(inbox=Inbox.objects.get(name=name))
                    outcomes.append("ok")
                except StoreTransient:
                    outcomes.append("transient")
                except Exception as exc:
                    errors.append(exc)
                stop.wait(interval)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield outcomes
    finally:
        stop.set()
        thread.join(120)
    if errors:
        raise AssertionError(f"a scan failed for good: {errors[0]!r}") from errors[0]


def _dataset(prefix: str) -> Dataset:
    dataset = Dataset()
    dataset.add(f"books-{prefix}-big.csv", ROWS, authors=500)
    for index in range(SMALL):
        dataset.add(f"books-{prefix}-{index:02d}.csv", 20)
    return dataset


def _put(folder, dataset: Dataset) -> None:
    for name, content in dataset.files.items():
        folder.put(name, content.encode())


def _big(dataset: Dataset) -> str:
    return next(name for name in dataset.files if name.endswith("-big.csv"))


def _importing(name: str) -> InboxFile | None:
    return InboxFile.objects.filter(name=name, state=State.IMPORTING).first()


def _finished(dataset: Dataset) -> bool:
    return InboxFile.objects.filter(
        name__in=list(dataset.files), state=State.DONE
    ).count() >= len(dataset.files)


def _archived(folder, dataset: Dataset) -> bool:
    return not [k for k in folder.keys() if not k.startswith("archive/")]


def test_a_worker_killed_mid_remote_import_leaves_it_imported_once(
    fleet, broker_flush, chaos_settings, chaos_record, s3_folder
):
    dataset = _dataset("kill")
    Inbox.objects.create(name="bucket", min_file_age=0, **s3_folder.inbox_fields())
    worker = fleet.worker(concurrency=1, name="doomed")
    with remote_scans("bucket") as outcomes:
        _put(s3_folder, dataset)
        big = _big(dataset)
        row = wait_until(
            lambda: _importing(big),
            timeout=180,
            interval=0.05,
            message="the big import to start",
        )
        wait_until(
            lambda: TaskResult.objects.filter(
                task_id=row.task_id, status="PROGRESS"
            ).exists(),
            timeout=120,
            interval=0.1,
            message="the import to report progress",
        )
        kill_group(worker)
        fleet.worker(concurrency=1, name="survivor")
        wait_until(lambda: _finished(dataset), timeout=300, message="every file done")
        wait_until(
            lambda: _archived(s3_folder, dataset), timeout=60, message="archived"
        )
    audit = chaos_record(
        remote_audit(dataset, s3_folder),
        scenario="11 remote: SIGKILL worker group mid-import (S3)",
    )
    assert (audit.lost, audit.duplicated) == (0, 0), audit.problems
    assert InboxFile.objects.get(name=big).attempts == 2
    assert "ok" in outcomes


def test_the_s3_server_restarted_mid_import_loses_and_doubles_nothing(
    fleet, broker_flush, chaos_settings, chaos_record, tmp_path
):
    server = SeaweedFS(tmp_path / "private-weed").start()
    try:
        folder = S3Folder(server)
        dataset = _dataset("restart")
        Inbox.objects.create(name="bucket", min_file_age=0, **folder.inbox_fields())
        fleet.worker(
            concurrency=2, INGEST_REMOTE_TIMEOUT="3", INGEST_REMOTE_RETRIES="2"
        )
        with remote_scans("bucket") as outcomes:
            _put(folder, dataset)
            wait_until(
                lambda: _importing(_big(dataset)),
                timeout=180,
                interval=0.02,
                message="the big import to start",
            )
            server.stop()
            time.sleep(5)
            server.start()
            wait_until(
                lambda: _finished(dataset), timeout=300, message="every file done"
            )
            wait_until(
                lambda: _archived(folder, dataset), timeout=120, message="archived"
            )
        audit = chaos_record(
            remote_audit(dataset, folder),
            scenario=f"12 remote: S3 server down 5 s mid-import "
            f"({outcomes.count('transient')} scans failed transiently)",
        )
        assert (audit.lost, audit.duplicated) == (0, 0), audit.problems
        assert "transient" in outcomes
    finally:
        server.stop()


def _spooling(spool, name: str, size: int) -> bool:
    """Return True while the worker's local copy of *name* is partly written."""
    copies = list(spool.glob(f"*-{name}"))
    return bool(copies) and 0 < copies[0].stat().st_size < size


def test_an_sftp_connection_cut_mid_download_loses_and_doubles_nothing(
    fleet, broker_flush, chaos_settings, chaos_record, sftp_folder, sshd, tmp_path
):
    dataset = Dataset()
    name = dataset.add("books-cut-big.csv", ROWS * 5, authors=500)
    size = len(dataset.files[name].encode())
    Inbox.objects.create(name="server", min_file_age=0, **sftp_folder.inbox_fields())
    spool = tmp_path / "spool"
    spool.mkdir()
    fleet.worker(concurrency=1, INGEST_SPOOL_DIR=str(spool))
    with remote_scans("server", interval=2.0):
        _put(sftp_folder, dataset)
        wait_until(
            lambda: _spooling(spool, name, size),
            timeout=180,
            interval=0.005,
            message="the download to be under way",
        )
        # sshd forks one process per connection: killing them cuts every session.
        for child in psutil.Process(sshd.process.pid).children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        wait_until(lambda: _finished(dataset), timeout=300, message="the file done")
        wait_until(
            lambda: _archived(sftp_folder, dataset), timeout=60, message="archived"
        )
    audit = chaos_record(
        remote_audit(dataset, sftp_folder),
        scenario="13 remote: SFTP connection cut mid-download",
    )
    assert (audit.lost, audit.duplicated) == (0, 0), audit.problems
    assert InboxFile.objects.get(name=name).attempts == 1  # Resumed, not retried.
