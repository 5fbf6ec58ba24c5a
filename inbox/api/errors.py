"""API errors: DRF's field-level messages, a JSON 413 for request bodies Django refuses,
and 503 with Retry-After while the classification backlog is over its limit."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from inbox.backpressure import Backlogged


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "Request body too large.", "code": "request_too_large"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Backlogged):
        return Response(
            {"detail": f"Busy: {exc}. Nothing was stored.", "code": "backlog"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(exc.retry_after)},
        )
    return drf_exception_handler(exc, context)
