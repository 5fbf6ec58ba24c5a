"""Fuzz the API against its own OpenAPI schema (schemathesis, issue 9).

For every operation schemathesis generates valid and invalid requests from the schema
(a bounded number per operation: SCHEMATHESIS_MAX_EXAMPLES, default 25) and sends them to
the live test server with a real token; every check runs, response conformance included
(status codes and bodies as documented, no 5xx, valid data accepted, invalid data refused).
0 failures is the bar: a failure names the request to reproduce it.

Two checks are left out where the schema cannot say what the API does, each for one endpoint:
- batch/ answers invalid *items* with 200 and a per-item "rejected" (by design: one bad
  email must not sink the others), so "schema-invalid bodies are refused" does not apply;
  a batch that is not a list or is too long is still a 400.
- raw/ takes a whole RFC 822 message as a string; whether it has a sender and readable
  text is decided by parsing it, which JSON Schema cannot express, so "schema-valid bodies
  are accepted" does not apply (the 400 says what is missing).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
# raw/ also takes the message itself as a message/rfc822 body: bytes, sent as they are.
schemathesis.serializer.alias("message/rfc822", "application/octet-stream")


@pytest.fixture
def token(transactional_db, agent, monkeypatch):
    # Fuzzing sends hundreds of ingest requests; the rate limit has its own tests.
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"ingest": "100000/min"})
    return Token.objects.create(user=agent).key


# The schema as the server serves it (generated in-process: Django is set up by pytest-django
# before collection). Loaded eagerly; schemathesis's lazy fixture loader does not work with
# pytest 9 yet.
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_keeps_its_schema(case, token, live_server):
    excluded = {
        "/api/emails/batch/": [negative_data_rejection],
        "/api/emails/raw/": [positive_data_acceptance],
    }.get(case.path, [])
    case.call_and_validate(
        base_url=live_server.url,
        headers={"Authorization": f"Token {token}"},
        excluded_checks=excluded,
    )
