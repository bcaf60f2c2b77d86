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


def _server_missing(problem: str) -> None:
    """Skip a test whose server cannot run here; fail it under CI."""
    if IS_CI:
        pytest.fail(f"CI is set and a server is missing: {problem}")
    pytest.skip(problem)


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """A real S3 server (SeaweedFS) for the session, on free ports."""
    from tests.remote_servers import SeaweedFS, seaweedfs_problem

    if problem := seaweedfs_problem():
        _server_missing(problem)
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    """A real SFTP server (OpenSSH's sshd) for the session, on a free port."""
    from tests.remote_servers import SshServer, sshd_problem

    if problem := sshd_problem():
        _server_missing(problem)
    server = SshServer(tmp_path_factory.mktemp("sshd")).start()
    yield server
    server.stop()


@pytest.fixture
def s3_folder(seaweedfs):
    """An inbox prefix in a new bucket."""
    from tests.remote_servers import S3Folder

    return S3Folder(seaweedfs)


@pytest.fixture
def sftp_folder(sshd):
    """A new inbox folder on the SFTP server."""
    from tests.remote_servers import SftpFolder

    return SftpFolder(sshd)


@pytest.fixture(params=["s3", "sftp"])
def remote_folder(request):
    """A new remote inbox folder, once on S3 and once on SFTP."""
    return request.getfixturevalue(f"{request.param}_folder")
