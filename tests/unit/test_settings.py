"""The production settings path (``DJANGO_DEBUG=0``), run in fresh processes.

Settings are read once per process, so each case starts ``manage.py`` with
its own environment instead of overriding settings in this one.
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "ingest.example.com",
}


@pytest.fixture
def environ(tmp_path) -> dict[str, str]:
    """Return this process's environment without any Django secrets or debug."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("DJANGO_") or name == "DJANGO_SETTINGS_MODULE"
    }
    env["INGEST_VAR_DIR"] = str(tmp_path / "var")
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_a_production_environment(environ):
    environ.update(PRODUCTION, DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    result = manage(environ, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(environ):
    environ.update(PRODUCTION)
    result = manage(environ, "check", "--deploy")
    assert result.returncode != 0
    assert "ImproperlyConfigured: Set DJANGO_SECRET_KEY when DJANGO_DEBUG=0." in (
        result.stderr
    )


def test_production_refuses_the_development_secret_key(environ):
    from myproject import settings

    environ.update(PRODUCTION, DJANGO_SECRET_KEY=settings._DEV_SECRET_KEY)
    result = manage(environ, "check", "--deploy")
    assert result.returncode != 0
    assert "ImproperlyConfigured: The development SECRET_KEY is refused" in (
        result.stderr
    )


def test_production_has_no_default_allowed_hosts(environ):
    environ.update(DJANGO_DEBUG="0", DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    result = manage(
        environ,
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; "
        "print(s.ALLOWED_HOSTS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "True", "True", "31536000", "True"]


def test_hsts_is_configurable_and_check_deploy_reports_it_off(environ):
    environ.update(
        PRODUCTION,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_SECURE_HSTS_SECONDS="0",
    )
    result = manage(environ, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W004" in result.stderr


def test_development_runs_without_any_secret(environ):
    result = manage(environ, "check")
    assert result.returncode == 0, result.stderr


def test_every_environment_variable_of_the_settings_is_documented_in_the_readme():
    settings_source = (ROOT / "myproject" / "settings.py").read_text()
    variables = set(re.findall(r'env\.\w+\(\s*"([A-Z0-9_]+)"', settings_source))
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY"} <= variables
    table = (ROOT / "README.md").read_text().split("## Configuration", 1)[1]
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", table, re.MULTILINE))
    assert sorted(variables - documented) == [], "add them to README's Configuration"


def test_production_serves_the_probes_over_plain_http_and_redirects_the_rest(
    environ,
):
    """A container probe or scraper speaks HTTP to gunicorn; pages still
    redirect to HTTPS."""
    environ.update(PRODUCTION, DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    script = (
        "from django.test import Client; c = Client(HTTP_HOST='ingest.example.com');"
        "print(c.get('/healthz').status_code, c.get('/metrics').status_code,"
        " c.get('/admin/').status_code)"
    )
    result = manage(environ, "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["200", "401", "301"]


def test_an_empty_variable_means_the_default_and_a_bad_boolean_is_refused(
    monkeypatch,
):
    from django.core.exceptions import ImproperlyConfigured

    from myproject.env import Env

    monkeypatch.setenv("X_NUMBER", "")
    monkeypatch.setenv("X_HOSTS", " a.example , ,b.example")
    monkeypatch.setenv("X_FLAG", "flase")
    env = Env()
    assert env.int("X_NUMBER", default=7) == 7
    assert env.list("X_HOSTS", default=[]) == ["a.example", "b.example"]
    with pytest.raises(ImproperlyConfigured, match="X_FLAG='flase' is not a boolean"):
        env.bool("X_FLAG", default=False)
    monkeypatch.setenv("X_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_NUMBER='ten'"):
        env.int("X_NUMBER", default=7)


def test_the_filesystem_broker_polls_every_tenth_of_a_second_unless_told(environ):
    """kombu's own 1 s poll made every hop of a file wait up to a second."""
    environ.pop("CELERY_BROKER_URL", None)
    show = (
        "from django.conf import settings; "
        "print(settings.CELERY_BROKER_TRANSPORT_OPTIONS['polling_interval'])"
    )
    result = manage(environ, "shell", "--no-imports", "-c", show)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0.1"]
    environ["INGEST_BROKER_POLLING_INTERVAL"] = "0.5"
    assert manage(environ, "shell", "--no-imports", "-c", show).stdout.split() == [
        "0.5"
    ]
