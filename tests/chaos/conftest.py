"""Chaos suite plumbing: private servers, the results table, shared settings.

Each scenario records what its audit found through ``chaos_record``; the
table (scenario, files, lost, duplicated, seconds) is printed at the end of
the run and its latest figures go in the README's "Reliability" section.
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import connection

from tests.chaos.audit import Audit
from tests.chaos.instances import (
    PrivatePostgres,
    PrivateRabbitMQ,
    PrivateRedis,
    ServiceUnavailable,
    unavailable,
)
from tests.chaos.processes import Fleet
from tests.e2e.harness import process_env, redis_flush

_FLEET = pytest.StashKey[Fleet]()

#: Seconds a QUEUED file waits before its doorbell is rung again in chaos runs.
REDISPATCH_AFTER = 5


@dataclass(frozen=True)
class ChaosResult:
    scenario: str
    files: int
    lost: int
    duplicated: int
    seconds: float
    problems: tuple[str, ...]


_RESULTS: list[ChaosResult] = []


@pytest.fixture
def chaos_record(request) -> Callable[[Audit], Audit]:
    """Return a function that files one scenario's audit in the results table."""
    started = time.monotonic()

    def record(audit: Audit, *, scenario: str | None = None) -> Audit:
        _RESULTS.append(
            ChaosResult(
                scenario=scenario or request.node.name.removeprefix("test_"),
                files=audit.files,
                lost=audit.lost,
                duplicated=audit.duplicated,
                seconds=time.monotonic() - started,
                problems=tuple(audit.problems),
            )
        )
        return audit

    return record


def chaos_table(results: list[ChaosResult]) -> list[str]:
    """Return the results as the lines of a Markdown table."""
    lines = [
        "| scenario | files | lost | duplicated | seconds |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.scenario} | {r.files} | {r.lost} | {r.duplicated} | {r.seconds:.1f} |"
        for r in sorted(results, key=lambda r: r.scenario)
    ]
    return lines


def pytest_terminal_summary(terminalreporter) -> None:
    if not _RESULTS:
        return
    terminalreporter.section("chaos suite: files lost or duplicated")
    for line in chaos_table(_RESULTS):
        terminalreporter.write_line(line)
    for result in _RESULTS:
        for problem in result.problems:
            terminalreporter.write_line(f"{result.scenario}: {problem}")


@pytest.fixture
def chaos_settings(settings):
    """Make the repair loop fast enough to observe within a test."""
    settings.INGEST_REDISPATCH_AFTER = REDISPATCH_AFTER
    return settings


def _private(server_class) -> Iterator:
    """Start a private server, yield it, always destroy it."""
    try:
        server = server_class()
    except ServiceUnavailable as exc:
        unavailable(str(exc))
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """Start a PostgreSQL of our own, which the scenario may stop and start."""
    yield from _private(PrivatePostgres)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """Start a Redis of our own, which the scenario may restart (losing all)."""
    yield from _private(PrivateRedis)


@pytest.fixture
def private_rabbitmq() -> Iterator[PrivateRabbitMQ]:
    """Start a RabbitMQ node of our own, which the scenario may restart."""
    yield from _private(PrivateRabbitMQ)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the processes' logs to a failed scenario: they are the witnesses."""
    report = yield
    fleet = item.stash.get(_FLEET, None)
    if fleet is not None and report.failed:
        for title, text in fleet.logs():
            report.sections.append((f"log of {title}", text))
    return report


@pytest.fixture
def fleet(
    request, transactional_db, ingest_dirs, chaos_settings, tmp_path
) -> Iterator[Fleet]:
    """Start worker/beat processes for a scenario; stop them all at teardown.

    They share the test database (or, by override, a private server), the
    test's folders, a file mailbox, and the chaos settings.
    """
    for folder in ("var", "mail"):
        (tmp_path / folder).mkdir()
    env = process_env(
        database=connection.settings_dict,
        broker_url=settings.CELERY_BROKER_URL,
        folders=ingest_dirs,
        var_dir=tmp_path / "var",
        mail_dir=tmp_path / "mail",
        INGEST_MIN_FILE_AGE=str(chaos_settings.INGEST_MIN_FILE_AGE),
        INGEST_REDISPATCH_AFTER=str(chaos_settings.INGEST_REDISPATCH_AFTER),
        INGEST_PROGRESS_INTERVAL="0.2",
    )
    processes = Fleet(env, tmp_path / "logs")
    request.node.stash[_FLEET] = processes
    try:
        yield processes
    finally:
        processes.stop_all()


@pytest.fixture
def broker_flush(settings) -> None:
    """Empty this run's broker database: earlier runs may have left messages."""
    redis_flush(settings.CELERY_BROKER_URL)
