"""The ``INGEST_*`` settings with their defaults, read lazily.

A host project sets only what it wants to change; every setting the engine
reads has its default here. Read at call time, never at import, so tests
(and ``override_settings``) can change them.
"""

import codecs
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _base_dir() -> Path:
    """Return the host project's BASE_DIR, else the working directory."""
    return Path(getattr(settings, "BASE_DIR", None) or Path.cwd())


#: Every INGEST_* setting and its default (a callable is called when read).
DEFAULTS: dict[str, Any] = {
    "INGEST_INBOX_DIR": lambda: _base_dir() / "inbox",
    "INGEST_ARCHIVE_DIR": lambda: _base_dir() / "archive",
    "INGEST_FAILED_DIR": lambda: _base_dir() / "failed",
    "INGEST_LOCK_DIR": lambda: _base_dir() / "var" / "locks",
    "INGEST_ALLOWED_ROOTS": [],
    "INGEST_MIN_FILE_AGE": 5.0,
    "INGEST_REDISPATCH_AFTER": 300.0,
    "INGEST_MAX_ATTEMPTS": 5,
    "INGEST_NOTIFY_EMAILS": [],
    "INGEST_NOTIFY_GRACE": 60.0,
    "INGEST_SCAN_INTERVAL": 10,
    "INGEST_PROGRESS_INTERVAL": 0.5,
    "INGEST_MAX_REJECT_RATE": 0.10,
    "INGEST_MAX_FILE_SIZE": 2 * 1024**3,
    "INGEST_MAX_UNCOMPRESSED_BYTES": 2 * 1024**3,
    "INGEST_MAX_COMPRESSION_RATIO": 200,
    "INGEST_MAX_ARCHIVE_MEMBERS": 1000,
    "INGEST_MAX_ROW_ERRORS": 10_000,
    "INGEST_CSV_ENCODING": "",
    "INGEST_CSV_ENCODINGS": [
        "utf-8",
        "cp1251",
        "koi8-u",
        "koi8-r",
        "cp866",
        "cp1252",
        "latin-1",
    ],
    "INGEST_INBOX_ENCODINGS": [],
    "INGEST_MAX_UPLOAD_SIZE": 100 * 1024 * 1024,
    "INGEST_IMPORTERS": None,
    "INGEST_METRICS_TOKEN": "",
    "INGEST_ARCHIVE_KEEP_DAYS": 0,
    "INGEST_LEDGER_KEEP_DAYS": 0,
    "INGEST_WEBHOOK_TIMEOUT": 10.0,
    "INGEST_WEBHOOK_MAX_RETRIES": 5,
    "INGEST_WEBHOOK_RETRY_DELAY": 10.0,
    "INGEST_BENCH_IMPORTER": "",
    "INGEST_WATCH": True,
    "INGEST_WATCH_POLLING": False,
    "INGEST_WATCH_REFRESH": 5.0,
    "INGEST_PREVIEW_KEEP": 24 * 3600.0,
    # Remote inboxes (s3://, sftp://): the worker's local copy of the file
    # being imported, the network's patience, the SFTP servers trusted.
    "INGEST_SPOOL_DIR": lambda: Path(tempfile.gettempdir()) / "inbox-ingest-spool",
    "INGEST_REMOTE_TIMEOUT": 30.0,
    "INGEST_REMOTE_RETRIES": 5,
    "INGEST_SFTP_KNOWN_HOSTS": "~/.ssh/known_hosts",
}


def setting(name: str) -> Any:
    """Return the INGEST_* setting *name*, or its default."""
    if hasattr(settings, name):
        return getattr(settings, name)
    default = DEFAULTS[name]
    return default() if callable(default) else default


def inbox_dir() -> Path:
    """Return the default inbox folder."""
    return Path(setting("INGEST_INBOX_DIR")).resolve()


def archive_dir() -> Path:
    return Path(setting("INGEST_ARCHIVE_DIR")).resolve()


def failed_dir() -> Path:
    return Path(setting("INGEST_FAILED_DIR")).resolve()


def lock_dir() -> Path:
    return Path(setting("INGEST_LOCK_DIR")).resolve()


def allowed_roots() -> list[Path]:
    """Return the folders a scheduled scan may read; the inbox is always one."""
    roots = [Path(root).resolve() for root in setting("INGEST_ALLOWED_ROOTS")]
    return [inbox_dir(), *roots]


def min_file_age() -> float:
    return float(setting("INGEST_MIN_FILE_AGE"))


def redispatch_after() -> float:
    """Return the seconds a queued file waits before its message is resent."""
    return float(setting("INGEST_REDISPATCH_AFTER"))


def max_attempts() -> int:
    return int(setting("INGEST_MAX_ATTEMPTS"))


def max_reject_rate() -> float:
    """Return the share of invalid rows above which a whole file is refused."""
    return float(setting("INGEST_MAX_REJECT_RATE"))


def max_file_size() -> int:
    """Return the largest inbox file imported, in bytes."""
    return int(setting("INGEST_MAX_FILE_SIZE"))


def max_uncompressed_bytes() -> int:
    """Return the most a compressed file's content may inflate to, in bytes."""
    return int(setting("INGEST_MAX_UNCOMPRESSED_BYTES"))


def max_compression_ratio() -> int:
    """Return how many times its size a compressed file may inflate."""
    return int(setting("INGEST_MAX_COMPRESSION_RATIO"))


def max_archive_members() -> int:
    """Return how many files a .zip may hold before it is refused."""
    return int(setting("INGEST_MAX_ARCHIVE_MEMBERS"))


def max_row_errors() -> int:
    """Return how many rejected rows are kept per file (the count stays exact)."""
    return int(setting("INGEST_MAX_ROW_ERRORS"))


def csv_encoding() -> str:
    """Return the encoding every CSV is read in, or "" to detect it per file."""
    return str(setting("INGEST_CSV_ENCODING"))


def csv_encodings() -> list[str]:
    """Return the encodings detection may choose among, as Python codec names.

    ``INGEST_CSV_ENCODINGS`` lists them; an unknown name is a configuration
    error, refused when the first file is read.
    """
    names = []
    for name in setting("INGEST_CSV_ENCODINGS"):
        try:
            names.append(codecs.lookup(name).name)
        except LookupError:
            raise ImproperlyConfigured(
                f"INGEST_CSV_ENCODINGS names an unknown encoding: {name!r}."
            ) from None
    return names


def progress_interval() -> float:
    return float(setting("INGEST_PROGRESS_INTERVAL"))


def notify_grace() -> float:
    """Return how long a scan leaves a finished file's email to its worker.

    Past it, a scan republishes an email still PENDING (its message was
    lost); one that FAILED is never resent.
    """
    return float(setting("INGEST_NOTIFY_GRACE"))


def max_upload_size() -> int:
    """Return the largest upload accepted, in bytes."""
    return int(setting("INGEST_MAX_UPLOAD_SIZE"))


def preview_keep() -> float:
    """Return the seconds a preview waits for a person before it is removed."""
    return float(setting("INGEST_PREVIEW_KEEP"))


def scan_interval() -> int:
    return int(setting("INGEST_SCAN_INTERVAL"))


def watch_enabled() -> bool:
    """Return whether ``ingest_watch`` watches (``INGEST_WATCH=0`` idles it)."""
    return bool(setting("INGEST_WATCH"))


def watch_polling() -> bool:
    """Return whether the watcher polls instead of using OS file events."""
    return bool(setting("INGEST_WATCH_POLLING"))


def watch_refresh() -> float:
    """Return the seconds between the watcher's re-reads of the inbox list."""
    return float(setting("INGEST_WATCH_REFRESH"))


def notify_emails() -> list[str]:
    """Return who hears about finished imports: the setting, else ``ADMINS``."""
    emails = list(setting("INGEST_NOTIFY_EMAILS"))
    if not emails:
        emails = [address for _name, address in settings.ADMINS]
    return emails


def resolve_inbox(inbox: str | None) -> Path:
    """Return the inbox to scan; refuse one outside the allowed roots."""
    if not inbox:
        return inbox_dir()
    path = Path(inbox).resolve()
    for root in allowed_roots():
        if path == root or root in path.parents:
            return path
    raise ImproperlyConfigured(
        f"Inbox {inbox!r} is outside INGEST_ALLOWED_ROOTS "
        f"({', '.join(str(r) for r in allowed_roots())})."
    )


def metrics_token() -> str:
    """Return the bearer token that opens ``/metrics``; "" means staff only."""
    return str(setting("INGEST_METRICS_TOKEN"))


def archive_keep_days() -> int:
    """Return the days a finished file's stored copy is kept; 0 = forever."""
    return int(setting("INGEST_ARCHIVE_KEEP_DAYS") or 0)


def ledger_keep_days() -> int:
    """Return the days a finished ledger entry is kept; 0 = forever."""
    return int(setting("INGEST_LEDGER_KEEP_DAYS") or 0)


def webhook_timeout() -> float:
    """Return the seconds a webhook receiver has to answer one attempt."""
    return float(setting("INGEST_WEBHOOK_TIMEOUT"))


def webhook_max_retries() -> int:
    return int(setting("INGEST_WEBHOOK_MAX_RETRIES"))


def webhook_retry_delay() -> float:
    """Return the seconds before a webhook's first retry (doubling after)."""
    return float(setting("INGEST_WEBHOOK_RETRY_DELAY"))


def spool_dir() -> Path:
    """Return the local folder a worker streams a remote file into to read it."""
    return Path(setting("INGEST_SPOOL_DIR")).resolve()


def remote_timeout() -> float:
    """Return the seconds a remote store may take to connect or answer."""
    return float(setting("INGEST_REMOTE_TIMEOUT"))


def remote_retries() -> int:
    """Return how many times one S3 request is tried (with backoff) in all."""
    return int(setting("INGEST_REMOTE_RETRIES"))


def sftp_known_hosts() -> str:
    """Return the known-hosts file of SFTP inboxes that give no lines of their own."""
    return str(setting("INGEST_SFTP_KNOWN_HOSTS"))
