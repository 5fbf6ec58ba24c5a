"""/metrics, /healthz and /readyz for the web app.

/metrics merges every gunicorn worker's values when PROMETHEUS_MULTIPROC_DIR is set
(prometheus_client's multiprocess mode, see gunicorn.conf.py) and adds the figures read at
scrape time. django-prometheus's ExportToDjangoView is not used because it cannot add
those collectors to the multiprocess registry or restrict access.
"""

from __future__ import annotations

import os
import threading

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from cleaninbox.monitoring import access, health
from cleaninbox.monitoring.collectors import COLLECTOR


def metrics_allowed(request: HttpRequest) -> bool:
    return access.allowed(
        request.META.get("REMOTE_ADDR"),
        request.META.get("HTTP_AUTHORIZATION"),
        settings.CLEANINBOX_METRICS_ALLOWED_NETWORKS,
        settings.CLEANINBOX_METRICS_TOKEN,
    )


def registry() -> CollectorRegistry:
    """Every process's values merged (multiprocess mode) or this process's, plus the
    scrape-time figures."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)
        merged.register(COLLECTOR)
        return merged
    with _register_lock:
        global _registered
        if not _registered:
            REGISTRY.register(COLLECTOR)
            _registered = True
    return REGISTRY


_register_lock = threading.Lock()
_registered = False


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        response = HttpResponse("metrics: loopback or bearer token only\n", status=403)
        if settings.CLEANINBOX_METRICS_TOKEN:
            response.status_code = 401
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers HTTP. Touches nothing else, so a database outage
    does not get every web container restarted."""
    return JsonResponse({"status": "alive"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, Redis, a usable model and a recent beat sweep; 503 if any fails."""
    ready, checks = health.readiness()
    return JsonResponse(
        {"status": "ready" if ready else "unready", "checks": checks}, status=200 if ready else 503
    )
