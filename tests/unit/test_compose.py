"""docker-compose.yml and its Dockerfile, checked without a Docker engine.

The file is parsed as YAML (merge keys resolved) and checked for what a
deployment relies on: the services, their commands, health checks and the
ordering they gate, the shared inbox volume and the environment wiring.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "beat", "watcher")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def command_of(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_the_stack_has_postgres_redis_web_worker_and_beat(services):
    assert {"postgres", "redis", *APP_SERVICES} <= set(services)
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"].startswith("redis")


def test_the_app_services_reuse_one_image_and_differ_only_in_command(services):
    def without_command(name: str) -> dict:
        service = dict(services[name])
        for key in ("command", "depends_on", "ports", "healthcheck"):
            service.pop(key, None)
        service.pop("stop_grace_period", None)
        return service

    assert all(services[name]["build"] == "." for name in APP_SERVICES)
    assert len({services[name]["image"] for name in APP_SERVICES}) == 1
    for name in APP_SERVICES:
        assert without_command("web") == without_command(name), name
    assert len({command_of(services[name]) for name in APP_SERVICES}) == len(
        APP_SERVICES
    )


def test_worker_and_beat_run_celery_with_the_database_scheduler(services):
    worker = command_of(services["worker"])
    beat = command_of(services["beat"])
    assert re.match(r"celery -A myproject worker\b", worker)
    assert re.match(r"celery -A myproject beat\b", beat)
    assert "django_celery_beat.schedulers:DatabaseScheduler" in beat


def test_the_watcher_runs_by_default_and_one_setting_idles_it(services):
    assert command_of(services["watcher"]) == "python manage.py ingest_watch"
    assert services["watcher"]["environment"]["INGEST_WATCH"] == "${INGEST_WATCH:-1}"


def test_web_sets_up_the_database_then_runs_a_real_wsgi_server(services):
    web = command_of(services["web"])
    assert web.index("manage.py ingest_setup") < web.index("gunicorn myproject.wsgi")
    assert "&&" in web, "the server must not start when setup failed"
    assert "runserver" not in web
    requirements = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^gunicorn==\d", requirements, re.MULTILINE)


def test_postgres_redis_and_web_have_health_checks(services):
    for name in ("postgres", "redis", "web"):
        assert services[name]["healthcheck"]["test"], name
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "ping" in services["redis"]["healthcheck"]["test"]


def probe_url(service: dict) -> str:
    """Return the URL a Python health check fetches, and check it would work."""
    test = service["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    (url,) = re.findall(r"'(http://[^']+)'", test[3])
    # DJANGO_ALLOWED_HOSTS has localhost by default, not the service name.
    assert "'Host': 'localhost'" in test[3]
    compile(test[3], "healthcheck", "exec")
    return url


def test_web_is_healthy_by_healthz_and_the_worker_reports_readyz(services):
    """The gate (web healthy → worker and beat start) is the no-I/O liveness
    probe; readiness, which needs the worker and beat, only reports."""
    assert probe_url(services["web"]) == "http://127.0.0.1:8000/healthz"
    assert probe_url(services["worker"]) == "http://web:8000/readyz"
    for name, service in services.items():
        for need in service.get("depends_on", {}):
            assert need != "worker", f"{name} would wait for readiness"


def test_services_start_only_after_what_they_need_is_healthy(services):
    expected = {
        "web": {"postgres", "redis"},
        "worker": {"web", "redis"},
        "beat": {"web", "redis"},
        "watcher": {"web", "redis"},
    }
    for name, needs in expected.items():
        depends_on = services[name]["depends_on"]
        assert set(depends_on) == needs, name
        assert all(
            depends_on[need]["condition"] == "service_healthy" for need in needs
        ), name


def test_one_named_volume_holds_inbox_archive_and_failed_for_every_process(
    compose, services
):
    mounts = {
        name: [volume.split(":") for volume in services[name]["volumes"]]
        for name in APP_SERVICES
    }
    shared = {tuple(mount) for mount in mounts["web"]}
    assert all({tuple(m) for m in mounts[name]} == shared for name in APP_SERVICES)
    ((volume, target),) = shared
    assert volume in compose["volumes"], "a named volume, not a host folder"
    environment = services["worker"]["environment"]
    for variable in ("INGEST_INBOX_DIR", "INGEST_ARCHIVE_DIR", "INGEST_FAILED_DIR"):
        assert Path(environment[variable]).is_relative_to(target), variable


def test_environment_wires_postgres_redis_secrets_hosts_and_email(services):
    environment = services["web"]["environment"]
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    assert environment["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
    # No secret in the file: compose refuses to start until one is given.
    assert re.fullmatch(
        r"\$\{DJANGO_SECRET_KEY:\?.+\}", environment["DJANGO_SECRET_KEY"]
    )
    assert (
        "POSTGRES_PASSWORD:?"
        in services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    )
    assert environment["DJANGO_DEBUG"] == "${DJANGO_DEBUG:-0}"
    assert "DJANGO_ALLOWED_HOSTS" in environment
    for variable in (
        "EMAIL_BACKEND",
        "EMAIL_HOST",
        "EMAIL_PORT",
        "INGEST_NOTIFY_EMAILS",
    ):
        assert variable in environment, variable


def test_flower_reuses_the_image_behind_basic_auth_from_env(services):
    flower = services["flower"]
    assert flower["image"] == services["web"]["image"]
    assert flower["environment"] == services["web"]["environment"]
    command = command_of(flower)
    assert re.match(r"celery -A myproject flower\b", command)
    (auth,) = [
        arg.removeprefix("--basic-auth=")
        for arg in flower["command"]
        if arg.startswith("--basic-auth=")
    ]
    # No password in the file: compose refuses to start until .env has one.
    assert re.fullmatch(r"\$\{FLOWER_BASIC_AUTH:\?.+\}", auth)
    assert probe_url(flower) == "http://127.0.0.1:5555/healthcheck"
    assert flower["depends_on"]["redis"]["condition"] == "service_healthy"
    requirements = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^flower==\d", requirements, re.MULTILINE)


def test_the_dockerfile_builds_python_311_with_the_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.MULTILINE)
    assert "COPY requirements.txt" in dockerfile
    assert re.search(r"pip install .*-r requirements\.txt", dockerfile)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".env", ".git"} <= set(ignored)
