"""Registering many files at once: few statements, and each file exactly once."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ingest import scanner, services
from ingest.models import InboxFile
from ingest.services import scan
from tests.factories import drop, issn, journals_csv

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

State = InboxFile.State
TRANSACTION_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK")


def statements(captured: CaptureQueriesContext) -> list[str]:
    return [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].lstrip().upper().startswith(TRANSACTION_CONTROL)
    ]


def dropped(count: int, prefix: str = "journals") -> tuple[Path, list]:
    """Drop *count* distinct files; return the inbox and what a scan lists."""
    for n in range(count):
        path = drop(f"{prefix}-{n:03d}.csv", journals_csv((issn(n), f"T{n}", 2000)))
    inbox = path.parent
    return inbox, list(scanner.inbox_list(inbox))


def test_a_batch_of_files_is_registered_and_queued_in_four_statements(published):
    inbox, found = dropped(30)
    default = services.inbox_default()
    with CaptureQueriesContext(connection) as captured:
        outcomes = scan.found_register_many(
            found=found, inbox=default, root=inbox, min_age=0
        )
    assert outcomes == ["queued"] * 30
    sent = [query.split(None, 1)[0] for query in statements(captured)]
    # INSERT, SELECT, UPDATE (queued), UPDATE (dispatched); SQLite's limit of
    # 999 parameters a statement splits the INSERT of 30 rows in two.
    inserts = 1 if connection.vendor == "postgresql" else 2
    assert sent == ["INSERT"] * inserts + ["SELECT", "UPDATE", "UPDATE"]
    rows = InboxFile.objects.order_by("pk")
    assert [row.state for row in rows] == [State.QUEUED] * 30
    assert len({row.task_id for row in rows}) == 30
    assert all(row.dispatched_at for row in rows)
    assert all(row.processing_path.exists() for row in rows)
    assert not list(inbox.glob("*.csv"))
    # One message per file, each with its row's own task id, oldest first.
    assert [(c["args"], c["task_id"]) for c in published] == [
        ((row.pk,), row.task_id) for row in rows
    ]


def test_a_burst_larger_than_a_round_is_registered_in_rounds(published, monkeypatch):
    monkeypatch.setattr(scan, "REGISTER_BATCH", 7)
    inbox, found = dropped(20)
    with CaptureQueriesContext(connection) as captured:
        outcomes = scan.found_register_many(
            found=found, inbox=services.inbox_default(), root=inbox, min_age=0
        )
    assert outcomes == ["queued"] * 20
    updates = [q for q in statements(captured) if q.startswith("UPDATE")]
    assert len(updates) == 2 * 3  # Queue and dispatched, for each of 3 rounds.
    assert InboxFile.objects.filter(state=State.QUEUED).count() == 20
    assert len({c["task_id"] for c in published}) == 20


def test_files_seen_before_keep_their_row_and_the_stability_rules(published, settings):
    settings.INGEST_MIN_FILE_AGE = 3600
    inbox, found = dropped(3)
    default = services.inbox_default()
    assert (
        scan.found_register_many(found=found, inbox=default, root=inbox, min_age=3600)
        == ["waiting"] * 3
    )
    growing = found[1].path
    growing.write_text(journals_csv((issn(1), "T1", 2000), (issn(9), "More", 2001)))
    again = list(scanner.inbox_list(inbox))
    by_name = {f.name: f for f in again}
    outcomes = scan.found_register_many(
        found=[by_name[f.name] for f in found], inbox=default, root=inbox, min_age=0
    )
    assert outcomes == ["queued", "changing", "queued"]
    assert InboxFile.objects.count() == 3
    assert InboxFile.objects.get(name=growing.name).size == growing.stat().st_size
    assert len(published) == 2


def test_a_refused_file_and_a_name_given_twice_in_one_batch(published, tmp_path):
    inbox, found = dropped(1)
    (inbox / "evil.csv").symlink_to(tmp_path / "elsewhere.csv")
    listed = list(scanner.inbox_list(inbox))
    refused = next(f for f in listed if f.refused)
    outcomes = scan.found_register_many(
        found=[found[0], refused, found[0]],
        inbox=services.inbox_default(),
        root=inbox,
        min_age=0,
    )
    assert outcomes == ["queued", "refused", "raced"]
    assert sorted(InboxFile.objects.values_list("state", flat=True)) == [
        State.FAILED,
        State.QUEUED,
    ]


def test_a_broker_failure_leaves_the_files_queued_for_the_redispatch(
    published, monkeypatch
):
    def down(*args, **kwargs):
        raise ConnectionError("the broker is restarting")

    from ingest import tasks

    monkeypatch.setattr(tasks.import_file, "apply_async", down)
    inbox, found = dropped(5)
    outcomes = scan.found_register_many(
        found=found, inbox=services.inbox_default(), root=inbox, min_age=0
    )
    assert outcomes == ["queued"] * 5
    rows = InboxFile.objects.all()
    assert {(row.state, row.dispatched_at) for row in rows} == {(State.QUEUED, None)}


def _in_own_connection(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.parametrize("callers", [2, 4])
def test_concurrent_batches_over_the_same_files_register_and_queue_each_once(
    published, callers
):
    """Scans (or watchers) racing over one burst: one row, one move, one message."""
    files = 60
    inbox, found = dropped(files)
    default = services.inbox_default()
    start = threading.Barrier(callers)

    def register(order: int) -> list[str]:
        start.wait()
        # Each caller lists the files in its own order, as racing scans and
        # watchers see them.
        mine = found[order::callers] + [
            f for i, f in enumerate(found) if i % callers != order
        ]
        return dict(
            zip(
                (f.name for f in mine),
                scan.found_register_many(
                    found=mine, inbox=default, root=inbox, min_age=0
                ),
                strict=True,
            )
        )

    with ThreadPoolExecutor(callers) as pool:
        results = list(
            pool.map(lambda n: _in_own_connection(register, n), range(callers))
        )

    per_file = Counter(
        name
        for result in results
        for name, outcome in result.items()
        if outcome == "queued"
    )
    assert per_file == dict.fromkeys((f.name for f in found), 1)
    losers = Counter(outcome for result in results for outcome in result.values())
    assert losers["queued"] == files
    assert set(losers) <= {"queued", "raced"}, losers
    rows = InboxFile.objects.all()
    assert rows.count() == files  # No second row, no stale sighting left.
    assert {row.state for row in rows} == {State.QUEUED}
    imports = Counter(c["args"][0] for c in published)
    assert imports == dict.fromkeys((row.pk for row in rows), 1)
    assert {c["task_id"] for c in published} == {row.task_id for row in rows}


@pytest.mark.postgres
def test_redis_gets_a_batch_of_messages_in_one_pipeline(monkeypatch):
    """kombu's Producer.batch: one round trip for the burst, every message there."""
    from kombu.transport import redis as kombu_redis

    from myproject.celery import app

    flushes = []
    real_flush = kombu_redis.PublishBatch.flush

    def flush(self):
        flushes.append(self._buffered)
        return real_flush(self)

    monkeypatch.setattr(kombu_redis.PublishBatch, "flush", flush)
    inbox, found = dropped(25)
    with app.connection_for_write() as broker:
        broker.default_channel.queue_purge("celery")
        try:
            outcomes = scan.found_register_many(
                found=found, inbox=services.inbox_default(), root=inbox, min_age=0
            )
            waiting = broker.default_channel.client.llen("celery")
        finally:
            broker.default_channel.queue_purge("celery")
    assert outcomes == ["queued"] * 25
    assert flushes == [25]
    assert waiting == 25
    assert all(row.dispatched_at for row in InboxFile.objects.all())
