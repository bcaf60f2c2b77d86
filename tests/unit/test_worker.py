"""A worker keeps its database connections from one task to the next."""

import pytest
from celery import states
from django.conf import settings
from django.db import connection

from ingest import worker
from myproject.celery import app

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_the_project_keeps_connections_across_tasks():
    """Celery's fixup would otherwise close them before and after each task."""
    from celery.fixups.django import DjangoWorkerFixup

    assert settings.CELERY_DB_REUSE_MAX >= 100
    assert DjangoWorkerFixup(app).db_reuse_max == settings.CELERY_DB_REUSE_MAX


class FakeConnection:
    """Just the state the check reads, and whether it was closed."""

    def __init__(self, **state):
        self.connection = object()
        self.errors_occurred = False
        self.in_atomic_block = False
        self.needs_rollback = False
        self.autocommit = True
        self.__dict__.update(state)
        self.closed = False

    def get_autocommit(self):
        return self.autocommit

    def close(self):
        self.closed = True
        self.connection = None


@pytest.mark.parametrize(
    ("state", "connection_state", "closed"),
    [
        (states.SUCCESS, {}, False),
        (states.FAILURE, {}, True),
        (states.RETRY, {}, True),
        (states.SUCCESS, {"errors_occurred": True}, True),
        (states.SUCCESS, {"in_atomic_block": True}, True),
        (states.SUCCESS, {"needs_rollback": True}, True),
        (states.SUCCESS, {"autocommit": False}, True),
    ],
)
def test_a_connection_is_kept_only_after_a_clean_success(
    monkeypatch, state, connection_state, closed
):
    fake = FakeConnection(**connection_state)
    monkeypatch.setattr(
        worker,
        "connections",
        type("Handler", (), {"all": staticmethod(lambda initialized_only: [fake])}),
    )
    worker.connections_check(state=state)
    assert fake.closed is closed


@pytest.mark.postgres
def test_a_real_connection_survives_a_success_and_not_a_failure():
    connection.ensure_connection()
    raw = connection.connection
    worker.connections_check(state=states.SUCCESS)
    assert connection.connection is raw
    worker.connections_check(state=states.FAILURE)
    assert connection.connection is None
