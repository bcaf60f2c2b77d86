"""POST a finished file's summary to its inbox's webhook, signed.

The body is the task result's JSON summary (status, counts, seconds,
inbox, dataset, error) plus ``event`` and ``finished_at``. With a secret
set on the inbox, ``X-Ingest-Signature: sha256=<hex>`` carries the
HMAC-SHA256 of the exact body bytes under it; receivers recompute it and
compare in constant time. Delivery is at least once: a receiver dedupes on
``X-Ingest-Delivery``.

A webhook never blocks or fails an import: it runs in its own task, after
the outcome has committed, and its own outcome is recorded on the ledger
(``webhook_state``, ``webhook_error``, ``webhooked_at``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.request
from urllib.error import HTTPError, URLError

from django.utils import timezone

from . import conf
from .models import InboxFile

logger = logging.getLogger(__name__)

Notify = InboxFile.Notify
#: Header with the HMAC-SHA256 of the body under the inbox's secret.
SIGNATURE_HEADER = "X-Ingest-Signature"
#: Header naming this outcome of this file, the same on every retry.
DELIVERY_HEADER = "X-Ingest-Delivery"


class WebhookFailed(Exception):
    """A delivery failed and may be tried again."""


def webhook_max_retries() -> int:
    return conf.webhook_max_retries()


def webhook_backoff(retries: int) -> float:
    """Return the seconds before retry number *retries* + 1 (doubling, capped)."""
    return min(conf.webhook_retry_delay() * 2**retries, 600.0)


def body_sign(body: bytes, secret: str) -> str:
    """Return the signature header's value for *body* under *secret*."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_valid(body: bytes, secret: str, header: str) -> bool:
    """Return whether *header* signs *body* under *secret* (for receivers)."""
    return hmac.compare_digest(body_sign(body, secret), header.strip())


def file_payload(row: InboxFile) -> dict:
    """Return what the webhook says about a finished file."""
    from .services.imports import file_summary

    return {
        "event": "file.finished",
        **file_summary(row),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # A 3xx is an answer to record, not a place to re-POST to.


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    if not url.startswith(("http://", "https://")):
        raise URLError(f"not an http(s) URL: {url!r}")
    # Checked above: never file: or another scheme urllib would open.
    request = urllib.request.Request(  # noqa: S310
        url, data=body, headers=headers, method="POST"
    )
    with _opener.open(request, timeout=conf.webhook_timeout()) as response:
        return response.status


def file_webhook(*, file_id: int, last_attempt: bool = True) -> str:
    """Send the webhook of a finished file; return its webhook state.

    Sends while the ledger says pending or sending (a retry); a file whose
    webhook went out, or that was re-queued since, is left alone. A failure
    is recorded; unless *last_attempt* it raises :class:`WebhookFailed` so
    the task retries, else the state becomes failed.
    """
    if not InboxFile.objects.filter(
        pk=file_id,
        state__in=InboxFile.FINAL_STATES,
        webhook_state__in=[Notify.PENDING, Notify.SENDING],
    ).update(webhook_state=Notify.SENDING):
        return "unchanged"
    row = InboxFile.objects.select_related("inbox").get(pk=file_id)
    inbox = row.inbox
    if inbox is None or not inbox.webhook_url:
        _record(file_id, Notify.SKIPPED, "The inbox has no webhook URL.")
        return Notify.SKIPPED
    body = json.dumps(file_payload(row), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "inbox-ingest webhook",
        DELIVERY_HEADER: f"{row.pk}-{row.finished_at.timestamp():.6f}"
        if row.finished_at
        else str(row.pk),
    }
    if inbox.webhook_secret:
        headers[SIGNATURE_HEADER] = body_sign(body, inbox.webhook_secret)
    try:
        status = _post(inbox.webhook_url, body, headers)
    except HTTPError as exc:
        error = f"HTTP {exc.code} {exc.reason}"
    except (URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        error = f"{type(exc).__name__}: {reason}"
    else:
        if 200 <= status < 300:
            _record(file_id, Notify.SENT, "")
            return Notify.SENT
        error = f"HTTP {status}"
    logger.warning(
        "Webhook of file #%s to %s failed: %s", file_id, inbox.webhook_url, error
    )
    if last_attempt:
        _record(file_id, Notify.FAILED, error[:1000])
        return Notify.FAILED
    InboxFile.objects.filter(pk=file_id, webhook_state=Notify.SENDING).update(
        webhook_error=f"{error} (will retry)"[:1000]
    )
    raise WebhookFailed(error)


def _record(file_id: int, state: str, error: str) -> None:
    InboxFile.objects.filter(pk=file_id).update(
        webhook_state=state, webhook_error=error, webhooked_at=timezone.now()
    )
