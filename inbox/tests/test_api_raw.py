"""POST /api/emails/raw/: one raw RFC 822 message as an upload, as JSON or as the body."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from inbox.models import Email
from inbox.tests.rawmail import MALFORMED, NO_SENDER, NOTHING_READABLE, raw_email

pytestmark = pytest.mark.django_db

URL = "/api/emails/raw/"


def post_upload(client, raw: bytes, name: str = "mail.eml"):
    upload = SimpleUploadedFile(name, raw, content_type="message/rfc822")
    return client.post(URL, {"file": upload}, format="multipart")


def post_json(client, raw: bytes):
    return client.post(URL, {"raw": raw.decode("utf-8")}, format="json")


def post_body(client, raw: bytes):
    return client.generic("POST", URL, raw, content_type="message/rfc822")


SENDERS = [post_upload, post_json, post_body]


@pytest.mark.parametrize("send", SENDERS, ids=["upload", "json", "rfc822-body"])
def test_it_stores_a_raw_message_sent_each_way_with_202(api_client, send):
    html = "<p>My card <b>has not arrived</b></p><script>alert(1)</script>"
    raw = raw_email(1, html=html, cc="Partner <partner@customer.example>",
                    attachment=("statement.pdf", "application/pdf", b"%PDF-1.4" * 50))  # fmt: skip
    response = send(api_client, raw)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending"
    email = Email.objects.get(pk=body["id"])
    assert (email.message_id, email.source) == ("raw-1@customer.example", "raw")
    assert (email.sender, email.sender_name) == ("jane1@customer.example", "Jane Customer")
    assert email.recipients == ["support@bank.example", "partner@customer.example"]
    assert email.subject == "Card not arrived"
    assert email.received_at.isoformat() == "2024-03-01T09:30:01+00:00"
    assert "two weeks" in email.body_text
    assert "<script>" not in email.body_html and "has not arrived" in email.body_html
    assert email.attachments == [
        {"filename": "statement.pdf", "content_type": "application/pdf", "size": 400}
    ]
    assert email.parse_defects == []
    assert "two weeks" in email.model_input and "Thanks" not in email.model_input


@pytest.mark.parametrize("send", SENDERS, ids=["upload", "json", "rfc822-body"])
def test_a_repeated_message_is_a_409_duplicate_stored_once(api_client, send):
    first = send(api_client, raw_email(2))
    second = send(api_client, raw_email(2, subject="Same Message-ID, other subject"))
    assert (first.status_code, second.status_code) == (202, 409)
    assert second.json()["id"] == first.json()["id"]
    assert Email.objects.count() == 1


def test_a_message_without_message_id_dedupes_on_its_bytes(api_client):
    raw = raw_email(3, message_id=None)
    assert post_body(api_client, raw).status_code == 202
    assert post_body(api_client, raw).status_code == 409
    assert Email.objects.get().message_id.endswith("@cleaninbox.invalid")


def test_a_malformed_but_readable_message_is_stored_and_flagged(api_client):
    response = post_upload(api_client, MALFORMED)
    assert response.status_code == 202
    email = Email.objects.get(pk=response.json()["id"])
    assert email.body_text == "My card was declined at the shop"
    assert any("charset" in d for d in email.parse_defects)
    assert any("Date" in d for d in email.parse_defects)
    detail = api_client.get(f"/api/emails/{email.pk}/").json()
    assert detail["parse_defects"] == email.parse_defects


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [(NO_SENDER, "sender", "no sender"), (NOTHING_READABLE, "body_text", "Nothing readable")],
)
@pytest.mark.parametrize("send", SENDERS, ids=["upload", "json", "rfc822-body"])
def test_a_message_with_no_sender_or_no_text_is_refused_with_the_reason(
    api_client, send, raw, field, words
):
    response = send(api_client, raw)
    assert response.status_code == 400
    assert words in response.json()[field][0]
    assert Email.objects.count() == 0


@pytest.mark.parametrize(
    ("send", "field"), [(post_upload, "file"), (post_json, "raw"), (post_body, "raw")]
)
def test_an_oversize_message_is_refused_with_400(api_client, settings, send, field):
    settings.CLEANINBOX_MAX_BODY_BYTES = 2000
    raw = raw_email(4, body="x" * 3000)
    response = send(api_client, raw)
    assert response.status_code == 400
    assert "2000 bytes" in response.json()[field][0]
    assert Email.objects.count() == 0


@pytest.mark.parametrize(
    ("request_kwargs", "field"),
    [
        ({"data": {}, "format": "json"}, "raw"),
        ({"data": {"raw": 12}, "format": "json"}, "raw"),
        ({"data": {"raw": "   "}, "format": "json"}, "raw"),
        ({"data": b"", "content_type": "message/rfc822"}, "raw"),
    ],
    ids=["nothing", "not-a-string", "blank", "empty-body"],
)
def test_a_request_without_a_message_is_a_400(api_client, request_kwargs, field):
    response = api_client.post(URL, **request_kwargs)
    assert response.status_code == 400
    assert field in response.json()


def test_another_content_type_is_a_415(api_client):
    response = api_client.generic("POST", URL, b"hello", content_type="text/plain")
    assert response.status_code == 415


def test_json_text_with_a_lone_surrogate_is_stored_not_a_500(api_client):
    raw = (
        b'{"raw": "From: a@customer.example\\r\\nMessage-ID: <s@x>\\r\\n\\r\\n'
        b'card \\ud800 lost\\r\\n"}'
    )
    response = api_client.generic("POST", URL, raw, content_type="application/json")
    assert response.status_code == 202
    assert Email.objects.get().body_text == "card ? lost"


def test_anonymous_requests_get_401():
    assert post_body(APIClient(), raw_email(5)).status_code == 401


def test_raw_ingestion_shares_the_ingest_rate_limit(api_client, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"ingest": "3/min"})
    cache.clear()
    try:
        codes = [post_body(api_client, raw_email(n)).status_code for n in range(2)]
        codes.append(api_client.post("/api/emails/", {
            "message_id": "json-1@x", "sender": "a@customer.example", "subject": "card",
        }, format="json").status_code)  # fmt: skip
        codes.append(post_body(api_client, raw_email(9)).status_code)
    finally:
        cache.clear()
    assert codes == [202, 202, 202, 429]


def test_the_endpoint_is_documented_in_the_openapi_schema(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    if schema.status_code == 404:
        pytest.fail("no /api/schema/ route")
    operation = schema.json()["paths"]["/api/emails/raw/"]["post"]
    assert set(operation["requestBody"]["content"]) == {
        "multipart/form-data", "application/json", "message/rfc822",
    }  # fmt: skip
    assert {"202", "409"} <= set(operation["responses"])
