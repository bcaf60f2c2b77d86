"""The ``INGEST_*`` settings, read lazily so tests can override them."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def inbox_dir() -> Path:
    """Return the default inbox folder."""
    return Path(settings.INGEST_INBOX_DIR).resolve()


def archive_dir() -> Path:
    return Path(settings.INGEST_ARCHIVE_DIR).resolve()


def failed_dir() -> Path:
    return Path(settings.INGEST_FAILED_DIR).resolve()


def lock_dir() -> Path:
    return Path(settings.INGEST_LOCK_DIR).resolve()


def allowed_roots() -> list[Path]:
    """Return the folders a scheduled scan may read; the inbox is always one."""
    roots = [Path(root).resolve() for root in settings.INGEST_ALLOWED_ROOTS]
    return [inbox_dir(), *roots]


def min_file_age() -> float:
    return float(settings.INGEST_MIN_FILE_AGE)


def redispatch_after() -> float:
    """Return the seconds a queued file waits before its message is resent."""
    return float(settings.INGEST_REDISPATCH_AFTER)


def max_attempts() -> int:
    return int(settings.INGEST_MAX_ATTEMPTS)


def max_reject_rate() -> float:
    """Return the share of invalid rows above which a whole file is refused."""
    return float(settings.INGEST_MAX_REJECT_RATE)


def max_file_size() -> int:
    """Return the largest inbox file imported, in bytes."""
    return int(settings.INGEST_MAX_FILE_SIZE)


def max_row_errors() -> int:
    """Return how many rejected rows are kept per file (the count stays exact)."""
    return int(settings.INGEST_MAX_ROW_ERRORS)


def csv_encoding() -> str:
    """Return the encoding every CSV is read in, or "" to detect it per file."""
    return str(settings.INGEST_CSV_ENCODING)


def progress_interval() -> float:
    return float(settings.INGEST_PROGRESS_INTERVAL)


def max_upload_size() -> int:
    """Return the largest upload accepted, in bytes."""
    return int(settings.INGEST_MAX_UPLOAD_SIZE)


def scan_interval() -> int:
    return int(settings.INGEST_SCAN_INTERVAL)


def notify_emails() -> list[str]:
    """Return who hears about finished imports: the setting, else ``ADMINS``."""
    emails = list(settings.INGEST_NOTIFY_EMAILS)
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
    return str(getattr(settings, "INGEST_METRICS_TOKEN", ""))


def archive_keep_days() -> int:
    """Return the days a finished file's stored copy is kept; 0 = forever."""
    return int(getattr(settings, "INGEST_ARCHIVE_KEEP_DAYS", 0) or 0)


def ledger_keep_days() -> int:
    """Return the days a finished ledger entry is kept; 0 = forever."""
    return int(getattr(settings, "INGEST_LEDGER_KEEP_DAYS", 0) or 0)
