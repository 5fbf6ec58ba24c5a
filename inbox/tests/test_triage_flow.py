"""Triage end to end on the real database: the batch write, corrections, "handled",
set-aside mail at ingest, re-routing, and the signal receivers see the team."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from classifier import services as classifier_services
from inbox import services, signals
from inbox.models import Email, IntentRoute, Priority, RoutingRule, Team
from inbox.services import IncomingEmail
from inbox.tests.factories import EmailFactory

pytestmark = pytest.mark.django_db

LOST = "I lost my card yesterday, somebody may have stolen it, please block it"
ARRIVAL = "I still have not received my new card, it has been two weeks"


@pytest.fixture
def teams():
    cards = Team.objects.create(name="Cards", slug="cards")
    security = Team.objects.create(name="Security", slug="security")
    support = Team.objects.create(name="Support", slug="support", is_default=True)
    vip = Team.objects.create(name="Private banking", slug="vip")
    IntentRoute.objects.filter(key="Cards").update(team=cards)
    IntentRoute.objects.filter(key="lost_or_stolen_card").update(team=security)
    RoutingRule.objects.create(
        position=10, kind="header", header="X-Customer-Tier", pattern="vip", team=vip
    )
    return {"cards": cards, "security": security, "support": support, "vip": vip}


def pending(body: str, **kw) -> Email:
    email = EmailFactory(subject="", body_text=body, **kw)
    email.model_input = ""
    email.save()
    return email


def test_a_batch_writes_team_priority_and_deadline_in_its_one_update(active_model, teams):
    lost = pending(LOST)
    arrival = pending(ARRIVAL)
    vip = pending(ARRIVAL, headers={"x-customer-tier": "VIP"})
    with CaptureQueriesContext(connection) as queries:
        assert classifier_services.classify_emails([lost.pk, arrival.pk, vip.pk]) == 3
    updates = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    # The lease (claim) and the answers: one statement each for the whole batch.
    assert len(updates) == 2 and "sla_due_at = v.sla_due_at" in updates[1]
    policy_reads = [q for q in queries if "inbox_routingrule" in q["sql"]]
    assert len(policy_reads) == 1  # once per batch, not per email
    for email in (lost, arrival, vip):
        email.refresh_from_db()
    assert lost.intent == "lost_or_stolen_card"
    assert (lost.team, lost.priority) == (teams["security"], Priority.URGENT)
    assert lost.sla_due_at == lost.received_at + timedelta(hours=1)
    assert (arrival.team, arrival.priority) == (teams["cards"], Priority.NORMAL)
    assert arrival.sla_due_at == arrival.received_at + timedelta(hours=24)
    assert vip.team == teams["vip"]


def test_the_query_count_of_a_batch_does_not_grow_with_its_size(active_model, teams):
    def queries_for(n: int) -> int:
        ids = [pending(ARRIVAL).pk for _ in range(n)]
        with CaptureQueriesContext(connection) as queries:
            classifier_services.classify_emails(ids)
        return len(queries)

    assert queries_for(2) == queries_for(12)


def test_receivers_of_emails_routed_see_the_team_in_the_same_transaction(active_model, teams):
    seen = {}

    def receiver(sender, email_ids, cause, **kw):
        seen[cause] = list(
            Email.objects.filter(pk__in=email_ids).values_list("team__slug", flat=True)
        )

    signals.emails_routed.connect(receiver)
    try:
        email = pending(LOST)
        classifier_services.classify_emails([email.pk])
        services.record_correction(email, "card_arrival", None, via="api")
    finally:
        signals.emails_routed.disconnect(receiver)
    assert seen == {"classified": ["security"], "corrected": ["cards"]}


def test_a_correction_moves_the_email_to_the_new_intents_team_and_counts_as_handled(
    active_model, teams, agent
):
    email = pending(ARRIVAL)
    classifier_services.classify_emails([email.pk])
    email.refresh_from_db()
    assert (email.team, email.first_handled_at) == (teams["cards"], None)
    services.record_correction(email, "lost_or_stolen_card", agent, via="ui")
    email.refresh_from_db()
    assert (email.team, email.priority) == (teams["security"], Priority.URGENT)
    assert email.sla_due_at == email.received_at + timedelta(hours=1)
    assert email.first_handled_at == email.corrected_at
    # A second correction re-routes again but keeps the first handling's time.
    first = email.first_handled_at
    services.record_correction(email, "exchange_rate", agent, via="ui")
    email.refresh_from_db()
    assert (email.team, email.priority, email.first_handled_at) == (
        teams["support"], Priority.NORMAL, first,
    )  # fmt: skip


def test_marking_handled_stops_the_clock_once(agent):
    email = EmailFactory(status=Email.Status.CLASSIFIED, sla_due_at=timezone.now())
    assert services.mark_handled(email, agent) is True
    email.refresh_from_db()
    handled_at = email.first_handled_at
    assert handled_at is not None
    assert services.mark_handled(email, agent) is False
    email.refresh_from_db()
    assert email.first_handled_at == handled_at


def test_automatic_mail_is_routed_at_ingest_without_an_sla(teams):
    RoutingRule.objects.create(
        position=1, kind="sender_domain", pattern="shop.example", team=teams["cards"]
    )
    [aside, person] = services.ingest_many(
        [
            IncomingEmail(message_id="a@x", sender="news@shop.example", subject="Sale", automatic="mailing_list"),
            IncomingEmail(message_id="b@x", sender="me@shop.example", subject="Card?", body_text="hi"),
        ]
    )  # fmt: skip
    aside.email.refresh_from_db()
    person.email.refresh_from_db()
    assert (aside.email.team, aside.email.priority, aside.email.sla_due_at) == (
        teams["cards"], Priority.LOW, None,
    )  # fmt: skip
    assert (person.email.team, person.email.status) == (None, Email.Status.PENDING)


def test_headers_given_to_the_api_are_kept_for_rules(api_client):
    from inbox.tests.factories import email_payload

    response = api_client.post(
        "/api/emails/",
        email_payload(headers={"X-Customer-Tier": "vip", "Received": "from x"}),
        format="json",
    )
    assert response.status_code == 202
    assert Email.objects.get(pk=response.json()["id"]).headers == {"x-customer-tier": "vip"}


def test_rerouting_applies_changed_rules_to_open_mail_only(teams):
    now = timezone.now()
    open_ = EmailFactory(status=Email.Status.CLASSIFIED, intent="card_arrival", received_at=now)
    done = EmailFactory(
        status=Email.Status.CLASSIFIED, intent="card_arrival", received_at=now,
        first_handled_at=now,
    )  # fmt: skip
    waiting = EmailFactory(status=Email.Status.PENDING, intent="")
    assert services.reroute_open() == 1
    open_.refresh_from_db()
    assert open_.team == teams["cards"] and open_.sla_due_at == now + timedelta(hours=24)
    IntentRoute.objects.filter(key="card_arrival").update(team=teams["support"], priority=0)
    assert services.reroute_open() == 1
    for email in (open_, done, waiting):
        email.refresh_from_db()
    assert (open_.team, open_.priority) == (teams["support"], Priority.URGENT)
    assert done.team is None and waiting.team is None
