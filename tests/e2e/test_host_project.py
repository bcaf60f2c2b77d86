"""A team's own Django project installs the engine with pip and imports its model.

Nothing of this checkout is on that project's path: a fresh project made
by ``django-admin startproject`` in a temporary folder, the engine pip
installed from this checkout into a virtualenv, the settings, URLs, Celery
app, model and importer taken from the README's "Add to an existing Django
project" blocks, then its own ``migrate``, ``ingest_setup``, ``celery
worker`` and ``celery beat`` on a database of its own.

The virtualenv is cached between runs (``INGEST_HOST_VENV``, default
``~/.cache/inbox-ingest/host-venv``); the engine in it is rebuilt by pip
from the checkout every run.
"""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.e2e.harness import ROOT, redis_flush, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

VENV = Path(
    os.environ.get(
        "INGEST_HOST_VENV", Path.home() / ".cache" / "inbox-ingest" / "host-venv"
    )
)
SECTION = "## Add to an existing Django project"


def readme_blocks() -> dict[str, str]:
    """Return the README section's code blocks by the file each is for."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks: dict[str, str] = {}
    path, inside, lines = None, False, []
    for line in section.splitlines():
        if inside:
            if line.startswith("```"):
                if path:
                    blocks[path] = "\n".join(lines) + "\n"
                inside, path, lines = False, None, []
            else:
                lines.append(line)
        elif line.startswith("```python"):
            inside = True
        elif match := re.match(r"\*\*`([^`]+)`\*\*", line):
            path = match.group(1)
    return blocks


def run(args: list, cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def venv_python() -> Path:
    """Return the virtualenv's python, with the engine pip-installed from here."""
    python = VENV / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    if not python.exists():
        run([sys.executable, "-m", "venv", VENV], ROOT, env)
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run([*pip, f"{ROOT}[postgres,redis]"], ROOT, env, timeout=900)
    run([*pip, "--no-deps", "--force-reinstall", str(ROOT)], ROOT, env, timeout=900)
    return python


@pytest.fixture
def host_database():
    """Create a database of the project's own; drop it afterwards."""
    db = settings.DATABASES["default"]
    params = {
        "host": db.get("HOST") or "127.0.0.1",
        "port": db.get("PORT") or 5432,
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    name = f"host_project_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(**params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield {**params, "dbname": name}
    with psycopg.connect(**params) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_a_fresh_project_imports_its_own_model_through_worker_and_beat(
    venv_python, host_database, services_factory, tmp_path
):
    blocks = readme_blocks()
    assert {
        "yourproject/settings.py",
        "yourproject/urls.py",
        "yourproject/celery.py",
        "journals/models.py",
        "journals/importers.py",
    } <= set(blocks)
    bin_dir = venv_python.parent
    project = tmp_path / "site"
    project.mkdir()
    # Nothing of the checkout may leak in: no DJANGO_*, no PYTHONPATH.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "INGEST_"))
        and k not in {"PYTHONPATH", "VIRTUAL_ENV"}
    }
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '')}"
    run([bin_dir / "django-admin", "startproject", "yourproject", project], ROOT, env)
    run([venv_python, "manage.py", "startapp", "journals"], project, env)
    for path, code in blocks.items():
        target = project / path
        if path.endswith("settings.py"):
            target.write_text(target.read_text() + "\n" + code)
        else:
            target.write_text(code)
    init = project / "yourproject" / "__init__.py"
    init.write_text(
        "from .celery import app as celery_app\n\n__all__ = ('celery_app',)\n"
    )
    db = host_database
    broker = settings.CELERY_BROKER_URL
    redis_flush(broker)
    # Test plumbing only: this run's database and broker, a quick file age.
    with (project / "yourproject" / "settings.py").open("a") as handle:
        handle.write(
            "\nDATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', "
            f"'NAME': {db['dbname']!r}, 'HOST': {db['host']!r}, "
            f"'PORT': {db['port']!r}, 'USER': {db['user']!r}, "
            f"'PASSWORD': {db['password'] or ''!r}}}}}\n"
            f"CELERY_BROKER_URL = {broker!r}\nINGEST_MIN_FILE_AGE = 1\n"
        )
    where = run(
        [venv_python, "-c", "import ingest, sys; print(ingest.__file__)"], project, env
    )
    assert str(VENV) in where and str(ROOT) not in where, where
    run([venv_python, "manage.py", "check"], project, env)
    run([venv_python, "manage.py", "makemigrations", "journals"], project, env)
    run([venv_python, "manage.py", "migrate"], project, env)
    run([venv_python, "manage.py", "ingest_setup"], project, env)

    group = services_factory(env)
    celery = [str(bin_dir / "celery"), "-A", "yourproject"]
    worker = group.start(
        "host-worker", [*celery, "worker", "--loglevel=INFO", "-c", "2"], cwd=project
    )
    worker.wait_for_log("ready.")
    beat = group.start("host-beat", [*celery, "beat", "--loglevel=INFO"], cwd=project)
    beat.wait_for_log("beat: Starting...")
    inbox = project / "inbox"
    partial = inbox / ".export.csv.part"
    partial.write_text(
        "ISSN,Journal,Year\n0028-0836,Nature,1869\n0036-8075,Science,\n",
        encoding="utf-8",
    )
    partial.rename(inbox / "export.csv")

    def ledger() -> tuple | None:
        with psycopg.connect(**db) as conn:
            row = conn.execute(
                "SELECT state, importer, importer_chosen_by, rows_imported"
                " FROM ingest_inboxfile WHERE name = 'export.csv'"
            ).fetchone()
        return row if row and row[0] in ("done", "failed") else None

    state = wait_until(ledger, 90, 0.5, message="export.csv imported", services=group)
    assert state == ("done", "journals", "header", 2)
    with psycopg.connect(**db) as conn:
        journals = conn.execute(
            "SELECT issn, title, year FROM journals_journal ORDER BY issn"
        ).fetchall()
    assert journals == [("0028-0836", "Nature", 1869), ("0036-8075", "Science", None)]
    archived = list((project / "archive").rglob("*-export.csv"))
    assert len(archived) == 1
