"""Scenario 2: Redis restarts with 50 messages queued; the scans recover them all.

The private Redis keeps nothing on disk, so a restart loses every queued
message; the ledger still says QUEUED, and the scan rings the doorbell again
once ``INGEST_REDISPATCH_AFTER`` has passed.
"""

import json
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django_celery_results.models import TaskResult

from ingest.models import InboxFile
from tests.chaos.audit import book_files, ledger_audit
from tests.chaos.processes import scan_schedule, wait_until

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

FILES = 50


def test_messages_lost_in_a_redis_restart_are_redispatched_by_the_scans(
    private_redis, fleet, chaos_settings, chaos_record
):
    """50 queued files, broker restarted empty: every file imported once."""
    broker = private_redis.url()
    dataset = book_files("redis", FILES, rows=20)
    dataset.drop(Path(settings.INGEST_INBOX_DIR))
    summary = json.loads(fleet.manage("ingest_scan", CELERY_BROKER_URL=broker))
    assert summary["queued"] == FILES
    client = redis.Redis.from_url(broker)
    try:
        assert client.llen("celery") == FILES
        private_redis.stop()
        private_redis.start()
        assert client.dbsize() == 0  # Every message is gone.
    finally:
        client.close()
    assert InboxFile.objects.filter(state=InboxFile.State.QUEUED).count() == FILES

    scan_schedule(every=1)
    fleet.worker(concurrency=2, CELERY_BROKER_URL=broker)
    fleet.beat(CELERY_BROKER_URL=broker)
    wait_until(
        lambda: InboxFile.objects.filter(state=InboxFile.State.DONE).count() == FILES,
        timeout=240,
        message="every file to be imported",
    )
    scans = TaskResult.objects.filter(
        task_name="ingest.tasks.scan_inbox", status="SUCCESS"
    )
    redispatched = sum(json.loads(s.result).get("redispatched", 0) for s in scans)
    assert redispatched >= FILES
    audit = chaos_record(
        ledger_audit(dataset), scenario="2 Redis restarted with 50 queued"
    )
    assert audit.problems == []
    assert (audit.lost, audit.duplicated) == (0, 0)
