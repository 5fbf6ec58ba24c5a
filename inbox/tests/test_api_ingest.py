"""POST /api/emails/ and /api/emails/batch/: accepted, duplicates, bad input, auth."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from inbox.models import Email
from inbox.tests.factories import email_payload

pytestmark = pytest.mark.django_db

URL = "/api/emails/"


def test_it_accepts_an_email_with_202_and_pending_status(api_client):
    response = api_client.post(URL, email_payload(), format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    email = Email.objects.get(pk=body["id"])
    assert email.message_id == "api-0@customer.example"  # angle brackets stripped
    assert email.recipients == ["support@bank.example"]
    assert email.model_input  # the cleaned text the model will see


def test_it_reports_a_repeated_message_id_as_duplicate_and_stores_it_once(api_client):
    first = api_client.post(URL, email_payload(), format="json")
    second = api_client.post(URL, email_payload(subject="other"), format="json")
    assert second.status_code == 409
    assert second.json()["id"] == first.json()["id"]
    assert Email.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"message_id": None}, "message_id"),
        ({"sender": "not an address"}, "sender"),
        ({"subject": 12}, "subject"),
        ({"recipients": "support@bank.example"}, "recipients"),
        ({"body_text": "a\x00b"}, "body_text"),
        ({"received_at": "yesterday"}, "received_at"),
        ({"subject": "", "body_text": "", "body_html": ""}, "body_text"),
    ],
)
def test_it_rejects_bad_fields_with_a_field_level_message(api_client, change, field):
    payload = email_payload()
    payload.update(change)
    payload = {k: v for k, v in payload.items() if v is not None}
    response = api_client.post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Email.objects.count() == 0


def test_it_rejects_a_lone_surrogate_that_postgres_could_not_store(api_client):
    raw = b'{"message_id": "x@y", "sender": "a@b.example", "body_text": "lone \\ud800 surrogate"}'
    response = api_client.generic("POST", URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert "body_text" in response.json()


def test_it_rejects_an_oversize_body(api_client, settings):
    settings.CLEANINBOX_MAX_BODY_BYTES = 1000
    response = api_client.post(URL, email_payload(body_text="é" * 600), format="json")
    assert response.status_code == 400
    assert "1000 bytes" in response.json()["body_text"][0]


def test_it_rejects_invalid_utf8_json_with_400(api_client):
    response = api_client.generic(
        "POST", URL, b'{"subject": "\xff\xfe"}', content_type="application/json"
    )
    assert response.status_code == 400


def test_it_rejects_a_request_body_over_the_upload_limit_with_413(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    response = api_client.post(URL, email_payload(body_text="x" * 5000), format="json")
    assert response.status_code == 413


def test_anonymous_requests_get_401():
    client = APIClient()
    assert client.post(URL, email_payload(), format="json").status_code == 401
    assert client.get(URL).status_code == 401


def test_a_logged_in_person_can_use_the_api_with_a_session(agent):
    client = APIClient()
    client.force_login(agent)
    assert client.get(URL).status_code == 200


def test_ingestion_is_rate_limited(api_client, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import ScopedRateThrottle

    # DRF reads the rates once at import; the setting itself is CLEANINBOX_INGEST_RATE.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"ingest": "3/min"})
    cache.clear()
    try:
        codes = [
            api_client.post(URL, email_payload(n), format="json").status_code for n in range(5)
        ]
    finally:
        cache.clear()
    assert codes == [202, 202, 202, 429, 429]


def test_a_batch_reports_each_item_and_one_bad_item_does_not_sink_the_others(api_client):
    api_client.post(URL, email_payload(1), format="json")
    items = [
        email_payload(0),
        email_payload(1),  # duplicate of the one above
        {**email_payload(2), "sender": "nope"},
        "not an object",
        email_payload(3),
    ]
    response = api_client.post(URL + "batch/", items, format="json")
    assert response.status_code == 200
    body = response.json()
    assert [r["result"] for r in body["results"]] == [
        "accepted",
        "duplicate",
        "rejected",
        "rejected",
        "accepted",
    ]
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, 2)
    assert "sender" in body["results"][2]["errors"]
    assert Email.objects.count() == 3


def test_a_batch_must_be_a_list_and_not_too_long(api_client, settings):
    settings.CLEANINBOX_MAX_BATCH = 2
    assert api_client.post(URL + "batch/", {"a": 1}, format="json").status_code == 400
    too_many = [email_payload(n) for n in range(3)]
    assert api_client.post(URL + "batch/", too_many, format="json").status_code == 400
    assert Email.objects.count() == 0
