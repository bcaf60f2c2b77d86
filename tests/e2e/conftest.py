"""Fixtures of the end-to-end suites: real processes on the test database.

A test that starts processes asks for ``services`` (and usually marks itself
``django_db(transaction=True, databases="__all__")`` so that what it writes
is committed where the processes can see it). The processes get the test
database, the configured broker (its Redis database or RabbitMQ queue
emptied first), the test's own inbox/archive/failed/lock folders and a
file mailbox. They are
stopped in teardown, before pytest-django empties the database, and their
logs are attached to the report of a failed test.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.e2e.harness import Mailbox, Services, broker_flush, process_env

_GROUPS = pytest.StashKey[list[Services]]()


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    """Return the folder the processes' file email backend writes to."""
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder


@pytest.fixture
def mailbox(mail_dir: Path) -> Mailbox:
    """Read the emails the processes sent."""
    return Mailbox(mail_dir)


@pytest.fixture
def e2e_env(transactional_db, ingest_dirs, mail_dir, tmp_path) -> dict[str, str]:
    """Return the environment of the processes: test database and folders.

    Edit it before starting a process to change a setting for the test.
    """
    database = connection.settings_dict
    if connection.vendor == "postgresql" and not database["NAME"].startswith("test_"):
        # Never let a worker loose on a real database.
        raise RuntimeError(f"{database['NAME']!r} does not look like a test database.")
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    return process_env(
        database=database,
        broker_url=settings.CELERY_BROKER_URL,
        folders=ingest_dirs,
        var_dir=var_dir,
        mail_dir=mail_dir,
    )


@pytest.fixture
def services_factory(request, tmp_path):
    """Return ``make(env) -> Services``: process groups stopped in teardown.

    For tests that build their own environment (``bin/serve`` on its own
    database); most tests want ``services``.
    """
    groups: list[Services] = []

    def make(env: dict[str, str]) -> Services:
        group = Services(env, tmp_path / "logs")
        groups.append(group)
        request.node.stash.setdefault(_GROUPS, []).append(group)
        return group

    yield make
    for group in groups:
        group.stop_all()


@pytest.fixture
def services(e2e_env, services_factory) -> Services:
    """Start real processes on the test database; stop them all in teardown.

    The broker's Redis database (or RabbitMQ queue) is emptied first, so no
    message of an earlier test reaches this test's worker.
    """
    broker_flush(e2e_env["CELERY_BROKER_URL"])
    return services_factory(e2e_env)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the processes' logs to the report of a failed test."""
    report = yield
    if report.failed:
        for group in item.stash.get(_GROUPS, []):
            for title, text in group.logs():
                report.sections.append((f"log of {title}", text))
    return report
