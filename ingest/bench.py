"""Benchmark the import against the plain-SQL floor, and small files end to end.

``ingest_bench`` is a thin command over this module. A run generates a
deterministic books CSV, loads it once with plain SQL (the floor: the raw
file COPYed into a staging table and the importer's own set-based SQL, no
Python validation, rolled back), imports it through the real services in a
fresh child process (so the peak RSS measured is the import's alone, not the
generator's or the floor's), re-imports a copy under another name and checks
that the book count did not move, and finally removes what it created.
"""

import contextlib
import csv
import itertools
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .importers.books import BooksImporter
from .models import Author, Book, InboxFile

#: Rows per ``executemany`` of the SQLite floor (same as the staging writer).
FLOOR_BATCH = 5000
#: Rows in each file of the small-files mode.
SMALL_FILE_ROWS = 20


class BenchRefused(Exception):
    """The benchmark will not run here; the message says why."""


# --- Data -------------------------------------------------------------------

_WORDS = (
    "the of and a in to is was for on that with as by at from his her an "
    "which or be are this had not but what all were when we there can been "
    "one do will their if would about out many then them these so some time "
    "house night river garden winter summer letters journey secret empire "
    "shadow light silence memory city island storm glass forest mountain "
    "stranger daughter son kingdom queen king war peace history art science "
    "life death love dream ocean fire stone iron golden silver black white "
    "red blue green last first long short little great new old hidden lost"
).split()
_WORDS_INTL = (
    "Кобзар Лісова пісня Тіні забутих предків місто ніч зима сад "
    "café naïve Straße Ærø Łódź Žižek Çelik señor façade über "
    "Ñandú Ørsted Šťastný Ångström crème brûlée"
).split()
_FIRST = (
    "Anna Olena Taras Lesya Ivan Maria John Jane Peter Paul Mary Linda Robert "
    "James Patricia Michael Barbara William Elizabeth David Susan Richard "
    "Jessica Joseph Sarah Thomas Karen Charles Nancy Daniel Lisa Matthew Betty "
    "Анна Олена Тарас Леся Іван Марія Богдан Ольга Юрій Ірина "
    "José Zoë Chloé Søren Jürgen Agnieszka Łukasz Dvořák Renée Björn"
).split()
_LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez "
    "Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson "
    "Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores "
    "Шевченко Українка Франко Коцюбинський Стефаник Костенко Забужко "
    "Андрухович Жадан Сковорода Müller Schröder Łęcki Nøkleby García Ibáñez "
    "O'Brien Dvořáková Åberg Ćosić"
).split()


def author_names(count: int) -> list[str]:
    """Return *count* distinct, realistic author names, always the same ones."""
    names, first, last = [], len(_FIRST), len(_LAST)
    for i in range(count):
        initial = chr(ord("A") + (i // first) % 26)
        name = f"{_FIRST[i % first]} {initial}. {_LAST[(i // (first * 26)) % last]}"
        if i >= first * 26 * last:
            name = f"{name} {i // (first * 26 * last) + 1}"
        names.append(name)
    return names


def books_csv_generate(path: Path, *, rows: int, authors: int, seed: int) -> None:
    """Write a deterministic ``title,author,year`` file of *rows* rows.

    About 1% of the rows repeat a recent title and author with another year,
    so the in-file "last row wins" reduction is part of every run; about 5% of
    the titles carry non-ASCII words, some carry commas or quotes.
    """
    rng = random.Random(seed)
    names = author_names(authors)
    recent: list[tuple[str, str]] = []
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("title", "author", "year"))
        for i in range(rows):
            roll = rng.random()
            if roll < 0.01 and recent:
                title, author = rng.choice(recent)
            else:
                words = rng.choices(_WORDS, k=rng.randint(2, 9))
                if roll > 0.95:
                    words.append(rng.choice(_WORDS_INTL))
                if roll > 0.995:
                    words.insert(1, '"quoted",')
                title = " ".join(words).capitalize()
                author = names[rng.randrange(authors)]
                if i % 100 == 0:
                    recent.append((title, author))
                    del recent[:-1000]
            writer.writerow((title, author, rng.randint(1800, 2025)))


# --- Catalogue --------------------------------------------------------------


def catalogue_counts() -> dict[str, int]:
    return {"books": Book.objects.count(), "authors": Author.objects.count()}


def catalogue_snapshot() -> dict[str, int]:
    """Return the highest ids now, so cleanup can drop only newer rows."""
    with connection.cursor() as cursor:
        marks = {}
        for key, model in (("books", Book), ("authors", Author)):
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")
            marks[key] = cursor.fetchone()[0]
    return marks


def catalogue_guard(*, force: bool) -> dict[str, int]:
    """Refuse a non-empty catalogue unless forced; return the id marks."""
    counts = catalogue_counts()
    if any(counts.values()) and not force:
        raise BenchRefused(
            f"The catalogue is not empty ({counts['books']} books, "
            f"{counts['authors']} authors). Run the benchmark on a database of "
            "its own, or pass --force to add to this one (only rows the "
            "benchmark created are removed afterwards)."
        )
    return catalogue_snapshot()


def catalogue_restore(marks: dict[str, int]) -> None:
    """Remove the catalogue rows created since *marks* was taken.

    On a catalogue that was empty, ``TRUNCATE`` (PostgreSQL) leaves no dead
    rows behind for the next run to wade through.
    """
    books, authors = Book._meta.db_table, Author._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if not any(marks.values()) and connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {books}, {authors}")
            return
        cursor.execute(f"DELETE FROM {books} WHERE id > %s", [marks["books"]])
        cursor.execute(
            f"DELETE FROM {authors} WHERE id > %s AND NOT EXISTS "
            f"(SELECT 1 FROM {books} AS b WHERE b.author_id = {authors}.id)",
            [marks["authors"]],
        )


def ledger_forget(file_ids: list[int]) -> None:
    """Delete the benchmark's ledger entries (row errors cascade)."""
    InboxFile.objects.filter(pk__in=file_ids).delete()


# --- The floor ----------------------------------------------------------------


def floor_load(path: Path) -> dict[str, float]:
    """Return the seconds plain SQL takes to load *path*; leaves no trace.

    PostgreSQL: the raw file through ``COPY … (FORMAT csv, HEADER)`` into a
    staging table, ``ANALYZE``, then the importer's own set-based apply.
    Elsewhere: the stdlib ``csv`` module and ``executemany``, then the same
    apply. The deferred foreign-key checks are included (their share is
    ``constraint_check_seconds``); the load is rolled back, so the real
    import starts from the same catalogue.
    """
    importer, table = BooksImporter(), "ingest_bench_floor"
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.monotonic()
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TEMP TABLE {table} (line BIGINT GENERATED ALWAYS AS "
                "IDENTITY, title TEXT, author TEXT, year INTEGER) ON COMMIT DROP"
            )
            with (
                cursor.cursor.copy(
                    f"COPY {table} (title, author, year) FROM STDIN "
                    "(FORMAT csv, HEADER)"
                ) as copy,
                open(path, "rb") as handle,
            ):
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
            cursor.execute(f"ANALYZE {table}")
        else:
            cursor.execute(
                f"CREATE TEMP TABLE {table} "
                "(line INTEGER, title TEXT, author TEXT, year INTEGER)"
            )
            sql = f"INSERT INTO {table} VALUES (%s, %s, %s, %s)"
            with open(path, encoding="utf-8", newline="") as handle:
                reader = csv.reader(handle)
                next(reader)
                numbered = ((n, *fields) for n, fields in enumerate(reader, 2))
                while batch := list(itertools.islice(numbered, FLOOR_BATCH)):
                    cursor.executemany(sql, batch)
        importer.apply(cursor, table)
        applied = time.monotonic()
        if connection.vendor == "postgresql":
            # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: their
            # checks run at COMMIT, which a rolled-back floor never reaches.
            # Run them now, or the floor would skip work the import must do.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        finished = time.monotonic()
        if connection.vendor != "postgresql":
            cursor.execute(f"DROP TABLE {table}")
        transaction.set_rollback(True)
    return {
        "seconds": finished - started,
        "constraint_check_seconds": finished - applied,
    }


# --- The real import, in a child process ------------------------------------


def _database_url() -> str:
    """Return a URL for the database this process uses (tests rename it)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db.get("USER") or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    host = f"{auth}@" if auth else ""
    host += f"{db.get('HOST') or ''}"
    if db.get("PORT"):
        host += f":{db['PORT']}"
    return f"postgres://{host}/{db['NAME']}"


def _child_env(folders: dict[str, Path], **extra: str) -> dict[str, str]:
    """Return the environment of a child: this database, private folders."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get(
            "DJANGO_SETTINGS_MODULE", "myproject.settings"
        ),
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        # Finished-import emails stay in the child's memory.
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "INGEST_NOTIFY_EMAILS": "",
        "DJANGO_ADMINS": "",
        "PYTHONPATH": os.pathsep.join(
            [str(settings.BASE_DIR), os.environ.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep),
        **{f"INGEST_{name.upper()}_DIR": str(path) for name, path in folders.items()},
        **extra,
    }
    return env


def _folders(root: Path) -> dict[str, Path]:
    folders = {name: root / name for name in ("inbox", "archive", "failed", "lock")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return folders


def import_in_child(paths: list[Path], folders: dict[str, Path]) -> list[dict]:
    """Import *paths* one after the other in a fresh process; return its reports.

    Each report is the service's summary plus ``seconds`` (register + import,
    Python start-up excluded) and the child's peak RSS right after it.
    """
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, *map(str, paths)],
        env=_child_env(folders, CELERY_TASK_ALWAYS_EAGER="1"),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = completed.stdout.strip().splitlines()
    if completed.returncode or not lines:
        raise RuntimeError(
            f"The import child failed ({completed.returncode}): "
            f"{completed.stderr.strip()[-2000:]}"
        )
    return json.loads(lines[-1])


#: What the child runs: Django first, since this module imports models.
_CHILD = (
    "import sys, django; django.setup(); "
    "from ingest.bench import child_main; child_main(sys.argv[1:])"
)


def child_main(paths: list[str]) -> None:
    """Run in the child: import each path through the services, print JSON."""
    import psutil

    from ingest import services

    reports = []
    for name in paths:
        rss_before = psutil.Process().memory_info().rss
        started = time.monotonic()
        row = services.file_register_path(path=Path(name))
        summary = services.file_import(file_id=row.pk, task_id=row.task_id)
        seconds = time.monotonic() - started
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        books_after = Book.objects.count()
        reports.append(
            {
                **summary,
                "seconds": seconds,
                "rss_before_mb": round(rss_before / 2**20, 1),
                "peak_rss_mb": round(peak_kb / 1024, 1),
                "books_after": books_after,
            }
        )
    print(json.dumps(reports))


# --- The row benchmark --------------------------------------------------------


def _machine_load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def _floor_clean(path: Path, marks: dict[str, int]) -> dict[str, float]:
    floor = floor_load(path)
    if not any(marks.values()):
        catalogue_restore(marks)  # Drop the dead rows the rollback left.
    return floor


def bench_rows(
    *,
    rows: int,
    authors: int,
    seed: int,
    keep: bool = False,
    force: bool = False,
    floor_runs: int = 2,
) -> dict:
    """Run the row benchmark and return its one-line report.

    The floor runs before the import and, with *floor_runs* = 2, once more
    after it; the faster run is the yardstick.

    Side effects: catalogue rows and two ledger entries, removed again unless
    *keep*; a temporary folder, always removed.
    """
    marks = catalogue_guard(force=force)
    root = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    file_ids: list[int] = []
    try:
        folders = _folders(root)
        path = root / f"books-bench-{rows}-{seed}.csv"
        started = time.monotonic()
        books_csv_generate(path, rows=rows, authors=authors, seed=seed)
        generate_seconds = time.monotonic() - started
        # The re-import: identical rows under another name; a trailing blank
        # line (skipped by the reader) makes the content hash differ, so the
        # ledger sees a new file rather than a duplicate.
        again = root / f"books-bench-{rows}-{seed}-again.csv"
        shutil.copyfile(path, again)
        with open(again, "a", encoding="utf-8") as handle:
            handle.write("\n")
        floors = [_floor_clean(path, marks)]
        load_before = _machine_load()
        first, second = import_in_child([path, again], folders)
        file_ids = [first["file_id"], second["file_id"]]
        if floor_runs > 1 and not keep:
            # Again after the import (on a catalogue emptied again when it
            # was empty): the other processes sharing the machine come and
            # go, and the faster floor is the stricter yardstick.
            ledger_forget(file_ids)
            file_ids = []
            catalogue_restore(marks)
            floors.append(_floor_clean(path, marks))
        floor = min(floors, key=lambda run: run["seconds"])
        floor_seconds = floor["seconds"]
        seconds = first["seconds"]
        report = {
            "rows": rows,
            "authors": authors,
            "seed": seed,
            "database": connection.vendor,
            "file_mb": round(path.stat().st_size / 2**20, 1),
            "seconds": round(seconds, 2),
            "rows_per_s": round(rows / seconds),
            "floor_seconds": round(floor_seconds, 2),
            "floor_constraint_check_seconds": round(
                floor["constraint_check_seconds"], 2
            ),
            "floor_runs_seconds": [round(run["seconds"], 2) for run in floors],
            "ratio_to_floor": round(seconds / floor_seconds, 2),
            "peak_rss_mb": first["peak_rss_mb"],
            "rss_before_import_mb": first["rss_before_mb"],
            "status": first["status"],
            "imported": first["imported"],
            "updated": first["updated"],
            "rejected": first["rejected"],
            "duplicates_in_file": first.get("duplicates_in_file"),
            "reimport_seconds": round(second["seconds"], 2),
            "reimport_imported": second["imported"],
            "reimport_updated": second["updated"],
            "reimport_books_unchanged": (
                second["status"] == "done"
                and second["books_after"] == first["books_after"]
            ),
            "reimport_how": "same rows, another name, one trailing blank line",
            "books": first["books_after"],
            "generate_seconds": round(generate_seconds, 2),
            "load_before": load_before,
            "load_after": _machine_load(),
            "cpus": os.cpu_count(),
            "kept": keep,
        }
        if second["status"] != "done":
            report["reimport_error"] = second.get("error", second["status"])
        return report
    finally:
        if not keep:
            ledger_forget(file_ids)
            catalogue_restore(marks)
        shutil.rmtree(root, ignore_errors=True)


# --- Small files, end to end ------------------------------------------------


@contextlib.contextmanager
def _processes(commands: list[list[str]], env: dict, logs: Path) -> Iterator[None]:
    """Run *commands* in the background; stop them (TERM, then KILL) on exit."""
    running = []
    try:
        for number, command in enumerate(commands):
            log = open(logs / f"process-{number}.log", "wb")
            running.append(
                (
                    subprocess.Popen(
                        command,
                        env=env,
                        cwd=settings.BASE_DIR,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    ),
                    log,
                )
            )
        yield
    finally:
        for process, _log in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process, log in running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            log.close()


def _small_csv(number: int, rng: random.Random, names: list[str]) -> str:
    lines = ["title,author,year"]
    for row in range(SMALL_FILE_ROWS):
        words = " ".join(rng.choices(_WORDS, k=rng.randint(2, 6))).capitalize()
        lines.append(
            f"{words} {number}-{row},{rng.choice(names)},{rng.randint(1800, 2025)}"
        )
    return "\n".join(lines) + "\n"


def _drop_atomically(inbox: Path, name: str, text: str) -> None:
    """Write a file the way careful tools do: a hidden name, then a rename."""
    hidden = inbox / f".{name}.part"
    hidden.write_text(text, encoding="utf-8")
    os.rename(hidden, inbox / name)


def _wait_done(names: list[str], inbox: Path, deadline: float) -> int:
    """Poll the ledger until every file in *names* is final; return how many."""
    final = 0
    while time.monotonic() < deadline:
        final = InboxFile.objects.filter(
            inbox=str(inbox), name__in=names, state__in=InboxFile.FINAL_STATES
        ).count()
        if final == len(names):
            break
        time.sleep(0.05)
    return final


def bench_small_files(
    *,
    files: int,
    seed: int,
    scan_every: float,
    keep: bool = False,
    force: bool = False,
    timeout: float = 600,
) -> dict:
    """Drop *files* small files with a real worker and beat; report files/s.

    Starts ``celery worker --concurrency 2`` and ``celery beat`` itself, on
    this database and broker, with a private inbox that a benchmark-only
    periodic scan visits every *scan_every* seconds (removed afterwards).
    The clock runs from the first drop until the ledger has every file in a
    final state.
    """
    from django_celery_beat.models import IntervalSchedule, PeriodicTask
    from django_celery_results.models import TaskResult

    marks = catalogue_guard(force=force)
    root = Path(tempfile.mkdtemp(prefix="ingest-bench-small-"))
    folders = _folders(root)
    inbox = folders["inbox"].resolve()
    rng = random.Random(seed)
    names_pool = author_names(200)
    task_name = f"ingest_bench scan {root.name}"
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=max(1, round(scan_every)), period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.create(
        name=task_name,
        task="ingest.tasks.scan_inbox",
        interval=interval,
        kwargs=json.dumps({"inbox": str(inbox)}),
        expire_seconds=max(2, round(scan_every * 2)),
    )
    env = _child_env(
        folders,
        INGEST_MIN_FILE_AGE="0",
        INGEST_ALLOWED_ROOTS=str(inbox),
        CELERY_TASK_ALWAYS_EAGER="0",
    )
    celery = [sys.executable, "-m", "celery", "-A", "myproject"]
    commands = [
        [*celery, "worker", "--concurrency", "2", "--loglevel", "WARNING"],
        [*celery, "beat", "--loglevel", "WARNING", "-s", str(root / "beat-schedule")],
    ]
    file_names = [f"books-small-{seed}-{n:05d}.csv" for n in range(files)]
    try:
        with _processes(commands, env, root):
            # Warm up: both worker processes import Django and open their
            # connections before the clock starts.
            warm = [f"books-warmup-{seed}-{n}.csv" for n in range(2)]
            for number, name in enumerate(warm):
                _drop_atomically(inbox, name, _small_csv(-1 - number, rng, names_pool))
            if _wait_done(warm, inbox, time.monotonic() + 120) < len(warm):
                raise RuntimeError(
                    f"The worker and beat did not import a warm-up file in 120 s; "
                    f"see the logs in {root}."
                )
            load_before = _machine_load()
            started_wall = timezone.now()
            started = time.monotonic()
            for number, name in enumerate(file_names):
                _drop_atomically(inbox, name, _small_csv(number, rng, names_pool))
            dropped = time.monotonic() - started
            done = _wait_done(file_names, inbox, started + timeout)
            seconds = time.monotonic() - started
        rows = InboxFile.objects.filter(inbox=str(inbox), name__in=file_names)
        states = dict.fromkeys(InboxFile.State.values, 0)
        for state in rows.values_list("state", flat=True):
            states[state] += 1
        latencies = sorted(
            (row.finished_at - started_wall).total_seconds()
            for row in rows
            if row.finished_at
        )
        imports = sorted(row.duration for row in rows if row.duration is not None)
        registered = sorted(row.discovered_at for row in rows)
        return {
            "mode": "small_files",
            "files": files,
            "rows_per_file": SMALL_FILE_ROWS,
            "database": connection.vendor,
            "broker": settings.CELERY_BROKER_URL.split("://")[0],
            "worker_concurrency": 2,
            "scan_every_s": scan_every,
            "seconds": round(seconds, 2),
            "files_per_s": round(done / seconds, 1),
            "drop_seconds": round(dropped, 2),
            "done": states[InboxFile.State.DONE],
            "states": {k: v for k, v in states.items() if v},
            "last_finished_s": round(latencies[-1], 2) if latencies else None,
            # Where the time goes: one import's own wall time (claim to
            # done, in the service) and how long the scans took to register
            # every file.
            "import_median_s": round(imports[len(imports) // 2], 3)
            if imports
            else None,
            "register_span_s": round(
                (registered[-1] - registered[0]).total_seconds(), 2
            )
            if registered
            else None,
            "load_before": load_before,
            "load_after": _machine_load(),
            "cpus": os.cpu_count(),
            "kept": keep,
        }
    finally:
        PeriodicTask.objects.filter(name=task_name).delete()
        if not keep:
            bench_rows_q = InboxFile.objects.filter(inbox=str(inbox))
            task_ids = list(bench_rows_q.values_list("task_id", flat=True))
            TaskResult.objects.filter(task_id__in=task_ids).delete()
            bench_rows_q.delete()
            catalogue_restore(marks)
        shutil.rmtree(root, ignore_errors=True)
