"""Fixtures shared by every test layer."""

import pytest
from django.conf import settings

from myproject.celery import app as celery_app
from tests.services import IS_CI, broker_problem, database_problem


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Skip (or, under CI, fail) tests whose services are not running.

    Runs last, after ``-m`` has deselected what this pass does not run: the
    embedded pass must not fail for want of PostgreSQL it never uses.
    """
    # Probed once: a probe per test made hundreds of connections, and one slow
    # answer on a loaded machine skipped (under CI: aborted) a healthy run.
    database = database_problem()
    problem = database
    postgres_items = [item for item in items if item.get_closest_marker("postgres")]
    if postgres_items and not problem:
        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
            problem = (
                "needs PostgreSQL: set DATABASE_URL=postgres://… (bin/test does this "
                "in its second pass)"
            )
        else:
            problem = broker_problem()
    for item in items:
        reason = problem if item in postgres_items else database
        if not reason:
            continue
        if IS_CI:
            raise pytest.UsageError(f"CI is set and a service is missing: {reason}")
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def ingest_dirs(tmp_path, settings):
    """Give every test its own inbox, archive, failed and lock folders."""
    folders = {
        "INGEST_INBOX_DIR": tmp_path / "inbox",
        "INGEST_ARCHIVE_DIR": tmp_path / "archive",
        "INGEST_FAILED_DIR": tmp_path / "failed",
        "INGEST_LOCK_DIR": tmp_path / "locks",
    }
    for name, folder in folders.items():
        folder.mkdir()
        setattr(settings, name, str(folder))
    settings.INGEST_MIN_FILE_AGE = 0
    settings.INGEST_NOTIFY_EMAILS = ["ops@example.com"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return folders


@pytest.fixture
def eager():
    """Run published tasks inline, as a worker would, for unit tests."""
    names = ("task_always_eager", "task_eager_propagates", "task_store_eager_result")
    previous = {name: celery_app.conf[name] for name in names}
    celery_app.conf.update(dict.fromkeys(names, True))
    yield
    celery_app.conf.update(previous)


@pytest.fixture
def published(monkeypatch):
    """Record messages instead of sending them: the broker is outside us."""
    calls = []

    def fake_apply_async(task):
        def apply_async(args=(), kwargs=None, task_id=None, **options):
            call = {"task": task.name, "args": tuple(args), "task_id": task_id}
            if kwargs:
                call["kwargs"] = dict(kwargs)
            calls.append(call)

        return apply_async

    from ingest import tasks

    for task in (
        tasks.import_file,
        tasks.notify_file,
        tasks.scan_inbox,
        tasks.preview_file,
    ):
        monkeypatch.setattr(task, "apply_async", fake_apply_async(task))
    return calls
