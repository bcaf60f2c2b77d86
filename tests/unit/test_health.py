"""``/healthz`` and ``/readyz``: liveness without I/O, readiness with reasons."""

import datetime

import pytest
from django.utils import timezone

from ingest import health, services
from ingest.models import Inbox
from myproject.celery import app as celery_app
from tests.e2e.harness import free_port
from tests.factories import default_inbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def scan_every_10s() -> Inbox:
    """The default inbox, scanned every 10 s, never scanned yet."""
    return default_inbox(every=10)


def ran(inbox: Inbox, seconds_ago: float) -> None:
    Inbox.objects.filter(pk=inbox.pk).update(
        last_scanned_at=timezone.now() - datetime.timedelta(seconds=seconds_ago)
    )


def test_healthz_answers_ok_without_touching_the_database(
    client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_without_a_worker_is_503_naming_the_worker(client, scan_every_10s):
    """Database and broker are up, beat scanned just now, no worker runs."""
    ran(scan_every_10s, 2)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    checks = body["checks"]
    assert list(checks) == ["database", "broker", "beat", "worker"]
    assert [checks[name]["ok"] for name in checks] == [True, True, True, False]
    assert "no worker answered a ping within 1 s" in checks["worker"]["detail"]
    assert checks["worker"]["seconds"] < 3


def test_a_scan_older_than_three_intervals_fails_the_beat_check(scan_every_10s):
    ran(scan_every_10s, 29)
    assert health.beat_check().ok
    ran(scan_every_10s, 31)
    check = health.beat_check()
    assert not check.ok
    assert f"{scan_every_10s.name} last scanned 31 s ago (every 10 s)" in check.detail


def test_an_inbox_never_scanned_or_none_enabled_fails_the_beat_check(
    scan_every_10s,
):
    assert health.beat_check().detail == f"{scan_every_10s.name} was never scanned"
    Inbox.objects.update(enabled=False)
    assert (health.beat_check().ok, health.beat_check().detail) == (
        False,
        "no enabled inbox",
    )


def test_a_crontab_inbox_is_not_judged_by_an_interval(
    scan_every_10s, settings, tmp_path
):
    ran(scan_every_10s, 1)
    settings.INGEST_ALLOWED_ROOTS = [str(tmp_path)]
    nightly = Inbox.objects.create(name="nightly", folder=str(tmp_path))
    services.inbox_save(inbox=nightly, schedule=services.Schedule(crontab="0 3 * * *"))
    assert health.beat_check().ok


def test_a_finished_scan_records_when_it_ran(scan_every_10s, published):
    before = timezone.now()
    services.inbox_scan(inbox=scan_every_10s)
    scan_every_10s.refresh_from_db()
    assert before <= scan_every_10s.last_scanned_at <= timezone.now()


def test_an_unreachable_broker_fails_its_check_quickly(monkeypatch):
    url = f"redis://127.0.0.1:{free_port()}/0"
    # Celery reads the variable before its setting.
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    monkeypatch.setitem(celery_app.conf, "broker_url", url)
    monkeypatch.setitem(celery_app.conf, "broker_transport", None)
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {})
    started = timezone.now()
    ready, body = health.readiness()
    assert not ready
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert "Connection refused" in body["checks"]["broker"]["detail"]
    # The worker cannot be asked through a dead broker: no second wait for it.
    assert body["checks"]["worker"] == {
        "ok": False,
        "detail": "not asked: the broker is unreachable",
        "seconds": 0.0,
    }
    assert (timezone.now() - started).total_seconds() < 5
