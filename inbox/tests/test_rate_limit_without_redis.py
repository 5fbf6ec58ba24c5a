"""With Redis down or hung, the ingest rate limit keeps holding per process and ingestion
goes on (the decision is documented in inbox.api.throttling and the README)."""

from __future__ import annotations

import time

import pytest
from rest_framework.throttling import ScopedRateThrottle

from inbox.api import throttling
from inbox.models import Email
from inbox.tests.factories import email_payload
from tests import localservices

pytestmark = pytest.mark.django_db
URL = "/api/emails/"


@pytest.fixture
def three_per_minute(monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"ingest": "3/min"})
    monkeypatch.setattr(throttling.IngestRateThrottle, "cache", throttling._RedisOrLocalCache())
    from django.core.cache import caches

    caches["throttle_local"].clear()
    yield
    caches["throttle_local"].clear()


def _throttle_redis(settings, url: str) -> None:
    # Changing CACHES makes Django drop its cache connections (a setting_changed receiver).
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {**settings.CACHES["throttle"], "LOCATION": url},
    }


def test_with_redis_down_the_limit_still_holds_and_mail_is_stored(
    api_client, settings, three_per_minute
):
    # A port where nothing listens: every Redis call fails at once.
    _throttle_redis(settings, f"redis://127.0.0.1:{localservices.free_port()}/0")
    codes = [api_client.post(URL, email_payload(n), format="json").status_code for n in range(5)]
    assert codes == [202, 202, 202, 429, 429]
    assert Email.objects.count() == 3


def test_a_hung_redis_costs_one_short_timeout_not_one_per_request(
    api_client, settings, three_per_minute
):
    with localservices.redis() as redis:
        _throttle_redis(settings, redis.url)
        redis.freeze()  # SIGSTOP: connections are accepted, nothing answers
        started = time.monotonic()
        codes = [
            api_client.post(URL, email_payload(n), format="json").status_code for n in range(5)
        ]
        elapsed = time.monotonic() - started
        redis.thaw()
    assert codes == [202, 202, 202, 429, 429]
    # One 0.5 s socket timeout (then Redis is skipped for RETRY_SECONDS), not five.
    assert elapsed < 3.0, elapsed
