"""The hand-off in the browser: the delivery log with a failed delivery retried by hand,
and the email page's hand-off and suggested-reply panels."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inbox.handoff import outbox
from inbox.handoff.models import CannedReply, Delivery, WebhookEndpoint
from inbox.models import Email
from inbox.tests.handoff_servers import WebhookReceiver

pytestmark = pytest.mark.timeout(120)

SECRET = "whsec_" + "ZTJlLWhhbmQtb2ZmLXNlY3JldC1mb3ItdGhlLWJyb3dzZXI="
ARRIVAL = (
    "My new card still hasn't arrived",
    "Hello, I ordered my card two weeks ago and it still has not arrived. When will I get it?",
)


@pytest.fixture
def receiver():
    server = WebhookReceiver(secret=SECRET).start()
    yield server
    server.stop()


def test_a_lead_sees_what_went_where_and_retries_a_failed_delivery(
    browse, deliver, staff, receiver, settings
):
    settings.CLEANINBOX_HANDOFF_MAX_ATTEMPTS = 1
    WebhookEndpoint.objects.create(name="Zendesk", url=receiver.url, secret=SECRET)
    down = WebhookEndpoint.objects.create(name="Old CRM", url="http://127.0.0.1:9/hooks")
    CannedReply.objects.create(
        intent="card_arrival", title="Card on its way",
        body="Dear {{ first_name }},\n\nYour card was sent on its way; it arrives within "
        "5 working days. Reference: {{ reference }}.",
    )  # fmt: skip
    email = deliver(*ARRIVAL, sender_name="Jane Customer")
    assert (email.status, email.intent) == (Email.Status.CLASSIFIED, "card_arrival")
    outbox.deliver_due()
    assert set(Delivery.objects.values_list("endpoint__name", "status")) == {
        ("Zendesk", "sent"), ("Old CRM", "failed"),
    }  # fmt: skip

    b = browse()
    page = b.login("lead", "lead-pass-123")
    page.click("nav.topnav >> text=Deliveries")
    rows = page.locator("table.delivery-log tbody tr")
    expect(rows).to_have_count(2)
    failed = page.locator("tr.delivery-failed")
    expect(failed).to_contain_text("Old CRM")
    expect(failed.locator(".delivery-error")).to_contain_text("ConnectionError")
    expect(page.locator("tr.delivery-sent")).to_contain_text("Zendesk")
    b.screenshot("deliveries")

    down.url = receiver.url  # the receiver is fixed
    down.secret = SECRET
    down.save()
    failed.locator("button:has-text('Retry')").click()
    expect(page.locator(".message-success")).to_contain_text("queued again")
    expect(page.locator("tr.delivery-pending")).to_have_count(1)
    outbox.deliver_due()
    page.reload()
    expect(page.locator("tr.delivery-sent")).to_have_count(2)
    assert len(receiver.processed) == 2

    page.click(f"a[href='/emails/{email.pk}/']")
    panel = page.locator("#handoff")
    expect(panel.locator("li.delivery-sent")).to_have_count(2)
    reply = page.locator("#canned-replies textarea")
    expect(reply).to_have_value(
        "Dear Jane,\n\nYour card was sent on its way; it arrives within 5 working days. "
        f"Reference: CI-{email.pk}."
    )
    b.screenshot("email-handoff")
    assert not b.errors and not b.offsite
