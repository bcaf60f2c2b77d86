"""The operator's endpoints: ``/metrics``, ``/healthz`` and ``/readyz``.

Thin views over :mod:`ingest.metrics` and :mod:`ingest.health`. The probes
are open (they say nothing but ok/fail and what failed); the metrics need a
staff session or ``Authorization: Bearer <INGEST_METRICS_TOKEN>``.
"""

import hmac

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from . import conf, health
from .metrics import metrics_text


def _bearer_ok(request: HttpRequest) -> bool:
    """Return whether the request carries the configured metrics token."""
    token = conf.metrics_token()
    scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Answer the ledger's metrics to staff or to the bearer of the token."""
    user = request.user
    if not (user.is_active and user.is_staff) and not _bearer_ok(request):
        response = HttpResponse(
            _("Log in as staff or send Authorization: Bearer <INGEST_METRICS_TOKEN>."),
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="inbox-ingest metrics"'
        return response
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Say the process is up; touch nothing else (a liveness probe)."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Run the readiness checks; 200 when all pass, 503 otherwise."""
    ready, answer = health.readiness()
    return JsonResponse(answer, status=200 if ready else 503)
