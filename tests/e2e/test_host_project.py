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

import datetime
import decimal
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
#: The README's partner file with an unknown category, an unknown currency
#: and a word that is neither yes nor no after its two rows, then enough
#: good rows that three bad ones stay under INGEST_MAX_REJECT_RATE (10 %).
PRICE_LIST = (
    "Артикул;Назва;Ціна;Валюта;Діє з;В наявності;Категорія\n"
    "BK-001;Кобзар;1 037,01;UAH;25.11.2026;так;Книги\n"
    "BK-002;Енеїда;249,50;USD;01.12.2026;ні;Книги\n"
    "TY-001;Дзиґа;99,00;UAH;01.12.2026;так;Іграшки\n"
    "BK-003;Intermezzo;120,00;XYZ;01.12.2026;так;Книги\n"
    "BK-004;Лісова пісня;80,00;UAH;01.12.2026;можливо;Книги\n"
) + "".join(
    f"MG-{n:03};Журнал {n};1 0{n:02},5;EUR;13.12.2026;ні;Книги\n" for n in range(28)
)


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
    readme = (ROOT / "README.md").read_text(encoding="utf-8").split(SECTION, 1)[1]
    example = readme.split("```text\n", 1)[1].split("```", 1)[0]
    assert PRICE_LIST.startswith(example), "the README's partner file is the test's"
    assert {
        "yourproject/settings.py",
        "yourproject/urls.py",
        "yourproject/celery.py",
        "prices/models.py",
        "prices/importers.py",
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
    run([venv_python, "manage.py", "startapp", "prices"], project, env)
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
    run([venv_python, "manage.py", "makemigrations", "prices"], project, env)
    run([venv_python, "manage.py", "migrate"], project, env)
    run([venv_python, "manage.py", "ingest_setup"], project, env)
    with psycopg.connect(**db) as conn:
        conn.execute("INSERT INTO prices_category (name) VALUES ('Книги')")

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
    # A partner's export: Windows-1251, semicolons, Ukrainian numbers and dates.
    partial.write_bytes(PRICE_LIST.encode("cp1251"))
    partial.rename(inbox / "export.csv")

    def ledger() -> tuple | None:
        with psycopg.connect(**db) as conn:
            row = conn.execute(
                "SELECT state, importer, importer_chosen_by, rows_imported,"
                " rows_rejected, id FROM ingest_inboxfile WHERE name = 'export.csv'"
            ).fetchone()
        return row if row and row[0] in ("done", "failed") else None

    state = wait_until(ledger, 90, 0.5, message="export.csv imported", services=group)
    assert state[:5] == ("done", "prices", "header", 30, 3)
    with psycopg.connect(**db) as conn:
        items = conn.execute(
            "SELECT i.sku, i.name, i.price, i.currency, i.valid_from, i.in_stock,"
            " c.name FROM prices_priceitem i JOIN prices_category c"
            " ON c.id = i.category_id WHERE i.sku IN ('BK-001', 'BK-002', 'MG-027')"
            " ORDER BY i.sku"
        ).fetchall()
        reasons = conn.execute(
            'SELECT line, "column", message FROM ingest_rowrejection WHERE file_id = %s'
            " ORDER BY line",
            [state[5]],
        ).fetchall()
    assert items == [
        (
            "BK-001",
            "Кобзар",
            decimal.Decimal("1037.01"),
            "UAH",
            datetime.date(2026, 11, 25),
            True,
            "Книги",
        ),
        (
            "BK-002",
            "Енеїда",
            decimal.Decimal("249.50"),
            "USD",
            datetime.date(2026, 12, 1),
            False,
            "Книги",
        ),
        (
            "MG-027",
            "Журнал 27",
            decimal.Decimal("1027.50"),
            "EUR",
            datetime.date(2026, 12, 13),
            False,
            "Книги",
        ),
    ]
    assert [(line, column) for line, column, _ in reasons] == [
        (4, "category"),
        (5, "currency"),
        (6, "in_stock"),
    ]
    texts = [message for _, _, message in reasons]
    assert "category" in texts[0] and "Іграшки" in texts[0], texts
    assert "currency" in texts[1] and "XYZ" in texts[1], texts
    assert "in_stock" in texts[2] and "можливо" in texts[2], texts
    archived = list((project / "archive").rglob("*-export.csv"))
    assert len(archived) == 1
