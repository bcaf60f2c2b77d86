"""Settings for inbox-ingest, read from the environment (12-factor).

Development defaults need no services at all: SQLite under ``var/``, kombu's
filesystem broker under ``var/broker`` and console email. Point
``DATABASE_URL`` and ``CELERY_BROKER_URL`` at PostgreSQL and Redis for real
deployments; with ``DJANGO_DEBUG=0`` the settings refuse to start without a
``DJANGO_SECRET_KEY`` and turn on the secure-cookie/HSTS settings that
``manage.py check --deploy`` asks for.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("INGEST_VAR_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env_bool("DJANGO_DEBUG", True)

_DEV_SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when DJANGO_DEBUG=0.")
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured("The development SECRET_KEY is refused in production.")

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else ""
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "django_celery_results",
    "ingest",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "myproject.urls"
WSGI_APPLICATION = "myproject.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes; IMMEDIATE takes the
    # write lock at BEGIN so two writers queue instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": env_int("INGEST_SQLITE_TIMEOUT", 60),
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # Task progress (update_state) must not travel on the import's own
    # connection: inside the import transaction nobody else could see it.
    # The "results" alias is a second connection to the same database; the
    # router sends django-celery-results there.
    DATABASES["results"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["myproject.routers.ResultsRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "ingest:login"
LOGIN_REDIRECT_URL = "ingest:home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("CELERY_TIMEZONE", "Europe/Kyiv")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "static")))

# --- Email ----------------------------------------------------------------

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "inbox-ingest@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [(address.split("@")[0], address) for address in env_list("DJANGO_ADMINS")]

# --- Celery ---------------------------------------------------------------

# The host part is ignored by the filesystem transport; naming one keeps
# kombu from warning that none was supplied.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's own filesystem transport can hand out half-written messages;
    # ours writes every file atomically (see myproject/broker.py).
    CELERY_BROKER_TRANSPORT = "myproject.broker:Transport"
    _BROKER_DIR = Path(env_str("INGEST_BROKER_DIR", str(VAR_DIR / "broker")))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "control_folder": str(_BROKER_DIR / "control"),
    }
    for _folder in ("queue", "control"):
        (_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
else:
    # Redis redelivers an unacknowledged message after the visibility
    # timeout; it must exceed the longest import or a healthy import gets a
    # twin (which the ledger would then refuse, but it wastes a worker).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 4 * 3600),
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = "myproject.results:RetryingDatabaseBackend"
CELERY_RESULT_EXTENDED = True
# Task results older than this are deleted by celery.backend_cleanup, which
# beat's DatabaseScheduler adds to the schedule (daily at 04:00).
CELERY_RESULT_EXPIRES = env_int("CELERY_RESULT_EXPIRES", 7 * 24 * 3600)
CELERY_RESULT_BACKEND_ALWAYS_RETRY = True
CELERY_RESULT_BACKEND_MAX_RETRIES = 10
# Backoff of 0.1 s doubling up to 10 s: ten tries span about half a minute.
CELERY_RESULT_BACKEND_BASE_SLEEP_BETWEEN_RETRIES_MS = 100
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 3600)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 3900)
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# How often beat re-reads the schedule from the database at the most.
CELERY_BEAT_MAX_LOOP_INTERVAL = env_int("CELERY_BEAT_MAX_LOOP_INTERVAL", 5)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Eager runs keep their results as a worker would. Celery copies this onto
# each task class the first time the task is bound, so changing it later
# (as a test fixture does) would not reach tasks already in use.
CELERY_TASK_STORE_EAGER_RESULT = True

# --- inbox-ingest (read lazily through ingest.conf) -----------------------

INGEST_INBOX_DIR = env_str("INGEST_INBOX_DIR", str(BASE_DIR / "inbox"))
INGEST_ARCHIVE_DIR = env_str("INGEST_ARCHIVE_DIR", str(BASE_DIR / "archive"))
INGEST_FAILED_DIR = env_str("INGEST_FAILED_DIR", str(BASE_DIR / "failed"))
INGEST_LOCK_DIR = env_str("INGEST_LOCK_DIR", str(VAR_DIR / "locks"))
INGEST_ALLOWED_ROOTS = env_list("INGEST_ALLOWED_ROOTS")
INGEST_MIN_FILE_AGE = env_float("INGEST_MIN_FILE_AGE", 5.0)
INGEST_REDISPATCH_AFTER = env_float("INGEST_REDISPATCH_AFTER", 300.0)
INGEST_MAX_ATTEMPTS = env_int("INGEST_MAX_ATTEMPTS", 5)
INGEST_NOTIFY_EMAILS = env_list("INGEST_NOTIFY_EMAILS")
INGEST_SCAN_INTERVAL = env_int("INGEST_SCAN_INTERVAL", 10)
INGEST_PROGRESS_INTERVAL = env_float("INGEST_PROGRESS_INTERVAL", 0.5)
#: A file with a larger share of invalid rows imports nothing (0.10 = 10%).
INGEST_MAX_REJECT_RATE = env_float("INGEST_MAX_REJECT_RATE", 0.10)
#: Larger inbox files are refused unread, in bytes (default 2 GiB).
INGEST_MAX_FILE_SIZE = env_int("INGEST_MAX_FILE_SIZE", 2 * 1024**3)
#: Rejected rows kept per file for people to see; the count stays exact.
INGEST_MAX_ROW_ERRORS = env_int("INGEST_MAX_ROW_ERRORS", 10_000)
#: Encoding of every CSV ("cp1251", …); empty = detect per file.
INGEST_CSV_ENCODING = env_str("INGEST_CSV_ENCODING", "")
#: Deprecated: per-folder encodings, "<folder>=<encoding>", read once by
#: migration 0006 into each Inbox's encoding (set it in the admin now).
INGEST_INBOX_ENCODINGS = env_list("INGEST_INBOX_ENCODINGS")
#: Largest file the dashboard accepts per upload, in bytes (default 100 MiB).
INGEST_MAX_UPLOAD_SIZE = env_int("INGEST_MAX_UPLOAD_SIZE", 100 * 1024 * 1024)
#: Days a finished file's stored copy (archive/, failed/) is kept; 0 = forever.
INGEST_ARCHIVE_KEEP_DAYS = env_int("INGEST_ARCHIVE_KEEP_DAYS", 0)
#: Days a finished ledger entry is kept; 0 = forever.
INGEST_LEDGER_KEEP_DAYS = env_int("INGEST_LEDGER_KEEP_DAYS", 0)
#: Seconds a webhook receiver has to answer before the attempt counts as failed.
INGEST_WEBHOOK_TIMEOUT = env_float("INGEST_WEBHOOK_TIMEOUT", 10.0)
#: Retries of a failed webhook, each after twice the delay of the one before.
INGEST_WEBHOOK_MAX_RETRIES = env_int("INGEST_WEBHOOK_MAX_RETRIES", 5)
INGEST_WEBHOOK_RETRY_DELAY = env_float("INGEST_WEBHOOK_RETRY_DELAY", 10.0)
#: Bearer token that opens /metrics to a scraper; empty = staff sessions only.
INGEST_METRICS_TOKEN = env_str("INGEST_METRICS_TOKEN", "")

# --- Production hardening -------------------------------------------------

if not DEBUG:
    # gunicorn serves no static files: WhiteNoise serves the collected admin
    # assets (``manage.py collectstatic``, done in the Dockerfile).
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")
    # Only a plain-HTTP trial on localhost turns these off.
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # Probes and scrapers talk plain HTTP to the container, not through TLS.
    SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|metrics)$"]
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool(
        "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True
    )
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
