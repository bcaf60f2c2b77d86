"""Detect the external services a test pass needs, and explain what is missing.

Outside CI a missing service skips the tests that need it, with a reason
that names what to start or set; under CI (``CI`` = true, 1 or yes, in
any case) it is a failure.
"""

import os
import socket
from urllib.parse import urlparse

from django.conf import settings


def ci_enabled(value: str) -> bool:
    """Return whether a ``CI`` variable's *value* means a CI run (true/1/yes)."""
    return value.strip().lower() in {"true", "1", "yes"}


IS_CI = ci_enabled(os.environ.get("CI", ""))


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=5):
            return True
    except OSError:
        return False


def database_problem() -> str:
    """Return why the configured PostgreSQL cannot be used, or ""."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        return ""
    host, port = db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)
    if host.startswith("/") or _reachable(host, port):
        return ""
    return (
        f"PostgreSQL is not reachable at {host}:{port}: start it "
        "(pg_ctlcluster <version> main start) or unset DATABASE_URL to run on SQLite."
    )


def broker_problem() -> str:
    """Return why the configured Redis or RabbitMQ broker cannot be used, or ""."""
    url = settings.CELERY_BROKER_URL
    if url.startswith(("amqp://", "pyamqp://")):
        return rabbitmq_problem()
    if not url.startswith("redis://"):
        return (
            "These tests need Redis or RabbitMQ: run the PostgreSQL pass of "
            "bin/test (CELERY_BROKER_URL=redis://127.0.0.1:6379/15)."
        )
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
    if _reachable(host, port):
        return ""
    return (
        f"Redis is not reachable at {host}:{port}: start it "
        "(redis-server --port 6379) or set CELERY_BROKER_URL."
    )


def rabbitmq_problem() -> str:
    """Return why the configured RabbitMQ broker cannot be used, or ""."""
    parsed = urlparse(settings.CELERY_BROKER_URL)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 5672
    if _reachable(host, port):
        return ""
    return (
        f"RabbitMQ is not reachable at {host}:{port}: start it "
        "(rabbitmq-server -detached) or set CELERY_BROKER_URL."
    )
