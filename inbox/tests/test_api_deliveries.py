"""The delivery log and each email's hand-off status over the REST API."""

from __future__ import annotations

import pytest
from django.utils import timezone

from inbox.handoff.models import Delivery, WebhookEndpoint
from inbox.models import Email
from inbox.tests.factories import EmailFactory

pytestmark = pytest.mark.django_db


def delivery(email: Email, status: str, kind: str = "webhook") -> Delivery:
    endpoint, _ = WebhookEndpoint.objects.get_or_create(name="helpdesk", url="https://h.example/in")
    return Delivery.objects.create(
        email=email, kind=kind, event="email.routed", endpoint=endpoint if kind == "webhook" else None,
        destination=endpoint.url if kind == "webhook" else "cards@helpdesk.example",
        payload={"type": "email.routed"}, status=status, next_attempt_at=timezone.now(),
    )  # fmt: skip


@pytest.fixture
def emails():
    """One email per hand-off status: none, sent, pending (one sent, one waiting), failed."""
    made = {s: EmailFactory(status=Email.Status.CLASSIFIED, intent="card_arrival") for s in
            ("none", "sent", "pending", "failed")}  # fmt: skip
    delivery(made["sent"], "sent")
    delivery(made["pending"], "sent")
    delivery(made["pending"], "pending", kind="email")
    delivery(made["failed"], "sent")
    delivery(made["failed"], "failed", kind="email")
    return made


def test_each_email_says_its_delivery_status_and_can_be_filtered_by_it(api_client, emails):
    listed = {r["id"]: r["delivery_status"] for r in api_client.get("/api/emails/").data["results"]}
    assert listed == {e.pk: status for status, e in emails.items()}
    for status, email in emails.items():
        response = api_client.get("/api/emails/", {"delivery_status": status})
        assert [r["id"] for r in response.data["results"]] == [email.pk], status
    assert api_client.get("/api/emails/", {"delivery_status": "lost"}).status_code == 400


def test_an_emails_detail_lists_its_deliveries(api_client, emails):
    data = api_client.get(f"/api/emails/{emails['failed'].pk}/").data
    assert data["delivery_status"] == "failed"
    assert sorted((d["kind"], d["status"]) for d in data["deliveries"]) == [
        ("email", "failed"), ("webhook", "sent"),
    ]  # fmt: skip
    assert data["deliveries"][0]["idempotency_key"].startswith("msg_")


def test_the_delivery_log_filters_by_email_status_and_kind(api_client, emails):
    everything = api_client.get("/api/deliveries/").data
    assert everything["count"] == 5
    by_email = api_client.get("/api/deliveries/", {"email": emails["pending"].pk}).data
    assert {r["status"] for r in by_email["results"]} == {"sent", "pending"}
    failed_mail = api_client.get("/api/deliveries/", {"status": "failed", "kind": "email"}).data
    assert [r["email"] for r in failed_mail["results"]] == [emails["failed"].pk]
    one = api_client.get(failed_mail["results"][0]["url"]).data
    assert one["payload"] == {"type": "email.routed"}
    assert api_client.get("/api/deliveries/", {"email": "x"}).status_code == 400
    assert api_client.get("/api/deliveries/", {"email": str(2**70)}).status_code == 400


def test_the_delivery_log_needs_a_login(client):
    assert client.get("/api/deliveries/").status_code == 401
