"""Faults of a backing service answer 503 with Retry-After instead of a 500.

A PostgreSQL restart or failover is over in seconds; a request that meets it gets a
clear "retry shortly" (JSON under /api/, a short page elsewhere) and nothing half-done:
each request runs in its own transaction (ATOMIC_REQUESTS is off, but every service
writes inside ``transaction.atomic``), so a failed one changed nothing.
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

from cleaninbox import metrics

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


class ServiceUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning(
            "database unavailable; answered 503",
            extra={"path": request.path, "error": f"{type(exception).__name__}: {exception}"},
        )
        metrics.SERVICE_UNAVAILABLE.labels(service="database").inc()
        detail = "The database is unavailable; retry shortly."
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": detail, "code": "service_unavailable"}, status=503)
        else:
            response = HttpResponse(detail, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
