"""GET /api/emails/ (filters, pagination), GET one, POST a correction, GET intents."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Correction, Email
from inbox.tests.factories import EmailFactory

pytestmark = pytest.mark.django_db


def _ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def test_it_filters_by_intent_status_review_dates_and_text(api_client):
    now = timezone.now()
    arrival = EmailFactory(intent="card_arrival", status=Email.Status.CLASSIFIED, received_at=now)
    review = EmailFactory(
        intent="lost_or_stolen_card",
        status=Email.Status.NEEDS_REVIEW,
        subject="Stolen wallet",
        body_text="someone took my wallet",
        received_at=now - timedelta(days=3),
    )
    old = EmailFactory(
        status=Email.Status.PENDING, received_at=now - timedelta(days=30), body_text="exchange rate"
    )

    assert _ids(api_client.get("/api/emails/", {"intent": "card_arrival"})) == {arrival.pk}
    assert _ids(api_client.get("/api/emails/", {"status": "pending"})) == {old.pk}
    assert _ids(api_client.get("/api/emails/", {"needs_review": "true"})) == {review.pk}
    assert _ids(api_client.get("/api/emails/", {"needs_review": "false"})) == {arrival.pk, old.pk}
    after = (now - timedelta(days=7)).isoformat()
    assert _ids(api_client.get("/api/emails/", {"received_after": after})) == {
        arrival.pk,
        review.pk,
    }
    assert _ids(api_client.get("/api/emails/", {"search": "WALLET took"})) == {review.pk}


def test_it_paginates_newest_first(api_client):
    now = timezone.now()
    emails = [EmailFactory(received_at=now - timedelta(minutes=i)) for i in range(5)]
    page = api_client.get("/api/emails/", {"page_size": 2}).json()
    assert page["count"] == 5
    assert [r["id"] for r in page["results"]] == [emails[0].pk, emails[1].pk]
    assert page["next"]


def test_it_rejects_an_unknown_status_filter(api_client):
    response = api_client.get("/api/emails/", {"status": "sleeping"})
    assert response.status_code == 400
    assert "status" in response.json()


def test_a_correction_keeps_who_when_the_model_answer_and_the_new_label(api_client, agent):
    email = EmailFactory(
        intent="card_arrival",
        predicted_intent="card_arrival",
        confidence=0.41,
        model_version="tfidf-x",
        status=Email.Status.NEEDS_REVIEW,
    )
    response = api_client.post(
        f"/api/emails/{email.pk}/corrections/", {"intent": "card_delivery_estimate"}, format="json"
    )
    assert response.status_code == 201
    correction = Correction.objects.get()
    assert (correction.user, correction.previous_intent, correction.new_intent) == (
        agent,
        "card_arrival",
        "card_delivery_estimate",
    )
    assert (correction.model_intent, correction.model_confidence, correction.model_version) == (
        "card_arrival",
        0.41,
        "tfidf-x",
    )
    email.refresh_from_db()
    assert (email.intent, email.predicted_intent, email.status) == (
        "card_delivery_estimate",
        "card_arrival",
        "classified",
    )
    assert email.corrected_by == agent

    detail = api_client.get(f"/api/emails/{email.pk}/").json()
    assert detail["corrections"][0]["new_intent"] == "card_delivery_estimate"
    assert detail["corrections"][0]["user"] == "agent"


def test_a_correction_to_an_unknown_intent_is_a_field_error(api_client):
    email = EmailFactory()
    response = api_client.post(
        f"/api/emails/{email.pk}/corrections/", {"intent": "card_arrivals"}, format="json"
    )
    assert response.status_code == 400
    assert "intent" in response.json()
    assert not Correction.objects.exists()


def test_intents_lists_all_77_with_titles(api_client):
    data = api_client.get("/api/intents/").json()
    assert len(data) == 77
    assert {"name": "reverted_card_payment?", "title": "Reverted card payment?"} in data


def test_the_openapi_schema_and_docs_are_served_offline(api_client, client, agent):
    schema = api_client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/emails/batch/" in schema.content
    client.force_login(agent)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()


def test_search_finds_an_html_only_email_by_its_text(api_client):
    email = EmailFactory(
        subject="",
        body_text="",
        body_html="<p>My <b>refund</b> is late</p>",
        model_input="My refund is late",
    )
    assert _ids(api_client.get("/api/emails/", {"search": "refund"})) == {email.pk}
