"""Scenario 3: PostgreSQL goes away for a few seconds during scans and an import.

Worker and beat run against a private PostgreSQL that the test stops and
starts again. The tasks retry with backoff on OperationalError/InterfaceError;
what a retry cannot finish (an IMPORTING row whose worker gave up) the scan
repairs once the database is back.
"""

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import environ
import pytest
from django.conf import settings
from django.db import connections
from django.db.utils import load_backend
from django_celery_results.models import TaskResult

from ingest.models import InboxFile
from tests.chaos.audit import Dataset, ledger_audit
from tests.chaos.instances import PrivatePostgres
from tests.chaos.processes import scan_schedule, wait_until

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

ALIAS = "chaos_private"
BIG_ROWS, SMALL_FILES = 200_000, 20
#: Seconds the database stays down.
OUTAGE = 5


@pytest.fixture
def private_database(private_postgres: PrivatePostgres, fleet) -> Iterator[str]:
    """Migrate a database on the private server; return its URL.

    It is also reachable here through the ``chaos_private`` alias.
    """
    private_postgres.create_database("ingest")
    url = private_postgres.url("ingest")
    fleet.manage("migrate", "--no-input", DATABASE_URL=url)
    config = {**connections.settings["default"], **environ.Env.db_url_config(url)}
    # A connection made here, not configured in settings: Django's test case
    # allows those, and nothing flushes or migrates it behind our back.
    connections[ALIAS] = load_backend(config["ENGINE"]).DatabaseWrapper(config, ALIAS)
    try:
        yield url
    finally:
        connections[ALIAS].close()
        del connections[ALIAS]


def _private(model):
    return model.objects.using(ALIAS)


def test_a_database_outage_during_scans_and_an_import_loses_and_doubles_nothing(
    private_database,
    private_postgres,
    fleet,
    broker_flush,
    chaos_settings,
    chaos_record,
):
    """Stop PostgreSQL mid-import while scans run; after it returns, all done once."""
    env = {"DATABASE_URL": private_database}
    dataset = Dataset()
    big = dataset.add("books-big.csv", BIG_ROWS, authors=500)
    for index in range(SMALL_FILES):
        dataset.add(f"books-small-{index:02d}.csv", 100)
    inbox = Path(settings.INGEST_INBOX_DIR)

    scan_schedule(every=1, using=ALIAS)
    worker = fleet.worker(concurrency=2, **env)
    fleet.beat(**env)
    dataset.drop(inbox, [big])

    def importing_big() -> dict | None:
        row = _private(InboxFile).filter(name=big).first()
        result = row and (
            _private(TaskResult).filter(task_id=row.task_id, status="PROGRESS").first()
        )
        return result and json.loads(result.result)

    wait_until(
        importing_big,
        timeout=120,
        interval=0.05,
        message="the big import to report progress",
    )
    # The small files arrive as the database goes: scans are mid-flight.
    dataset.drop(inbox, [n for n in dataset.files if n != big])
    connections[ALIAS].close()
    private_postgres.stop("fast")
    time.sleep(OUTAGE)  # The outage itself, not a wait for a result.
    private_postgres.start()

    wait_until(
        lambda: (
            _private(InboxFile).filter(state=InboxFile.State.DONE).count()
            == len(dataset.files)
        ),
        timeout=300,
        interval=0.5,
        message="every file to be imported",
    )
    # The import cut mid-COPY was retried by its task. Celery logs the retry
    # once its RETRY state is stored, and that store backs off (up to 10 s a
    # try) through the outage: the retried run may be done before the line.
    retried = r"Task ingest\.tasks\.import_file\[[^]]+\] retry: Retry in"
    wait_until(
        lambda: re.search(retried, worker.log()),
        timeout=60,
        interval=0.5,
        message="the cut import's retry to be logged",
    )
    log = worker.log()
    # Tasks that started during the outage waited for the database with
    # backoff (the result backend retries), none failed for good.
    assert "Failed operation _store_result. Retrying" in log
    assert not re.search(r"Task ingest\.tasks\.\w+\[[^]]+\] raised unexpected", log)
    # The cut import ran again, from the start.
    assert _private(InboxFile).get(name=big).attempts >= 2
    audit = chaos_record(
        ledger_audit(dataset, using=ALIAS),
        scenario=f"3 PostgreSQL down {OUTAGE} s mid-import and mid-scan",
    )
    assert audit.problems == []
    assert (audit.lost, audit.duplicated) == (0, 0)
