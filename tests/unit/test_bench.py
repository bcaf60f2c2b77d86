"""``ingest_bench`` measures a real import, reports one JSON line, cleans up.

The command runs as a real process (it starts its own import child), on
the test database under PostgreSQL, on a migrated SQLite file otherwise
(the SQLite test database lives in this process's memory). Its processes
inherit this one's settings module (``tests.settings``, with the test-only
app) and get the test-only datasets through ``INGEST_IMPORTERS``, as a
deployment would set it.
"""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from ingest.models import InboxFile
from tests.testapp.journal_importers import JournalsImporter
from tests.testapp.models import Journal, Publisher
from tests.unit.conftest import TEST_IMPORTERS

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

MANAGE = Path(settings.BASE_DIR) / "manage.py"
REQUIRED = {
    "rows",
    "seconds",
    "rows_per_s",
    "floor_seconds",
    "ratio_to_floor",
    "peak_rss_mb",
    "database",
    "reimport_rows_unchanged",
    "importer",
}


@pytest.fixture
def bench_env(tmp_path):
    """Return the environment that points the command at a test database."""
    env = {
        **os.environ,
        "INGEST_VAR_DIR": str(tmp_path / "var"),
        "INGEST_IMPORTERS": ",".join(TEST_IMPORTERS),
        "INGEST_BENCH_IMPORTER": "journals",
    }
    if connection.vendor == "postgresql":
        from ingest.bench.processes import database_url

        env["DATABASE_URL"] = database_url()
        env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
        env.pop("CELERY_BROKER_URL", None)
        run(env, "migrate", "--verbosity", "0")
    return env


def run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(MANAGE), *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def datasets(env: dict) -> tuple[int, int, int]:
    """Return (journals, publishers, ledger entries) of the command's database."""
    models = (Journal, Publisher, InboxFile)
    if connection.vendor == "postgresql":
        return tuple(model.objects.count() for model in models)
    path = env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return tuple(
            db.execute(f"SELECT COUNT(*) FROM {m._meta.db_table}").fetchone()[0]
            for m in models
        )


def sqlite_run(env: dict, *statements: str) -> None:
    with sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///")) as db:
        for statement in statements:
            db.execute(statement)


def test_the_bench_prints_one_json_line_with_the_numbers_and_cleans_up(bench_env):
    result = run(bench_env, "ingest_bench", "--rows", "2000", "--seed", "7")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert REQUIRED <= set(report)
    assert report["rows"] == 2000
    assert report["database"] == connection.vendor
    assert report["status"] == "done"
    assert report["imported"] + report["duplicates_in_file"] == 2000
    assert report["importer"] == "journals"
    assert report["imported"] == report["rows_in_table"] > 1900
    assert report["reimport_rows_unchanged"] is True
    assert report["reimport_imported"] == 0
    assert report["reimport_updated"] == report["imported"]
    assert report["seconds"] > 0 and report["floor_seconds"] > 0
    assert report["ratio_to_floor"] > 0
    assert 10 < report["peak_rss_mb"] < 1000
    assert datasets(bench_env) == (0, 0, 0)


@pytest.mark.parametrize("form", ["csv.gz", "csv.xz"])
def test_the_bench_imports_the_same_rows_compressed(bench_env, form):
    result = run(bench_env, "ingest_bench", "--rows", "1000", "--format", form)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert (report["format"], report["status"]) == (form, "done")
    assert report["imported"] + report["duplicates_in_file"] == 1000
    assert report["reimport_rows_unchanged"] is True
    assert report["file_mb"] <= report["csv_mb"]
    assert datasets(bench_env) == (0, 0, 0)


def test_the_bench_refuses_a_dataset_that_holds_data(bench_env):
    if connection.vendor == "postgresql":
        Journal.objects.create(issn="0028-0836", title="Somebody's real data")
    else:
        sqlite_run(
            bench_env,
            "INSERT INTO testapp_journal (issn, title) VALUES ('0028-0836', 'Real')",
        )
    result = run(bench_env, "ingest_bench", "--rows", "100")
    assert result.returncode != 0
    assert "not empty" in result.stderr and "--force" in result.stderr
    assert datasets(bench_env) == (1, 0, 0)


def test_forced_on_a_dataset_with_data_it_removes_only_its_own_rows(bench_env):
    if connection.vendor == "postgresql":
        Journal.objects.create(issn="0028-0836", title="Kept", year=1869)
    else:
        sqlite_run(
            bench_env,
            "INSERT INTO testapp_journal (issn, title, year)"
            " VALUES ('0028-0836', 'Kept', 1869)",
        )
    result = run(
        bench_env, "ingest_bench", "--rows", "500", "--force", "--floor-runs", "1"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["reimport_rows_unchanged"] is True
    assert report["imported"] == 500
    assert datasets(bench_env) == (1, 0, 0)


@pytest.mark.e2e
def test_small_files_mode_runs_a_real_worker_and_beat_and_reports_files_per_second(
    bench_env,
):
    result = run(bench_env, "ingest_bench", "--small-files", "5")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["mode"] == "small_files" and report["files"] == 5
    assert report["email"] is True and report["emails_sent"] == 5  # As deployed.
    assert report["watcher"] is True
    assert report["all_notified_s"] is not None
    assert report["done"] == 5 and report["states"] == {"done": 5}
    assert report["files_per_s"] > 0 and report["worker_concurrency"] == 2
    if connection.vendor == "postgresql":
        assert report["prefetch_multiplier"] == 1
        assert report["broker_polling_interval_s"] is None
    else:
        assert report["prefetch_multiplier"] == 4
        assert report["broker_polling_interval_s"] == 0.1
    assert report["db_reuse_max"] == 1000
    assert datasets(bench_env) == (0, 0, 0)
    if connection.vendor == "postgresql":
        from django_celery_beat.models import PeriodicTask

        assert not PeriodicTask.objects.filter(name__startswith="ingest_bench").exists()


@pytest.mark.e2e
def test_small_files_mode_without_recipients_or_watcher_reports_that(bench_env):
    """--no-email: nobody to tell, each skip recorded; --no-watch: scans alone."""
    result = run(
        bench_env, "ingest_bench", "--small-files", "3", "--no-email", "--no-watch"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["email"], report["watcher"]) == (False, False)
    assert (report["emails_sent"], report["emails_skipped"]) == (0, 3)
    assert report["states"] == {"done": 3}
    assert datasets(bench_env) == (0, 0, 0)


@pytest.mark.e2e
def test_latency_mode_times_each_file_from_its_drop_to_done_through_the_watcher(
    bench_env,
):
    result = run(bench_env, "ingest_bench", "--latency", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["mode"] == "latency" and report["files"] == 3
    assert report["states"] == {"done": 3}
    assert report["watcher"] == "inotify" and report["worker_concurrency"] == 2
    assert 0 < report["min_s"] <= report["p50_s"] <= report["p95_s"]
    assert report["p95_s"] <= report["max_s"] < 10
    # Faster than the scan could be: its minimum file age alone is longer.
    assert report["max_s"] < report["min_file_age_s"] == 5
    assert len(report["load_before"]) == len(report["load_after"]) == 3
    assert datasets(bench_env) == (0, 0, 0)
    if connection.vendor == "postgresql":
        from django_celery_beat.models import PeriodicTask

        assert not PeriodicTask.objects.filter(name__startswith="ingest_bench").exists()


def test_the_latency_and_small_files_modes_exclude_each_other(bench_env):
    result = run(bench_env, "ingest_bench", "--latency", "2", "--small-files", "2")
    assert result.returncode != 0
    assert "not both" in result.stderr


def test_the_bench_measures_any_importer_from_its_declared_columns(bench_env):
    """No dataset is built in: publishers are generated from their columns alone."""
    result = run(
        bench_env,
        "ingest_bench",
        "--importer",
        "publishers",
        "--rows",
        "300",
        "--floor-runs",
        "1",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["importer"], report["status"], report["imported"]) == (
        "publishers",
        "done",
        300,
    )
    assert report["reimport_rows_unchanged"] is True
    assert datasets(bench_env) == (0, 0, 0)


def test_an_unknown_importer_is_refused_naming_the_known_ones(bench_env):
    result = run(bench_env, "ingest_bench", "--importer", "films", "--rows", "10")
    assert result.returncode != 0
    assert "--importer (one of: journals, publishers)" in result.stderr


@pytest.mark.parametrize("rows", [50, 20_000])
def test_generic_sample_rows_are_deterministic_with_distinct_keys_that_fit(rows):
    """A nine-character ISSN still gets a distinct key for every row."""
    importer = JournalsImporter()
    first = list(importer.sample_rows(rows=rows, pool=5, seed=3))
    assert first == list(importer.sample_rows(rows=rows, pool=5, seed=3))
    assert len({row[0] for row in first}) == rows
    assert all(importer.clean(row) for row in first)
    other = {row[0] for row in importer.sample_rows(rows=rows, pool=5, seed=4)}
    assert not other & {row[0] for row in first}, "another seed, other keys"
