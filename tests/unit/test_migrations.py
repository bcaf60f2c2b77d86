"""A database migrated at an earlier release keeps everything, migrated forward.

The earlier release is ``ingest.0003``: scan schedules as PeriodicTask
kwargs, the folder on the ledger, Author and Book inside the ingest app.
"""

import io
import json
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

#: The last migration of the release before inboxes were objects.
BEFORE_INBOXES = [("ingest", "0003_real_world_csv")]


def migrate(targets):
    """Migrate to *targets* and return the apps registry of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def leaf_nodes():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_schedules_and_ledger_of_the_previous_release_become_inboxes(
    settings, tmp_path
):
    people = tmp_path / "people"
    people.mkdir()
    settings.INGEST_INBOX_ENCODINGS = [f"{people}=cp1251"]
    old = migrate(BEFORE_INBOXES)
    PeriodicTask = old.get_model("django_celery_beat", "PeriodicTask")
    IntervalSchedule = old.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = old.get_model("django_celery_beat", "CrontabSchedule")
    InboxFile = old.get_model("ingest", "InboxFile")
    Author = old.get_model("ingest", "Author")
    Book = old.get_model("ingest", "Book")
    PeriodicTask.objects.filter(task="ingest.tasks.scan_inbox").delete()
    every = IntervalSchedule.objects.create(every=45, period="seconds")
    nightly = CrontabSchedule.objects.create(minute="0", hour="3")
    default = PeriodicTask.objects.create(
        name="Scan inbox",
        task="ingest.tasks.scan_inbox",
        interval=every,
        kwargs="{}",
        enabled=False,
    )
    custom = PeriodicTask.objects.create(
        name="Scan people",
        task="ingest.tasks.scan_inbox",
        crontab=nightly,
        kwargs=json.dumps({"inbox": str(people), "importer": "authors"}),
    )
    default_dir = str(Path(settings.INGEST_INBOX_DIR).resolve())
    shevchenko = Author.objects.create(name="Тарас Шевченко", birth_year=1814)
    Book.objects.create(title="Кобзар", author=shevchenko, published_year=1840)
    InboxFile.objects.create(
        name="books.csv", inbox=default_dir, inbox_path="x", state="done"
    )
    InboxFile.objects.create(
        name="people.csv",
        inbox=str(people),
        inbox_path="y",
        importer="authors",
        state="failed",
    )

    new = migrate(leaf_nodes())
    Inbox = new.get_model("ingest", "Inbox")
    NewFile = new.get_model("ingest", "InboxFile")
    NewTask = new.get_model("django_celery_beat", "PeriodicTask")
    first, second = Inbox.objects.order_by("pk")
    assert (first.name, first.folder, first.enabled, first.importer) == (
        "default",
        "",
        False,
        "",
    )
    assert first.periodic_task_id == default.pk
    assert (second.name, second.folder, second.importer, second.encoding) == (
        "Scan people",
        str(people.resolve()),
        "authors",
        "cp1251",
    )
    task = NewTask.objects.get(pk=custom.pk)
    assert (second.periodic_task_id, task.crontab_id, task.enabled) == (
        custom.pk,
        nightly.pk,
        True,
    )
    assert json.loads(task.kwargs) == {"inbox_id": second.pk}
    assert NewTask.objects.get(pk=default.pk).interval_id == every.pk
    files = {f.name: f for f in NewFile.objects.all()}
    assert (files["books.csv"].folder, files["books.csv"].inbox_id) == (
        default_dir,
        first.pk,
    )
    assert (files["people.csv"].inbox_id, files["people.csv"].importer) == (
        second.pk,
        "authors",
    )
    # The catalogue moved apps; its rows and foreign keys stayed put.
    book = new.get_model("catalogue", "Book").objects.get()
    assert (book.title, book.author.name, book.published_year) == (
        "Кобзар",
        "Тарас Шевченко",
        1840,
    )
    assert book.author_id == shevchenko.pk
    assert new.get_model("catalogue", "Author").objects.get().birth_year == 1814
    ContentType = new.get_model("contenttypes", "ContentType")
    assert set(
        ContentType.objects.filter(model__in=["author", "book"]).values_list(
            "app_label", flat=True
        )
    ) == {"catalogue"}


@pytest.mark.django_db(transaction=True)
def test_migrate_creates_no_schedule_and_ingest_setup_creates_each_once(
    settings, monkeypatch
):
    """A fresh ``migrate`` makes no PeriodicTask; ``ingest_setup``, run twice,
    makes the default inbox, its scan and the engine's other schedules once."""
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    from ingest.models import Inbox

    settings.INGEST_SCAN_INTERVAL = 7
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-secret-9")
    call_command("migrate", "ingest", "zero", verbosity=0)
    PeriodicTask.objects.all().delete()
    call_command("migrate", verbosity=0)
    assert list(PeriodicTask.objects.values_list("name", flat=True)) == []
    assert not Inbox.objects.exists()

    call_command("ingest_setup", stdout=io.StringIO())
    call_command("ingest_setup", stdout=io.StringIO())
    assert sorted(PeriodicTask.objects.values_list("name", flat=True)) == [
        "Apply retention",
        "Expire previews",
        "Scan inbox",
    ]
    (inbox,) = Inbox.objects.all()
    task = inbox.periodic_task
    assert (inbox.folder, task.name, task.task) == (
        "",
        "Scan inbox",
        "ingest.tasks.scan_inbox",
    )
    assert (task.interval.every, task.interval.period, task.enabled) == (
        7,
        "seconds",
        True,
    )
    assert json.loads(task.kwargs) == {"inbox_id": inbox.pk}
