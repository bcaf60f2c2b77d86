"""``/metrics``: the ledger in Prometheus' text format, for staff or a token."""

import datetime
import json

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from prometheus_client.parser import text_string_to_metric_families

from ingest.models import InboxFile
from tests.factories import ledger_row

pytestmark = pytest.mark.django_db

State = InboxFile.State
Notify = InboxFile.Notify
TOKEN = "s3cret-scrape-token"


@pytest.fixture
def token(settings):
    settings.INGEST_METRICS_TOKEN = TOKEN
    return TOKEN


def samples(client, **headers) -> dict[tuple[str, tuple], float]:
    """Scrape and return {(sample name, sorted labels): value}."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


def timed(name: str, seconds: float, inbox: str = "/srv/inbox", **fields):
    finished = timezone.now()
    return ledger_row(
        name,
        inbox=inbox,
        started_at=finished - datetime.timedelta(seconds=seconds),
        finished_at=finished,
        **fields,
    )


def test_anonymous_and_non_staff_get_401_and_a_wrong_token_too(client, token):
    assert client.get("/metrics").status_code == 401
    response = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    client.force_login(User.objects.create_user("clerk"))
    assert client.get("/metrics").status_code == 401


def test_no_token_configured_means_no_bearer_gets_in(client, settings):
    settings.INGEST_METRICS_TOKEN = ""
    response = client.get("/metrics", headers={"Authorization": "Bearer "})
    assert response.status_code == 401


def test_the_token_or_a_staff_session_opens_it(client, token):
    assert samples(client, Authorization=f"Bearer {TOKEN}")
    client.force_login(User.objects.create_user("ops", is_staff=True))
    assert samples(client)


def test_files_rows_and_emails_are_counted_from_the_ledger(client, token):
    timed(
        "a.csv",
        0.05,
        rows_imported=10,
        rows_updated=2,
        rows_rejected=1,
        notify_state=Notify.SENT,
    )
    timed("b.csv", 7, rows_imported=5, notify_state=Notify.FAILED)
    ledger_row(
        "c.csv",
        State.FAILED,
        rows_imported=0,
        rows_rejected=4,
        notify_state=Notify.SENT,
    )
    ledger_row("d.csv", State.QUEUED, rows_imported=0, inbox="/srv/other")
    found = samples(client, Authorization=f"Bearer {TOKEN}")

    def files(inbox, state):
        return found["ingest_files", (("inbox", inbox), ("state", state))]

    assert files("/srv/inbox", "done") == 2
    assert files("/srv/inbox", "failed") == 1
    assert files("/srv/inbox", "queued") == 0
    assert files("/srv/other", "queued") == 1

    def rows(outcome, inbox="/srv/inbox"):
        return found["ingest_rows_total", (("inbox", inbox), ("outcome", outcome))]

    assert (rows("imported"), rows("updated"), rows("rejected")) == (15, 2, 5)
    assert rows("imported", "/srv/other") == 0
    # Only finished files have an email outcome; the queued one has none yet.
    emails = {
        dict(labels)["outcome"]: value
        for (name, labels), value in found.items()
        if name == "ingest_emails"
    }
    assert emails == {"pending": 0, "sending": 0, "sent": 2, "failed": 1, "skipped": 0}


def test_import_durations_fill_a_cumulative_histogram(client, token):
    for index, seconds in enumerate((0.05, 0.3, 7, 7, 4000)):
        timed(f"f{index}.csv", seconds)
    ledger_row("unstarted.csv")  # Done without timestamps: not timed.
    found = samples(client, Authorization=f"Bearer {TOKEN}")
    inbox = ("inbox", "/srv/inbox")

    def bucket(le):
        return found["ingest_import_duration_seconds_bucket", (inbox, ("le", le))]

    assert bucket("0.1") == 1
    assert bucket("0.5") == 2
    assert bucket("5.0") == 2
    assert bucket("10.0") == 4
    assert bucket("3600.0") == 4
    assert bucket("+Inf") == 5
    assert found["ingest_import_duration_seconds_count", (inbox,)] == 5
    total = found["ingest_import_duration_seconds_sum", (inbox,)]
    assert total == pytest.approx(0.05 + 0.3 + 7 + 7 + 4000, abs=0.01)


def test_the_oldest_queued_file_gives_its_inbox_waiting_age(client, token):
    now = timezone.now()
    for minutes in (1, 30, 5):
        ledger_row(
            f"q{minutes}.csv",
            State.QUEUED,
            queued_at=now - datetime.timedelta(minutes=minutes),
        )
    ledger_row("done.csv", queued_at=now - datetime.timedelta(days=3))
    ledger_row("idle.csv", inbox="/srv/idle")
    found = samples(client, Authorization=f"Bearer {TOKEN}")
    age = found["ingest_oldest_queued_age_seconds", (("inbox", "/srv/inbox"),)]
    assert 30 * 60 <= age < 31 * 60
    assert found["ingest_oldest_queued_age_seconds", (("inbox", "/srv/idle"),)] == 0


def test_each_enabled_scan_schedule_reports_seconds_since_its_last_run(
    client, token, tmp_path
):
    every, _ = IntervalSchedule.objects.get_or_create(every=10, period="seconds")
    now = timezone.now()
    PeriodicTask.objects.all().delete()
    PeriodicTask.objects.create(
        name="Scan inbox",
        task="ingest.tasks.scan_inbox",
        interval=every,
        last_run_at=now - datetime.timedelta(seconds=42),
    )
    PeriodicTask.objects.create(
        name="Scan drop",
        task="ingest.tasks.scan_inbox",
        interval=every,
        kwargs=json.dumps({"inbox": str(tmp_path)}),
        last_run_at=now - datetime.timedelta(seconds=3),
    )
    PeriodicTask.objects.create(
        name="Off",
        task="ingest.tasks.scan_inbox",
        interval=every,
        enabled=False,
        last_run_at=now - datetime.timedelta(days=1),
    )
    found = samples(client, Authorization=f"Bearer {TOKEN}")
    ages = {
        dict(labels)["schedule"]: (dict(labels)["inbox"], value)
        for (name, labels), value in found.items()
        if name == "ingest_last_scan_age_seconds"
    }
    from ingest import conf

    assert set(ages) == {"Scan inbox", "Scan drop"}
    assert ages["Scan inbox"][0] == str(conf.inbox_dir())
    assert 42 <= ages["Scan inbox"][1] < 50
    assert ages["Scan drop"][0] == str(tmp_path.resolve())
    assert 3 <= ages["Scan drop"][1] < 10


def test_a_scrape_costs_a_fixed_number_of_queries(
    client, token, django_assert_max_num_queries
):
    """However many files, the scrape runs the same few aggregate queries."""
    for index in range(30):
        timed(f"f{index}.csv", index, inbox=f"/srv/inbox{index % 3}")
    with django_assert_max_num_queries(4):
        samples(client, Authorization=f"Bearer {TOKEN}")
