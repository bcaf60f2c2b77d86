"""The core pipeline on real processes: PostgreSQL, Redis, worker and beat.

The same suite runs again on RabbitMQ (marker ``rabbitmq``, the third pass
of ``bin/test``).

Each test starts a ``celery worker`` and a ``celery beat`` (the
DatabaseScheduler, reading the test database) with the "Scan inbox" task
every second or two, drops files into the inbox the way a user does, and
polls the database, the folders and the file mailbox until the outcome
shows or a generous deadline passes.
"""

import datetime
import itertools
import json
import re
import threading
import time
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from django_celery_results.models import TaskResult

from catalogue.models import Author, Book
from ingest.models import InboxFile
from tests.e2e.harness import form_fields, scan_schedule_set, wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.e2e,
    pytest.mark.rabbitmq,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

State = InboxFile.State
BOOKS = Path(__file__).resolve().parents[2] / "catalogue" / "data" / "books.csv"
SCAN_TASK = "ingest.tasks.scan_inbox"
IMPORT_TASK = "ingest.tasks.import_file"
#: Seconds any single outcome may take on a busy two-core machine.
DEADLINE = 90

#: Ten good rows and one without a title: rejected, yet under the default
#: INGEST_MAX_REJECT_RATE (10 %), so the good rows are imported.
CLASSICS = (
    "title,author,year\n"
    "Тіні забутих предків,Михайло Коцюбинський,1911\n"
    "Intermezzo,Михайло Коцюбинський,1908\n"
    ",Anonymous,2000\n"
    "Кайдашева сім'я,Іван Нечуй-Левицький,1879\n"
    + "".join(f"Новела {i},Василь Стефаник,{1897 + i}\n" for i in range(7))
)
MODERN = (
    "title,author,year\n"
    "Місто,Валер'ян Підмогильний,1928\n"
    "Сад Гетсиманський,Іван Багряний,1950\n"
)


def drop(inbox: Path, name: str, data: bytes) -> Path:
    """Put a file into the inbox as a user's copy does: hidden, then renamed."""
    partial = inbox / f".{name}.copying"
    partial.write_bytes(data)
    return partial.rename(inbox / name)


def finished(*names: str) -> list[InboxFile] | None:
    """Return the ledger rows of *names* once all are final and notified."""
    rows = list(InboxFile.objects.filter(name__in=names).order_by("name"))
    if len(rows) == len(names) and all(
        row.is_final and row.notify_state == InboxFile.Notify.SENT for row in rows
    ):
        return rows
    return None


def inbox_leftovers(inbox: Path) -> list[str]:
    """Return what is still in the inbox or its processing folder."""
    return sorted(
        str(path.relative_to(inbox)) for path in inbox.rglob("*") if path.is_file()
    )


def scan_results() -> int:
    return TaskResult.objects.filter(task_name=SCAN_TASK).count()


def test_dropped_files_are_imported_archived_and_emailed_once(
    services, ingest_dirs, mailbox, admin_user
):
    """Three files dropped together end up in the catalogue, archived, each
    with its ledger entry, task result and one email; the same content again
    under another name is a duplicate that imports nothing but is emailed."""
    inbox, archive = ingest_dirs["INGEST_INBOX_DIR"], ingest_dirs["INGEST_ARCHIVE_DIR"]
    scan_schedule_set(every=1)
    services.worker()
    services.beat()
    web = services.web()
    contents = {
        "books.csv": BOOKS.read_bytes(),
        "books-classics.csv": CLASSICS.encode(),
        "books-modern.csv": MODERN.encode(),
    }
    for name, data in contents.items():
        drop(inbox, name, data)

    rows = wait_until(
        lambda: finished(*contents),
        DEADLINE,
        message="three files imported and emailed",
        services=services,
    )

    assert set(Book.objects.values_list("title", "author__name", "published_year")) == {
        ("Кобзар", "Тарас Шевченко", 1840),
        ("Лісова пісня", "Леся Українка", 1911),
        ("Захар Беркут", "Іван Франко", 1883),
        ("Тіні забутих предків", "Михайло Коцюбинський", 1911),
        ("Intermezzo", "Михайло Коцюбинський", 1908),
        ("Кайдашева сім'я", "Іван Нечуй-Левицький", 1879),
        *((f"Новела {i}", "Василь Стефаник", 1897 + i) for i in range(7)),
        ("Місто", "Валер'ян Підмогильний", 1928),
        ("Сад Гетсиманський", "Іван Багряний", 1950),
    }
    assert Author.objects.count() == 8
    expected = {  # name: (total, imported, updated, rejected)
        "books.csv": (3, 3, 0, 0),
        "books-classics.csv": (11, 10, 0, 1),
        "books-modern.csv": (2, 2, 0, 0),
    }
    for row in rows:
        total, imported, updated, rejected = expected[row.name]
        assert row.state == State.DONE, row.error
        assert (
            row.rows_total,
            row.rows_imported,
            row.rows_updated,
            row.rows_rejected,
        ) == expected[row.name]
        assert row.attempts == 1
        assert row.started_at <= row.finished_at

        result = TaskResult.objects.get(task_id=row.task_id)
        assert (result.status, result.task_name) == ("SUCCESS", IMPORT_TASK)
        summary = json.loads(result.result)
        keys = ("status", "file", "imported", "updated", "rejected", "total")
        assert [summary[key] for key in keys] == [
            "done",
            row.name,
            imported,
            updated,
            rejected,
            total,
        ]
        assert isinstance(summary["seconds"], float) and summary["seconds"] >= 0

        stored = Path(row.stored_path)
        day = timezone.localtime(row.finished_at).strftime("%Y/%m/%d")
        assert stored == archive / day / f"{row.pk}-{row.name}"
        assert re.fullmatch(r"\d{4}/\d{2}/\d{2}", day)
        assert stored.read_bytes() == contents[row.name]
    assert inbox_leftovers(inbox) == []

    for name in contents:
        messages = mailbox.about(name)
        assert len(messages) == 1, [mailbox.subject(m) for m in messages]
        assert messages[0]["To"] == "ops@example.com"
    (books_mail,) = mailbox.about("books.csv")
    assert mailbox.subject(books_mail).startswith(
        "Import finished: books.csv — 3 imported, 0 updated, 0 rejected rows, "
    )
    assert mailbox.subject(books_mail).endswith(" s")
    assert "1 rejected" in mailbox.subject(mailbox.about("books-classics.csv")[0])

    # Staff see the ledger in the admin of the running web server.
    staff = web.session()
    staff.login(admin_user.username, "password")  # pytest-django's admin_user.
    status, _, page = staff.get("/admin/ingest/inboxfile/")
    assert status == 200
    for row in rows:
        assert row.name in page
    status, _, page = staff.get(f"/admin/ingest/inboxfile/{rows[0].pk}/change/")
    assert status == 200 and rows[0].task_id in page

    # The same content again, under another name.
    drop(inbox, "books-again.csv", BOOKS.read_bytes())
    (twin,) = wait_until(
        lambda: finished("books-again.csv"),
        DEADLINE,
        message="the copy recognised and emailed",
        services=services,
    )
    assert twin.state == State.DUPLICATE
    assert twin.duplicate_of == next(r for r in rows if r.name == "books.csv")
    assert (twin.rows_imported, twin.rows_updated) == (0, 0)
    assert Book.objects.count() == 15 and Author.objects.count() == 8
    assert Path(twin.stored_path).read_bytes() == contents["books.csv"]
    assert inbox_leftovers(inbox) == []
    (twin_mail,) = mailbox.about("books-again.csv")
    assert mailbox.subject(twin_mail).startswith("Import skipped: books-again.csv")
    assert len(mailbox.messages()) == 4
    summary = json.loads(TaskResult.objects.get(task_id=twin.task_id).result)
    assert summary["status"] == "duplicate"


def test_a_file_written_slowly_is_taken_only_once_complete(services, ingest_dirs):
    """A file still growing is seen but left alone until it has been quiet
    for INGEST_MIN_FILE_AGE, then imported whole, exactly once."""
    inbox = ingest_dirs["INGEST_INBOX_DIR"]
    scan_schedule_set(every=1)
    services.worker(INGEST_MIN_FILE_AGE="2")
    services.beat()
    path = inbox / "books-slow.csv"
    problems: list[str] = []
    written: list[int] = []  # Rows appended so far.
    seen = threading.Event()  # The scanner has registered the growing file.

    def write_slowly() -> None:
        path.write_text("title,author,year\n", encoding="utf-8")
        # At least ten appends 0.6 s apart (well under the 2 s minimum age),
        # and on until the scans have seen the file, for a busy machine.
        for chunk in range(60):
            if chunk >= 10 and seen.is_set():
                return
            time.sleep(0.6)
            if not path.exists():
                problems.append("the file was taken while it was being written")
                return
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(
                    "".join(
                        f"Повільна книга {chunk}-{i},Автор {chunk},{1900 + i}\n"
                        for i in range(25)
                    )
                )
            written.append(25)

    writer = threading.Thread(target=write_slowly)
    writer.start()
    states_while_writing = set()
    while writer.is_alive():
        states = set(
            InboxFile.objects.filter(name=path.name).values_list("state", flat=True)
        )
        states_while_writing |= states
        if State.DISCOVERED in states:
            seen.set()
        time.sleep(0.1)
    writer.join()

    assert problems == []
    # Seen (registered as discovered) while growing, but never taken.
    assert states_while_writing == {State.DISCOVERED}
    (row,) = wait_until(
        lambda: finished(path.name),
        DEADLINE,
        message="the slow file imported",
        services=services,
    )
    rows = sum(written)
    assert rows >= 250
    assert row.state == State.DONE, row.error
    assert (row.rows_total, row.rows_imported, row.rows_rejected) == (rows, rows, 0)
    assert Book.objects.count() == rows
    assert InboxFile.objects.filter(name=path.name).count() == 1
    imports = TaskResult.objects.filter(task_name=IMPORT_TASK)
    assert [json.loads(r.result)["status"] for r in imports] == ["done"]
    assert Path(row.stored_path).read_text(encoding="utf-8").count("\n") == rows + 1


def beat_sends(beat) -> list[datetime.datetime]:
    """Return when beat sent "Scan inbox", from its log."""
    return [
        datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
        for stamp in re.findall(
            r"^\[([\d-]+ [\d:,]+): INFO/MainProcess\] Scheduler: Sending due task "
            r"Scan inbox",
            beat.log(),
            flags=re.MULTILINE,
        )
    ]


def admin_change_schedule(client: Client, task: PeriodicTask, **changes) -> None:
    """Submit the PeriodicTask admin change form with *changes* applied.

    ``None`` removes a field, as an unticked checkbox does.
    """
    url = f"/admin/django_celery_beat/periodictask/{task.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    data = form_fields(page.content.decode(), form_id="periodictask_form")
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    data["_save"] = "Save"
    response = client.post(url, data)
    errors = getattr(response, "context", None) and response.context.get("errors")
    assert response.status_code == 302, errors or response.content[:2000]


def test_schedule_changes_in_the_admin_reach_the_running_beat(
    services, ingest_dirs, admin_user
):
    """Disabling "Scan inbox" in the admin stops the scans of the running beat;
    enabling it with a longer interval resumes them at that interval."""
    inbox = ingest_dirs["INGEST_INBOX_DIR"]
    task = scan_schedule_set(every=1)
    services.worker()
    beat = services.beat()
    client = Client()  # pytest-django's admin_user has the password "password".
    assert client.login(username=admin_user.username, password="password")

    drop(inbox, "books.csv", BOOKS.read_bytes())
    wait_until(
        lambda: finished("books.csv"),
        DEADLINE,
        message="baseline import",
        services=services,
    )

    changed = beat.log_count("DatabaseScheduler: Schedule changed.")
    admin_change_schedule(client, task, enabled=None)
    assert not PeriodicTask.objects.get(pk=task.pk).enabled
    wait_until(
        lambda: beat.log_count("DatabaseScheduler: Schedule changed.") > changed,
        DEADLINE,
        message="beat to notice the disabled schedule",
        services=services,
    )
    # Let the scans sent before the change finish.
    wait_until(
        lambda: (
            scan_results() == len(beat_sends(beat))
            and not TaskResult.objects.filter(
                task_name=SCAN_TASK, status__in=["PENDING", "STARTED"]
            ).exists()
        ),
        DEADLINE,
        message="the scans sent before the change to finish",
        services=services,
    )
    sends, scans = len(beat_sends(beat)), scan_results()

    drop(inbox, "books-later.csv", BOOKS.read_bytes().replace(b"1840", b"1841"))
    # Several old intervals plus the file's minimum age: nothing may happen.
    quiet_until = time.monotonic() + 6
    while time.monotonic() < quiet_until:
        services.check_alive()
        time.sleep(0.5)
    assert len(beat_sends(beat)) == sends
    assert scan_results() == scans
    assert not InboxFile.objects.filter(name="books-later.csv").exists()
    assert (inbox / "books-later.csv").exists()

    every_two, _ = IntervalSchedule.objects.get_or_create(
        every=2, period=IntervalSchedule.SECONDS
    )
    changed = beat.log_count("DatabaseScheduler: Schedule changed.")
    admin_change_schedule(client, task, enabled="on", interval=str(every_two.pk))
    task.refresh_from_db()
    assert task.enabled and task.interval == every_two

    (later,) = wait_until(
        lambda: finished("books-later.csv"),
        DEADLINE,
        message="scans to resume and import the waiting file",
        services=services,
    )
    assert (later.state, later.rows_imported, later.rows_updated) == (State.DONE, 0, 3)
    assert Book.objects.get(title="Кобзар").published_year == 1841
    assert beat.log_count("DatabaseScheduler: Schedule changed.") > changed
    wait_until(
        lambda: len(beat_sends(beat)) >= sends + 3,
        DEADLINE,
        message="three scans at the new interval",
        services=services,
    )
    resumed = beat_sends(beat)[sends:]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(resumed)]
    assert gaps and min(gaps) >= 1.8, gaps  # Every 2 s now, no longer every 1 s.


def test_import_progress_is_visible_while_the_import_runs(services, ingest_dirs):
    """A long import reports PROGRESS with current/total/percent, readable by
    another connection while the ledger still says importing (trap (a))."""
    inbox = ingest_dirs["INGEST_INBOX_DIR"]
    scan_schedule_set(every=1)
    services.worker(INGEST_PROGRESS_INTERVAL="0.1")
    services.beat()
    rows = 100_000
    data = "title,author,year\n" + "".join(
        f"Книга {i},Автор {i % 997},{1800 + i % 200}\n" for i in range(rows)
    )
    drop(inbox, "books-big.csv", data.encode())

    # This process is "another connection": it sees only committed progress.
    seen: list[dict] = []
    books_meanwhile: list[int] = []

    def progress_seen() -> bool:
        row = InboxFile.objects.filter(name="books-big.csv").first()
        if row is None or row.state in InboxFile.FINAL_STATES:
            return row is not None  # Finished: stop looking.
        if row.state != State.IMPORTING or not row.task_id:
            return False
        result = TaskResult.objects.filter(task_id=row.task_id, status="PROGRESS")
        if result := result.first():
            seen.append(json.loads(result.result))
            books_meanwhile.append(Book.objects.count())
        return False

    wait_until(progress_seen, DEADLINE, 0.02, message="the import", services=services)

    assert seen, "no PROGRESS state was visible during the import"
    meta = seen[0]
    assert {"current", "total", "percent"} <= set(meta)
    # Progress counts bytes (no second pass to count lines), or rows.
    assert meta["total"] in (len(data.encode()), rows)
    assert 0 < meta["current"] <= meta["total"]
    assert 0 < meta["percent"] <= 100
    percents = [m["percent"] for m in seen]
    assert percents == sorted(percents)
    # Progress showed while none of the file's rows was committed yet.
    assert any(
        m["percent"] < 100 and books == 0
        for m, books in zip(seen, books_meanwhile, strict=True)
    )
    (row,) = wait_until(lambda: finished("books-big.csv"), DEADLINE, services=services)
    assert (row.state, row.rows_imported) == (State.DONE, rows)
    assert TaskResult.objects.get(task_id=row.task_id).status == "SUCCESS"
