"""Scenario 14: two beats over one S3 inbox; every object imported once.

Scenario 4 over a bucket: django-celery-beat has no lock against a second
beat (celery/django-celery-beat #229, #337), so both send the inbox's scan
every second and every listing of the bucket is done twice. Registration is
the ledger's unique index on (key, version) and the claim its conditional
update, so the doubled scans must still import and archive each object once.
"""

import contextlib
import json
import time

import pytest

from ingest.models import Inbox, InboxFile
from tests.chaos.audit import book_files, remote_audit
from tests.chaos.processes import scan_schedule, wait_until
from tests.e2e.harness import Deadline

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

OBJECTS, BURSTS = 50, 5
#: Seconds both beats run while objects arrive (scans every second: 20+
#: doubled scans, short enough to keep the scenario under 40 s).
BOTH_BEATS_FOR = 12
SCAN_SENT = "Sending due task Scan inbox"


def test_two_beats_over_one_bucket_import_each_of_50_objects_once(
    fleet, broker_flush, chaos_settings, chaos_record, s3_folder
):
    """Objects put in bursts while two beats double every scan: no doubles."""
    dataset = book_files("remote-beats", OBJECTS, rows=10)
    names = list(dataset.files)
    inbox = Inbox.objects.create(
        name="bucket", min_file_age=0, **s3_folder.inbox_fields()
    )
    scan_schedule(every=1, kwargs=json.dumps({"inbox_id": inbox.pk}))
    fleet.worker(concurrency=2)
    beats = [fleet.beat(name="beat-a"), fleet.beat(name="beat-b")]
    wait_until(
        lambda: all(SCAN_SENT in b.log() for b in beats),
        timeout=90,
        message="both beats to send a scan",
    )
    started = time.monotonic()
    size = OBJECTS // BURSTS
    for burst in range(BURSTS):
        for name in names[burst * size : (burst + 1) * size]:
            s3_folder.put(name, dataset.files[name].encode())
        time.sleep(BOTH_BEATS_FOR / BURSTS)
    wait_until(
        lambda: (
            InboxFile.objects.filter(name__in=names, state=InboxFile.State.DONE).count()
            >= OBJECTS
        ),
        timeout=120,
        message="every object to be imported",
    )
    # Let the last archive moves finish before the audit looks at the bucket;
    # an object still under its inbox key then is the audit's to report.
    with contextlib.suppress(Deadline):
        wait_until(
            lambda: not [k for k in s3_folder.keys() if not k.startswith("archive/")],
            timeout=30,
            message="every object archived",
        )
    elapsed = time.monotonic() - started
    sends = [b.log().count(SCAN_SENT) for b in beats]
    assert all(b.alive() for b in beats)
    assert min(sends) >= BOTH_BEATS_FOR // 2, sends
    audit = chaos_record(
        remote_audit(dataset, s3_folder),
        scenario=f"14 remote: two beats over one bucket for {elapsed:.0f} s, "
        f"{sum(sends)} scans",
    )
    assert audit.problems == []
    assert (audit.lost, audit.duplicated) == (0, 0)
    # One claim per object: the doubled doorbells never started a second import.
    attempts = set(
        InboxFile.objects.filter(name__in=names).values_list("attempts", flat=True)
    )
    assert attempts == {1}, attempts
