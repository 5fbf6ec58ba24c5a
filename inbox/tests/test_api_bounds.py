"""Every input gets a 4xx or a success, never a 500, and every request's work is bounded
(issue 9): UTC offsets, dates at the calendar's edge, JSON nesting, search size."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inbox.models import Email
from inbox.tests.factories import EmailFactory, email_payload

pytestmark = pytest.mark.django_db

DEEP = "[" * 1000 + "]" * 1000


def _ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("offset", ["+17:38", "-23:59", "+15:59", "-16:00"])
def test_date_filters_take_any_utc_offset(api_client, offset):
    # PostgreSQL refuses offsets beyond ±15:59; the filter compares in UTC.
    email = EmailFactory(received_at=datetime(2024, 6, 1, tzinfo=UTC))
    response = api_client.get("/api/emails/", {"received_after": f"2024-01-01T00:00:00{offset}"})
    assert response.status_code == 200
    assert _ids(response) == {email.pk}
    response = api_client.get("/api/emails/", {"received_before": f"2024-01-01T00:00:00{offset}"})
    assert response.status_code == 200
    assert _ids(response) == set()


def test_an_offset_moment_that_leaves_the_calendar_is_a_400(api_client):
    for value in ("9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00"):
        response = api_client.get("/api/emails/", {"received_after": value})
        assert response.status_code == 400, value
        assert "received_after" in response.json()


def test_ingest_stores_received_at_with_any_offset_in_utc(api_client):
    response = api_client.post(
        "/api/emails/", email_payload(1, received_at="2024-01-01T12:00:00+17:38"), format="json"
    )
    assert response.status_code == 202, response.json()
    email = Email.objects.get(pk=response.json()["id"])
    assert email.received_at == datetime(2023, 12, 31, 18, 22, tzinfo=UTC)
    response = api_client.post(
        "/api/emails/", email_payload(2, received_at="9999-12-31T23:59:00-01:00"), format="json"
    )
    assert response.status_code == 400
    assert "received_at" in response.json()


@pytest.mark.parametrize(
    "path", ["/api/emails/", "/api/emails/batch/", "/api/emails/raw/", "corrections"]
)
def test_deeply_nested_json_is_a_400_on_every_json_endpoint(api_client, path):
    if path == "corrections":
        path = f"/api/emails/{EmailFactory().pk}/corrections/"
    response = api_client.post(path, DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper than 20 levels" in response.json()["detail"]
    # Within Python's recursion limit but past the bound: refused the same way.
    response = api_client.post(path, "[" * 21 + "]" * 21, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper" in response.json()["detail"]


def test_a_body_in_another_format_is_a_415(api_client):
    response = api_client.post(
        "/api/emails/", "message_id=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


def test_blank_and_bracket_only_message_ids_are_refused(api_client):
    for message_id in ("", "   ", "<>", "< <> >"):
        response = api_client.post(
            "/api/emails/", email_payload(message_id=message_id), format="json"
        )
        assert response.status_code == 400, message_id
        assert "message_id" in response.json()


def test_whitespace_text_with_html_counts_as_content(api_client):
    payload = email_payload(3, subject="", body_text="   ", body_html="<p>Where is my card?</p>")
    assert api_client.post("/api/emails/", payload, format="json").status_code == 202


def test_search_is_bounded_in_words_and_characters(api_client):
    email = EmailFactory(subject="Refund for card payment", body_text="please refund me")
    ok = api_client.get("/api/emails/", {"search": "refund card"})
    assert ok.status_code == 200 and _ids(ok) == {email.pk}
    too_many_words = api_client.get("/api/emails/", {"search": " ".join(["card"] * 11)})
    assert too_many_words.status_code == 400
    assert "at most 10 words" in too_many_words.json()["search"][0]
    too_long = api_client.get("/api/emails/", {"search": "x" * 201})
    assert too_long.status_code == 400
    assert "at most 200 characters" in too_long.json()["search"][0]


def test_search_matches_substrings_in_each_field_not_across_them(api_client):
    email = EmailFactory(subject="Card", body_text="arrived broken", sender="jo@bank.example")
    EmailFactory(subject="nothing", body_text="here")
    assert _ids(api_client.get("/api/emails/", {"search": "ARRIV"})) == {email.pk}
    assert _ids(api_client.get("/api/emails/", {"search": "bank.example card"})) == {email.pk}
    # "card" ends the subject and "arrived" starts the body: no word spans the two.
    assert _ids(api_client.get("/api/emails/", {"search": "cardarrived"})) == set()
