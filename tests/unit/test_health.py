"""``/healthz`` and ``/readyz``: liveness without I/O, readiness with reasons."""

import datetime
import json

import pytest
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from ingest import health
from myproject.celery import app as celery_app
from tests.e2e.harness import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def scan_every_10s():
    PeriodicTask.objects.all().delete()
    every, _ = IntervalSchedule.objects.get_or_create(every=10, period="seconds")
    return PeriodicTask.objects.create(
        name="Scan inbox", task=health.SCAN_TASK, interval=every
    )


def ran(task: PeriodicTask, seconds_ago: float) -> None:
    task.last_run_at = timezone.now() - datetime.timedelta(seconds=seconds_ago)
    task.save()


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
    assert "Scan inbox last ran 31 s ago (every 10 s)" in check.detail


def test_a_schedule_that_never_ran_or_none_at_all_fails_the_beat_check(
    scan_every_10s,
):
    assert health.beat_check().detail == "Scan inbox never ran"
    PeriodicTask.objects.filter(pk=scan_every_10s.pk).update(enabled=False)
    assert (health.beat_check().ok, health.beat_check().detail) == (
        False,
        "no enabled scan schedule",
    )


def test_a_crontab_schedule_is_not_judged_by_an_interval(scan_every_10s):
    ran(scan_every_10s, 1)
    crontab = CrontabSchedule.objects.create(minute="0", hour="3")
    PeriodicTask.objects.create(
        name="Nightly drop",
        task=health.SCAN_TASK,
        crontab=crontab,
        kwargs=json.dumps({"inbox": "/srv/nightly"}),
    )
    assert health.beat_check().ok


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
