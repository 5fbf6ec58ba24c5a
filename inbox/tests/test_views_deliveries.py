"""The delivery log page, the retry button, and the email page's hand-off and
canned-reply panels."""

from __future__ import annotations

import pytest
from django.utils import timezone

from inbox.handoff.models import CannedReply, Delivery, WebhookEndpoint
from inbox.models import Email
from inbox.tests.factories import EmailFactory

pytestmark = pytest.mark.django_db


def delivery(email: Email, status: str, **fields) -> Delivery:
    endpoint, _ = WebhookEndpoint.objects.get_or_create(name="helpdesk", url="https://h.example/in")
    return Delivery.objects.create(
        email=email, kind="webhook", event="email.routed", endpoint=endpoint,
        destination=endpoint.url, payload={}, status=status, next_attempt_at=timezone.now(),
        **fields,
    )  # fmt: skip


@pytest.fixture
def routed():
    return EmailFactory(
        status=Email.Status.CLASSIFIED, intent="card_arrival", subject="Where is it"
    )


def test_the_log_lists_filters_and_counts_deliveries(client, agent, routed):
    delivery(routed, "sent", attempts=1, sent_at=timezone.now())
    delivery(routed, "failed", attempts=15, last_error="HTTP 503: down for maintenance")
    client.force_login(agent)
    page = client.get("/deliveries/").content.decode()
    assert page.count('data-delivery="') == 2
    assert "HTTP 503: down for maintenance" in page
    assert 'data-count="failed">1<' in page and 'data-count="sent">1<' in page
    assert "Retry</button>" not in page  # agents read the log; staff retry
    failed = client.get("/deliveries/?status=failed").content.decode()
    assert failed.count('data-delivery="') == 1


def test_only_staff_retry_and_a_retry_queues_the_row_again(client, agent, staff, routed):
    row = delivery(routed, "failed", attempts=15, last_error="boom")
    client.force_login(agent)
    assert client.post(f"/deliveries/{row.pk}/retry/").status_code == 403
    client.force_login(staff)
    assert "Retry</button>" in client.get("/deliveries/").content.decode()
    response = client.post(f"/deliveries/{row.pk}/retry/", {"next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/deliveries/"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 0)


def test_the_admin_action_retries_failed_rows_only(client, staff, routed):
    failed = delivery(routed, "failed", attempts=15)
    sent = delivery(routed, "sent", attempts=1)
    client.force_login(staff)
    response = client.post(
        "/admin/inbox/delivery/",
        {"action": "retry_now", "_selected_action": [failed.pk, sent.pk]},
        follow=True,
    )
    assert "1 failed deliveries queued again." in response.content.decode()
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, sent.status) == ("pending", "sent")


def test_the_email_page_shows_its_deliveries_and_escaped_canned_replies(client, agent, routed):
    delivery(routed, "pending", attempts=2, last_error="ConnectionError: refused")
    routed.sender_name = "<script>alert(1)</script>"
    routed.save()
    CannedReply.objects.create(
        intent="card_arrival", title="On its way", body="Dear {{ customer_name }}, <b>soon</b>."
    )
    client.force_login(agent)
    page = client.get(f"/emails/{routed.pk}/").content.decode()
    assert 'id="handoff"' in page and "ConnectionError: refused" in page
    assert 'id="canned-replies"' in page
    assert "Dear &lt;script&gt;alert(1)&lt;/script&gt;, &lt;b&gt;soon&lt;/b&gt;." in page
    assert "<script>alert(1)" not in page


def test_an_email_in_review_says_it_waits_for_routing(client, agent):
    email = EmailFactory(status=Email.Status.NEEDS_REVIEW, intent="card_arrival")
    client.force_login(agent)
    page = client.get(f"/emails/{email.pk}/").content.decode()
    assert "Handed off once routed" in page
