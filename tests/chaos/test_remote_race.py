"""Scenario 10: two hosts with no shared disk race over one bucket.

Two scans and two workers, each in its own process with its own temporary
folders (inbox, archive, spool, locks, TMPDIR: nothing shared but the
database, the broker and the bucket), over 200 objects put into one S3
prefix while both scan it in a loop. Each object must be imported once and
archived once: the ledger's unique index on (key, version) and its
conditional updates are all that stands between them.
"""

import subprocess
import sys
import time

import pytest

from ingest.models import Inbox, InboxFile
from tests.chaos.audit import book_files, remote_audit
from tests.chaos.processes import wait_until
from tests.e2e.harness import ROOT

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

OBJECTS, BURSTS = 200, 4
#: Seconds each scan process keeps scanning (one scan after another).
SCAN_FOR = 40
SCAN_LOOP = """
import json, sys, time
from ingest import services
from ingest.models import Inbox
scans, until = 0, time.monotonic() + {seconds}
while time.monotonic() < until:
    services.inbox_scan(inbox=Inbox.objects.get(name="bucket"))
    scans += 1
print(json.dumps({{"scans": scans}}))
"""


def _host(tmp_path, name: str) -> dict[str, str]:
    """Return the environment of one host's processes: its own folders."""
    home = tmp_path / f"host-{name}"
    folders = {}
    for setting, sub in (
        ("INGEST_INBOX_DIR", "inbox"),
        ("INGEST_ARCHIVE_DIR", "archive"),
        ("INGEST_FAILED_DIR", "failed"),
        ("INGEST_LOCK_DIR", "locks"),
        ("INGEST_SPOOL_DIR", "spool"),
        ("TMPDIR", "tmp"),
    ):
        (home / sub).mkdir(parents=True)
        folders[setting] = str(home / sub)
    return folders


def test_two_hosts_racing_over_one_bucket_import_each_of_200_objects_once(
    fleet, broker_flush, chaos_record, s3_folder, tmp_path
):
    dataset = book_files("remote", OBJECTS, rows=5)
    Inbox.objects.create(name="bucket", min_file_age=0, **s3_folder.inbox_fields())
    hosts = {name: _host(tmp_path, name) for name in ("a", "b")}
    workers = [
        fleet.worker(name=f"host-{name}", concurrency=2, **env)
        for name, env in hosts.items()
    ]
    started = time.monotonic()
    scanners = [
        subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                SCAN_LOOP.format(seconds=SCAN_FOR),
            ],
            cwd=ROOT,
            env={**fleet.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for env in hosts.values()
    ]
    try:
        names = list(dataset.files)
        size = OBJECTS // BURSTS
        for burst in range(BURSTS):
            for name in names[burst * size : (burst + 1) * size]:
                s3_folder.put(name, dataset.files[name].encode())
            time.sleep(3)
        wait_until(
            lambda: (
                InboxFile.objects.filter(state=InboxFile.State.DONE).count() >= OBJECTS
            ),
            timeout=300,
            message="every object to be imported",
        )
        outputs = [scanner.communicate(timeout=SCAN_FOR + 120) for scanner in scanners]
    finally:
        for scanner in scanners:
            if scanner.poll() is None:
                scanner.kill()
    for scanner, (_out, err) in zip(scanners, outputs, strict=True):
        assert scanner.returncode == 0, err[-3000:]
    scans = sum(
        int(out.strip().splitlines()[-1].split(":")[1].strip(" }"))
        for out, _ in outputs
    )
    elapsed = time.monotonic() - started
    # Let the last archive moves finish before the audit looks at the bucket.
    wait_until(
        lambda: not [k for k in s3_folder.keys() if not k.startswith("archive/")],
        timeout=60,
        message="every object archived",
    )
    audit = chaos_record(
        remote_audit(dataset, s3_folder),
        scenario=f"10 two hosts, one bucket, no shared disk ({scans} scans)",
    )
    assert audit.problems == []
    assert (audit.lost, audit.duplicated) == (0, 0)
    assert elapsed < 300
    # Both hosts took part: each worker imported some of the objects.
    assert all("Imported file #" in worker.log() for worker in workers)
