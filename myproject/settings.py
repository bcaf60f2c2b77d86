"""Settings for inbox-ingest, read from the environment (12-factor).

Development defaults need no services at all: SQLite under ``var/``, kombu's
filesystem broker under ``var/broker`` and console email. Point
``DATABASE_URL`` and ``CELERY_BROKER_URL`` at PostgreSQL and Redis for real
deployments; with ``DJANGO_DEBUG=0`` the settings refuse to start without a
``DJANGO_SECRET_KEY`` and turn on the secure-cookie/HSTS settings that
``manage.py check --deploy`` asks for.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .env import env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("INGEST_VAR_DIR", default=str(BASE_DIR / "var"))).resolve()

DEBUG = env.bool("DJANGO_DEBUG", default=True)

_DEV_SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when DJANGO_DEBUG=0.")
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured("The development SECRET_KEY is refused in production.")

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

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
    # The example dataset; a team adds its own apps with an importers.py.
    "catalogue",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware (Django's documented order):
    # the language comes from the switcher's cookie, else the browser's
    # Accept-Language, else LANGUAGE_CODE.
    "django.middleware.locale.LocaleMiddleware",
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
    "default": {
        **env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        "CONN_MAX_AGE": env.int("DJANGO_CONN_MAX_AGE", default=0),
    }
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes; IMMEDIATE takes the
    # write lock at BEGIN so two writers queue instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": env.int("INGEST_SQLITE_TIMEOUT", default=60),
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # Task progress (update_state) must not travel on the import's own
    # connection: inside the import transaction nobody else could see it.
    # The "results" alias is a second connection to the same database; the
    # router sends django-celery-results there.
    DATABASES["results"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["ingest.routers.ResultsRouter"]
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
LOGIN_URL = "login"
LOGOUT_REDIRECT_URL = "login"
LOGIN_REDIRECT_URL = "ingest:home"

# --- Languages and time --------------------------------------------------

#: The languages the dashboard, emails and reasons are translated into.
#: Each app ships its own catalogs (``ingest/locale``, ``catalogue/locale``);
#: Django's admin brings its own. Names are written in their own language,
#: as a switcher shows them.
LANGUAGES = [("en", "English"), ("uk", "Українська")]
#: The site's language: for visitors whose browser asks for none of
#: LANGUAGES, and for emails of inboxes that choose none.
LANGUAGE_CODE = env.str("DJANGO_LANGUAGE_CODE", default="en")
if LANGUAGE_CODE.split("-")[0] not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"DJANGO_LANGUAGE_CODE={LANGUAGE_CODE!r} is not one of "
        f"{', '.join(code for code, _name in LANGUAGES)}."
    )
TIME_ZONE = env.str("CELERY_TIMEZONE", default="Europe/Kyiv")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static")))

# --- Email ----------------------------------------------------------------

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="inbox-ingest@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [
    (address.split("@")[0], address)
    for address in env.list("DJANGO_ADMINS", default=[])
]

# --- Celery ---------------------------------------------------------------

# The host part is ignored by the filesystem transport; naming one keeps
# kombu from warning that none was supplied.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's own filesystem transport can hand out half-written messages;
    # ours writes every file atomically (see myproject/broker.py).
    CELERY_BROKER_TRANSPORT = "myproject.broker:Transport"
    _BROKER_DIR = Path(env.str("INGEST_BROKER_DIR", default=str(VAR_DIR / "broker")))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "control_folder": str(_BROKER_DIR / "control"),
        # Seconds an idle worker sleeps between looks at the queue folder:
        # every hop of a file (scan, import, email) waits up to this long.
        # kombu's default of 1 s made the embedded pipeline slow; 0.1 s
        # costs an idle worker 0.35% of a core (README, Performance).
        "polling_interval": env.float("INGEST_BROKER_POLLING_INTERVAL", default=0.1),
    }
    for _folder in ("queue", "control"):
        (_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
else:
    # Redis redelivers an unacknowledged message after the visibility
    # timeout; it must exceed the longest import or a healthy import gets a
    # twin (which the ledger would then refuse, but it wastes a worker).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=4 * 3600),
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = "ingest.results:RetryingDatabaseBackend"
CELERY_RESULT_EXTENDED = True
# Task results older than this are deleted by celery.backend_cleanup, which
# beat's DatabaseScheduler adds to the schedule (daily at 04:00).
CELERY_RESULT_EXPIRES = env.int("CELERY_RESULT_EXPIRES", default=7 * 24 * 3600)
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
# Messages a worker reserves per process. One on Redis and RabbitMQ, which
# hand the next message over as soon as one is acknowledged, so a long
# import holds back no file another worker could take. The filesystem
# broker is only looked at every INGEST_BROKER_POLLING_INTERVAL: with one
# message per process every small file would wait for the next look, so
# there the worker keeps a few in hand (it is single-host anyway).
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int(
    "CELERY_WORKER_PREFETCH_MULTIPLIER",
    default=4 if CELERY_BROKER_URL.startswith("filesystem://") else 1,
)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=3600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=3900)
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# A worker process keeps its database connections across this many tasks
# (Celery's Django fixup otherwise opens new ones for every task); after a
# task that failed or saw a database error they are closed at once
# (ingest/worker.py). 0 = a fresh connection for every task.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000) or None
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# How often beat re-reads the schedule from the database at the most.
CELERY_BEAT_MAX_LOOP_INTERVAL = env.int("CELERY_BEAT_MAX_LOOP_INTERVAL", default=5)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Eager runs keep their results as a worker would. Celery copies this onto
# each task class the first time the task is bound, so changing it later
# (as a test fixture does) would not reach tasks already in use.
CELERY_TASK_STORE_EAGER_RESULT = True

# --- inbox-ingest (read lazily through ingest.conf) -----------------------

INGEST_INBOX_DIR = env.str("INGEST_INBOX_DIR", default=str(BASE_DIR / "inbox"))
INGEST_ARCHIVE_DIR = env.str("INGEST_ARCHIVE_DIR", default=str(BASE_DIR / "archive"))
INGEST_FAILED_DIR = env.str("INGEST_FAILED_DIR", default=str(BASE_DIR / "failed"))
INGEST_LOCK_DIR = env.str("INGEST_LOCK_DIR", default=str(VAR_DIR / "locks"))
INGEST_ALLOWED_ROOTS = env.list("INGEST_ALLOWED_ROOTS", default=[])
INGEST_MIN_FILE_AGE = env.float("INGEST_MIN_FILE_AGE", default=5.0)
INGEST_REDISPATCH_AFTER = env.float("INGEST_REDISPATCH_AFTER", default=300.0)
INGEST_MAX_ATTEMPTS = env.int("INGEST_MAX_ATTEMPTS", default=5)
INGEST_NOTIFY_EMAILS = env.list("INGEST_NOTIFY_EMAILS", default=[])
#: Seconds a finished file's email may stay unsent before a scan resends it.
INGEST_NOTIFY_GRACE = env.float("INGEST_NOTIFY_GRACE", default=60.0)
INGEST_SCAN_INTERVAL = env.int("INGEST_SCAN_INTERVAL", default=10)
INGEST_PROGRESS_INTERVAL = env.float("INGEST_PROGRESS_INTERVAL", default=0.5)
#: A file with a larger share of invalid rows imports nothing (0.10 = 10%).
INGEST_MAX_REJECT_RATE = env.float("INGEST_MAX_REJECT_RATE", default=0.10)
#: Larger inbox files are refused unread, in bytes (default 2 GiB).
INGEST_MAX_FILE_SIZE = env.int("INGEST_MAX_FILE_SIZE", default=2 * 1024**3)
INGEST_MAX_UNCOMPRESSED_BYTES = env.int(
    "INGEST_MAX_UNCOMPRESSED_BYTES", default=2 * 1024**3
)
INGEST_MAX_COMPRESSION_RATIO = env.int("INGEST_MAX_COMPRESSION_RATIO", default=200)
INGEST_MAX_ARCHIVE_MEMBERS = env.int("INGEST_MAX_ARCHIVE_MEMBERS", default=1000)
#: Rejected rows kept per file for people to see; the count stays exact.
INGEST_MAX_ROW_ERRORS = env.int("INGEST_MAX_ROW_ERRORS", default=10_000)
#: Encoding of every CSV ("cp1251", …); empty = detect per file.
INGEST_CSV_ENCODING = env.str("INGEST_CSV_ENCODING", default="")
#: Deprecated: per-folder encodings, "<folder>=<encoding>", read once by
#: migration 0006 into each Inbox's encoding (set it in the admin now).
INGEST_INBOX_ENCODINGS = env.list("INGEST_INBOX_ENCODINGS", default=[])
#: Encodings detection chooses among when none is declared, comma-separated.
#: UTF-8 and UTF-16 are recognised by their BOM whatever this says.
INGEST_CSV_ENCODINGS = env.list(
    "INGEST_CSV_ENCODINGS",
    default=["utf-8", "cp1251", "koi8-u", "koi8-r", "cp866", "cp1252", "latin-1"],
)
#: Largest file the dashboard accepts per upload, in bytes (default 100 MiB).
INGEST_MAX_UPLOAD_SIZE = env.int("INGEST_MAX_UPLOAD_SIZE", default=100 * 1024 * 1024)
#: Days a finished file's stored copy (archive/, failed/) is kept; 0 = forever.
INGEST_ARCHIVE_KEEP_DAYS = env.int("INGEST_ARCHIVE_KEEP_DAYS", default=0)
#: Days a finished ledger entry is kept; 0 = forever.
INGEST_LEDGER_KEEP_DAYS = env.int("INGEST_LEDGER_KEEP_DAYS", default=0)
#: Seconds a webhook receiver has to answer before the attempt counts as failed.
INGEST_WEBHOOK_TIMEOUT = env.float("INGEST_WEBHOOK_TIMEOUT", default=10.0)
#: Retries of a failed webhook, each after twice the delay of the one before.
INGEST_WEBHOOK_MAX_RETRIES = env.int("INGEST_WEBHOOK_MAX_RETRIES", default=5)
INGEST_WEBHOOK_RETRY_DELAY = env.float("INGEST_WEBHOOK_RETRY_DELAY", default=10.0)
#: Bearer token that opens /metrics to a scraper; empty = staff sessions only.
INGEST_METRICS_TOKEN = env.str("INGEST_METRICS_TOKEN", default="")
#: The dataset ``ingest_bench`` measures unless told (this project's example).
INGEST_BENCH_IMPORTER = env.str("INGEST_BENCH_IMPORTER", default="books")
#: Run ``manage.py ingest_watch`` (bin/serve, docker-compose.yml): take files
#: on their close or rename-in, in well under a second. 0 turns it off and
#: leaves the scheduled scan alone.
INGEST_WATCH = env.bool("INGEST_WATCH", default=True)
#: Watch by polling the folders instead of OS file events (inotify): for
#: filesystems without events. Polling sees no close, so files wait for the
#: minimum file age there.
INGEST_WATCH_POLLING = env.bool("INGEST_WATCH_POLLING", default=False)
#: Seconds between the watcher's re-reads of the list of inboxes.
INGEST_WATCH_REFRESH = env.float("INGEST_WATCH_REFRESH", default=5.0)
# Seconds a preview waits to be confirmed before the hourly task removes it.
INGEST_PREVIEW_KEEP = env.float("INGEST_PREVIEW_KEEP", default=24 * 3600.0)
# Remote inboxes (s3://, sftp://): where a worker streams the file it imports
# (blank: the system's temporary folder), how long a store may take to
# answer, how often one S3 request is tried, and the SFTP servers trusted.
if env.str("INGEST_SPOOL_DIR", default=""):
    INGEST_SPOOL_DIR = env.str("INGEST_SPOOL_DIR")
INGEST_REMOTE_TIMEOUT = env.float("INGEST_REMOTE_TIMEOUT", default=30.0)
INGEST_REMOTE_RETRIES = env.int("INGEST_REMOTE_RETRIES", default=5)
INGEST_SFTP_KNOWN_HOSTS = env.str(
    "INGEST_SFTP_KNOWN_HOSTS", default="~/.ssh/known_hosts"
)

# --- Production hardening -------------------------------------------------

if not DEBUG:
    # gunicorn serves no static files: WhiteNoise serves the collected admin
    # assets (``manage.py collectstatic``, done in the Dockerfile).
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")
    # Only a plain-HTTP trial on localhost turns these off.
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # Probes and scrapers talk plain HTTP to the container, not through TLS.
    SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|metrics)$"]
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
        "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True
    )
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
    if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": env.str("DJANGO_LOG_LEVEL", default="INFO"),
    },
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
