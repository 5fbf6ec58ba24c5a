"""The ingest rate limit (CLEANINBOX_INGEST_RATE per API user), and what it does when Redis,
where it counts, is down or hung.

Decision: ingestion goes on and the limit keeps holding, per process. While Redis fails,
each web process counts in its own memory (Django's local-memory cache), so a client
still meets the limit in every process (at most N times the rate across N processes)
instead of none at all; a warning is logged and
``cleaninbox_service_unavailable_total{service="rate_limit_cache"}`` counts it. Redis is
tried again after ``RETRY_SECONDS``, so a hung Redis costs one short socket timeout per
process every ``RETRY_SECONDS``, not one per request. Refusing all ingestion while Redis
is down would lose mail senders cannot resend; not limiting at all would let one client
flood the database.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import caches
from rest_framework.throttling import ScopedRateThrottle

from cleaninbox import metrics

logger = logging.getLogger(__name__)
RETRY_SECONDS = 10.0


class _RedisOrLocalCache:
    """The ``throttle`` cache (Redis, errors raised) while it answers, else ``throttle_local``."""

    def __init__(self) -> None:
        self._skip_until = 0.0

    def get(self, key, default=None):
        return self._call("get", key, default)

    def set(self, key, value, timeout=None):
        return self._call("set", key, value, timeout)

    def _call(self, method: str, *args):
        if time.monotonic() >= self._skip_until:
            try:
                return getattr(caches["throttle"], method)(*args)
            except Exception as exc:  # django-redis wraps every Redis fault differently
                self._skip_until = time.monotonic() + RETRY_SECONDS
                metrics.SERVICE_UNAVAILABLE.labels(service="rate_limit_cache").inc()
                logger.warning(
                    "Redis unavailable for the ingest rate limit; counting per process",
                    extra={"error": f"{type(exc).__name__}: {exc}", "retry_seconds": RETRY_SECONDS},
                )
        return getattr(caches["throttle_local"], method)(*args)


class IngestRateThrottle(ScopedRateThrottle):
    """ScopedRateThrottle (scope ``ingest``) that keeps limiting when Redis is down."""

    cache = _RedisOrLocalCache()
