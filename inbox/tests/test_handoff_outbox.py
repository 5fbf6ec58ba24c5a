"""The outbox: which routings write which rows (in the routing's own transaction), the
retry policy, the lease, and a retry by hand. Sends go to a real HTTP receiver."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from classifier import services as classifier_services
from inbox import services
from inbox.handoff import outbox, receivers
from inbox.handoff.models import CannedReply, Delivery, WebhookEndpoint
from inbox.models import Email, IntentRoute, Priority, Team
from inbox.tests.factories import EmailFactory
from inbox.tests.handoff_servers import WebhookReceiver

CARD_ARRIVAL = "I still have not received my new card, it has been two weeks"


@pytest.fixture
def receiver():
    server = WebhookReceiver(
        secret="whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
    ).start()
    yield server
    server.stop()


@pytest.fixture
def endpoint(db, receiver):
    return WebhookEndpoint.objects.create(name="helpdesk", url=receiver.url, secret=receiver.secret)


@pytest.fixture
def cards(db):
    return Team.objects.create(name="Cards", slug="cards", email="cards@helpdesk.example")


def routed(intent: str = "card_arrival", **fields) -> Email:
    """An email the model classified (the signal fires as classification would send it)."""
    email = EmailFactory(
        status=Email.Status.CLASSIFIED, intent=intent, predicted_intent=intent, confidence=0.93,
        model_version="baseline-test", **fields,
    )  # fmt: skip
    with transaction.atomic():
        receivers.enqueue([email.pk], "classified")
    return email


@pytest.mark.django_db
def test_a_classified_email_is_queued_once_per_destination(endpoint, cards):
    email = routed(team=cards, priority=Priority.URGENT, sender_name="Jane Doe")
    rows = list(Delivery.objects.filter(email=email).order_by("kind"))
    assert [(r.kind, r.destination) for r in rows] == [
        ("email", "cards@helpdesk.example"),
        ("webhook", endpoint.url),
    ]
    assert {r.event for r in rows} == {"email.routed"}
    assert all(r.status == "pending" and r.attempts == 0 for r in rows)
    data = rows[0].payload["data"]
    assert data["intent"]["name"] == "card_arrival"
    assert data["intent"]["set_by"] == "model"
    assert data["team"] == {"slug": "cards", "name": "Cards", "email": "cards@helpdesk.example"}
    assert data["priority"] == "urgent"
    assert data["email"]["from"] == {"address": email.sender, "name": "Jane Doe"}


@pytest.mark.django_db
def test_an_email_in_review_waits_for_an_agent_then_is_handed_off(active_model, endpoint, settings):
    settings.CLEANINBOX_REVIEW_THRESHOLD = 0.6  # the model's answer goes to review
    email = EmailFactory(subject="", body_text="help with card payment")
    email.model_input = ""
    email.save()
    classifier_services.classify_emails([email.pk])
    email.refresh_from_db()
    assert email.status == Email.Status.NEEDS_REVIEW
    assert not Delivery.objects.exists()

    services.record_correction(email, email.intent, user=None, via="ui")  # the agent accepts
    (row,) = Delivery.objects.all()
    assert row.event == "email.routed"
    assert row.payload["data"]["intent"]["set_by"] == "agent"


@pytest.mark.django_db
def test_the_model_routing_an_email_queues_it_in_the_same_write(active_model, endpoint, settings):
    settings.CLEANINBOX_REVIEW_THRESHOLD = 0.01
    email = EmailFactory(subject="", body_text=CARD_ARRIVAL)
    email.model_input = ""
    email.save()
    classifier_services.classify_emails([email.pk])
    (row,) = Delivery.objects.all()
    assert row.email_id == email.pk
    assert row.payload["data"]["intent"]["model_version"] == active_model.version


@pytest.mark.django_db
def test_a_routing_that_rolls_back_leaves_no_delivery(endpoint):
    email = EmailFactory(status=Email.Status.NEEDS_REVIEW, intent="card_arrival")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.record_correction(email, "lost_or_stolen_card", user=None)
        assert Delivery.objects.count() == 1  # written inside the transaction...
        raise RuntimeError("the request failed after the correction")
    assert Delivery.objects.count() == 0  # ...and gone with it
    email.refresh_from_db()
    assert email.intent == "card_arrival"


@pytest.mark.django_db
def test_confirming_sends_nothing_and_a_correction_sends_a_reroute(endpoint, cards):
    security = Team.objects.create(name="Security", slug="security")
    # Real routes, so the corrections below re-route through inbox.triage.
    IntentRoute.objects.update_or_create(key="card_arrival", defaults={"team": cards})
    IntentRoute.objects.update_or_create(key="lost_or_stolen_card", defaults={"team": security})
    email = routed(team=cards)
    services.record_correction(email, "card_arrival", user=None)  # the same intent: confirmed
    assert Delivery.objects.count() == 2  # the webhook and the team mailbox, once each

    services.record_correction(email, "lost_or_stolen_card", user=None)
    rerouted = list(Delivery.objects.filter(event="email.rerouted"))
    # The webhook is told; the new team has no mailbox, the old one gets no mail.
    assert [(r.kind, r.destination) for r in rerouted] == [("webhook", endpoint.url)]
    data = rerouted[0].payload["data"]
    assert data["previous"] == {"intent": "card_arrival", "team": "cards"}
    assert data["intent"]["name"] == "lost_or_stolen_card"
    assert data["team"]["slug"] == "security"


@pytest.mark.django_db
def test_team_filters_events_and_inactive_endpoints(endpoint, cards):
    loans = Team.objects.create(name="Loans", slug="loans")
    only_loans = WebhookEndpoint.objects.create(name="loans-desk", url="http://127.0.0.1:9/l")
    only_loans.teams.add(loans)
    WebhookEndpoint.objects.create(name="off", url="http://127.0.0.1:9/off", active=False)
    WebhookEndpoint.objects.create(
        name="reroutes-only", url="http://127.0.0.1:9/r", events=["email.rerouted"]
    )
    routed(team=cards)
    assert sorted(Delivery.objects.values_list("destination", flat=True)) == sorted(
        [endpoint.url, "cards@helpdesk.example"]
    )


@pytest.mark.django_db
def test_the_payload_carries_the_canned_replies_rendered_for_the_customer(endpoint):
    CannedReply.objects.create(
        intent="card_arrival", title="Card on its way",
        body="Dear {{ first_name }}, your card ({{ reference }}) is on its way.",
    )  # fmt: skip
    CannedReply.objects.create(intent="card_arrival", title="Old", body="x", active=False)
    email = routed(sender_name="Jane Doe")
    (row,) = Delivery.objects.all()
    assert row.payload["data"]["canned_replies"] == [
        {"title": "Card on its way", "body": f"Dear Jane, your card (CI-{email.pk}) is on its way."}
    ]


@pytest.mark.django_db
def test_a_sent_row_is_signed_and_marked_sent(endpoint, receiver):
    email = routed()
    summary = outbox.deliver_due()
    assert summary.sent == 1
    row = Delivery.objects.get()
    assert (row.status, row.attempts, row.last_status_code) == ("sent", 1, 200)
    assert row.sent_at is not None and row.claimed_until is None
    (request,) = receiver.requests
    assert request.signature_ok
    assert request.headers["webhook-id"] == row.webhook_id
    assert request.payload["data"]["email"]["id"] == email.pk


@pytest.mark.django_db
def test_a_receiver_refusing_the_signature_is_retried(endpoint, receiver):
    endpoint.secret = "whsec_" + "d3JvbmctZm9yLXRoZS1yZWNlaXZlci0xMjM0NTY3OA=="
    endpoint.save()
    routed()
    outbox.deliver_due()
    row = Delivery.objects.get()
    assert receiver.requests and not receiver.requests[0].signature_ok
    assert (row.status, row.last_status_code) == ("pending", 401)
    assert "HTTP 401" in row.last_error


@pytest.mark.django_db
def test_failures_back_off_then_the_row_fails_for_good_and_a_person_retries_it(
    endpoint, receiver, settings
):
    settings.CLEANINBOX_HANDOFF_RETRY_BASE_SECONDS = 10
    settings.CLEANINBOX_HANDOFF_MAX_ATTEMPTS = 3
    receiver.behaviour = lambda request: 503
    routed()
    delays = []
    for attempt in range(1, 4):
        before = timezone.now()
        Delivery.objects.update(next_attempt_at=before)  # due now, whatever the back-off said
        outbox.deliver_due()
        row = Delivery.objects.get()
        assert row.attempts == attempt
        delays.append((row.next_attempt_at - before).total_seconds())
    assert row.status == "failed"
    assert row.last_error.startswith("HTTP 503") and row.last_status_code == 503
    # Equal jitter: attempt n waits between half and all of 10·2^(n-1) seconds.
    assert 5 <= delays[0] <= 10.5 and 10 <= delays[1] <= 20.5

    receiver.behaviour = None
    assert outbox.retry([row]) == 1
    outbox.deliver_due()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
    assert len(receiver.processed) == 1


@pytest.mark.django_db
def test_a_row_past_its_max_age_fails_after_one_more_try(endpoint, receiver, settings):
    receiver.behaviour = lambda request: 500
    routed()
    Delivery.objects.update(queued_at=timezone.now() - timedelta(days=4))
    outbox.deliver_due()
    assert Delivery.objects.get().status == "failed"


def test_backoff_doubles_up_to_the_ceiling(settings):
    settings.CLEANINBOX_HANDOFF_RETRY_BASE_SECONDS = 15
    settings.CLEANINBOX_HANDOFF_RETRY_MAX_SECONDS = 3600
    import random

    rng = random.Random(7)
    for attempts, full in [(1, 15), (2, 30), (5, 240), (12, 3600), (30, 3600)]:
        delays = [outbox.backoff(attempts, rng) for _ in range(200)]
        assert full / 2 <= min(delays) and max(delays) <= full
        assert max(delays) - min(delays) > full / 4  # jittered, not fixed


@pytest.mark.django_db
def test_rows_claimed_by_a_worker_that_died_come_back_when_the_lease_ends(
    endpoint, receiver, settings
):
    routed()
    settings.CLEANINBOX_HANDOFF_LEASE_SECONDS = 60
    (taken,) = outbox.claim()  # a worker claims the row, then is killed before sending
    assert outbox.claim() == []  # others skip it while the lease holds
    assert outbox.deliver_due().sent == 0
    Delivery.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))  # lease over
    assert outbox.deliver_due().sent == 1
    row = Delivery.objects.get()
    assert (row.status, row.attempts) == ("sent", 2)  # the lost attempt counts
    assert taken.webhook_id == receiver.requests[0].headers["webhook-id"]


@pytest.mark.django_db
def test_a_receiver_that_times_out_costs_one_timeout_per_run_and_others_go_on(
    endpoint, receiver, settings
):
    settings.CLEANINBOX_HANDOFF_TIMEOUT = 0.5
    stalled = WebhookReceiver(secret=receiver.secret).start()
    stalled.behaviour = lambda request: time.sleep(1.5)
    try:
        slow = WebhookEndpoint.objects.create(name="slow", url=stalled.url, secret=receiver.secret)
        for _ in range(3):
            routed()
        started = time.monotonic()
        summary = outbox.deliver_due()
        took = time.monotonic() - started
    finally:
        stalled.stop()
    assert len(stalled.requests) == 1  # one timeout, then its other rows wait
    assert (summary.sent, summary.retrying) == (3, 3)
    assert took < 3
    skipped = Delivery.objects.filter(endpoint=slow).exclude(last_error__startswith="Read")
    assert [r.last_error[:11] for r in skipped] == ["not tried: "] * 2


@pytest.mark.django_db
def test_rows_left_when_the_budget_runs_out_are_handed_back_untried(endpoint, receiver):
    receiver.behaviour = lambda request: time.sleep(0.3)
    for _ in range(3):
        routed()
    summary = outbox.deliver_due(budget_seconds=0.1)
    assert summary.sent == 1
    waiting = Delivery.objects.filter(status="pending")
    assert [(r.attempts, r.claimed_until) for r in waiting] == [(0, None), (0, None)]
    assert summary.next_due is not None
