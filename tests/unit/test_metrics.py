"""``/metrics``: the ledger in Prometheus' text format, for staff or a token."""

import datetime

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from ingest.models import Inbox, InboxFile
from tests.factories import default_inbox, ledger_row

pytestmark = pytest.mark.django_db

State = InboxFile.State
Notify = InboxFile.Notify
TOKEN = "s3cret-scrape-token"


@pytest.fixture
def inboxes() -> dict[str, Inbox]:
    """Two inboxes, by name: the files below belong to them (or to none)."""
    return {
        name: Inbox.objects.create(name=name, folder=f"/srv/{name}")
        for name in ("main", "other", "idle")
    }


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


def timed(name: str, seconds: float, inbox: Inbox | None = None, **fields):
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


def test_files_rows_and_emails_are_counted_from_the_ledger(client, token, inboxes):
    main, other = inboxes["main"], inboxes["other"]
    timed(
        "a.csv",
        0.05,
        main,
        rows_imported=10,
        rows_updated=2,
        rows_rejected=1,
        notify_state=Notify.SENT,
    )
    timed("b.csv", 7, main, rows_imported=5, notify_state=Notify.FAILED)
    ledger_row(
        "c.csv",
        State.FAILED,
        inbox=main,
        rows_imported=0,
        rows_rejected=4,
        notify_state=Notify.SENT,
    )
    ledger_row("d.csv", State.QUEUED, rows_imported=0, inbox=other)
    ledger_row("upload.csv", rows_imported=1, notify_state=Notify.SENT)
    found = samples(client, Authorization=f"Bearer {TOKEN}")

    def files(inbox, state):
        return found["ingest_files", (("inbox", inbox), ("state", state))]

    assert files("main", "done") == 2
    assert files("main", "failed") == 1
    assert files("main", "queued") == 0
    assert files("other", "queued") == 1
    assert files("-", "done") == 1  # Belongs to no inbox.

    def rows(outcome, inbox="main"):
        return found["ingest_rows_total", (("inbox", inbox), ("outcome", outcome))]

    assert (rows("imported"), rows("updated"), rows("rejected")) == (15, 2, 5)
    assert rows("imported", "other") == 0
    # Only finished files have an email outcome; the queued one has none yet.
    emails = {
        dict(labels)["outcome"]: value
        for (name, labels), value in found.items()
        if name == "ingest_emails"
    }
    assert emails == {
        "pending": 0,
        "sending": 0,
        "sent": 3,
        "failed": 1,
        "skipped": 0,
        "archive": 0,  # Members of an archive, told in the archive's email.
    }


def test_import_durations_fill_a_cumulative_histogram(client, token, inboxes):
    for index, seconds in enumerate((0.05, 0.3, 7, 7, 4000)):
        timed(f"f{index}.csv", seconds, inboxes["main"])
    # Done without timestamps, or failed: not timed.
    ledger_row("unstarted.csv", inbox=inboxes["main"])
    timed("failed.csv", 2, inboxes["main"], state=State.FAILED)
    found = samples(client, Authorization=f"Bearer {TOKEN}")
    inbox = ("inbox", "main")

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


def test_the_oldest_queued_file_gives_its_inbox_waiting_age(client, token, inboxes):
    now = timezone.now()
    for minutes in (1, 30, 5):
        ledger_row(
            f"q{minutes}.csv",
            State.QUEUED,
            inbox=inboxes["main"],
            queued_at=now - datetime.timedelta(minutes=minutes),
        )
    ledger_row(
        "done.csv", inbox=inboxes["main"], queued_at=now - datetime.timedelta(days=3)
    )
    ledger_row("idle.csv", inbox=inboxes["idle"])
    found = samples(client, Authorization=f"Bearer {TOKEN}")
    age = found["ingest_oldest_queued_age_seconds", (("inbox", "main"),)]
    assert 30 * 60 <= age < 31 * 60
    assert found["ingest_oldest_queued_age_seconds", (("inbox", "idle"),)] == 0


def test_each_enabled_inbox_reports_seconds_since_its_last_scan(client, token):
    now = timezone.now()
    default = default_inbox(every=10)
    Inbox.objects.filter(pk=default.pk).update(
        last_scanned_at=now - datetime.timedelta(seconds=42)
    )
    Inbox.objects.create(
        name="drop",
        folder="/srv/drop",
        last_scanned_at=now - datetime.timedelta(seconds=3),
    )
    Inbox.objects.create(name="never", folder="/srv/never")
    Inbox.objects.create(
        name="off",
        folder="/srv/off",
        enabled=False,
        last_scanned_at=now - datetime.timedelta(days=1),
    )
    found = samples(client, Authorization=f"Bearer {TOKEN}")
    ages = {
        dict(labels)["inbox"]: value
        for (name, labels), value in found.items()
        if name == "ingest_last_scan_age_seconds"
    }
    assert set(ages) == {default.name, "drop"}
    assert 42 <= ages[default.name] < 50
    assert 3 <= ages["drop"] < 10


def test_a_scrape_costs_a_fixed_number_of_queries(
    client, token, django_assert_max_num_queries
):
    """However many files, the scrape runs the same few aggregate queries."""
    inboxes = [
        Inbox.objects.create(name=f"in{i}", folder=f"/srv/{i}") for i in range(3)
    ]
    for index in range(30):
        timed(f"f{index}.csv", index, inboxes[index % 3])
    # Inbox names, the grouped ledger, the oldest queued, the inboxes' scans.
    with django_assert_max_num_queries(4):
        samples(client, Authorization=f"Bearer {TOKEN}")
