"""inbox.triage: the order rules are tried in, routes by intent and family, priorities and
SLAs, and the bounded headers kept for rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from inbox import triage
from inbox.mail import parse_message, routing_headers
from inbox.models import Email, IntentRoute, Priority, RoutingRule, Team

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CARDS, PAYMENTS, VIP, SUPPORT = 1, 2, 3, 4


def rule(id, kind, pattern, team=None, priority=None, header="", position=None):
    return triage.Rule(
        id=id, position=position or id * 10, kind=kind, header=header,
        patterns=triage.split_patterns(pattern), team_id=team, priority=priority,
    )  # fmt: skip


def decide(policy, intent="card_arrival", sender="jane@mail.example", headers=None, **kw):
    return triage.decide(policy, intent=intent, sender=sender, headers=headers, start=START, **kw)


POLICY = triage.Policy(
    rules=(
        rule(1, "header", "vip, gold*", team=VIP, priority=Priority.HIGH, header="X-Customer-Tier"),
        rule(2, "sender_domain", "partner.example", priority=Priority.HIGH),
        rule(3, "sender_domain", "mail.example", team=SUPPORT),  # shadowed for vips by rule 1
    ),
    routes={
        "Cards": triage.Route(team_id=CARDS),
        "card_arrival": triage.Route(priority=Priority.LOW),
        "lost_or_stolen_card": triage.Route(team_id=PAYMENTS, sla_minutes=30),
        "Card payments & refunds": triage.Route(team_id=PAYMENTS, sla_minutes=8 * 60),
    },
    default_team_id=SUPPORT,
)


def test_the_first_matching_rule_wins_in_position_order():
    vip = decide(POLICY, headers={"x-customer-tier": "VIP"})
    assert (vip.team_id, vip.priority, vip.routed_by) == (VIP, Priority.HIGH, "rule:1")
    plain = decide(POLICY)  # mail.example, no header: rule 3
    assert (plain.team_id, plain.routed_by) == (SUPPORT, "rule:3")


def test_header_values_match_without_case_with_wildcards_and_lists():
    assert decide(POLICY, headers={"x-customer-tier": "  Gold  Plus"}).routed_by == "rule:1"
    assert decide(POLICY, headers={"x-customer-tier": "silver"}).routed_by == "rule:3"
    assert decide(POLICY, sender="a@other.example", headers={}).routed_by == "family"


def test_a_sender_domain_covers_its_subdomains_only():
    assert decide(POLICY, sender="x@eu.partner.example").priority == Priority.HIGH
    assert decide(POLICY, sender="x@notpartner.example").priority == Priority.LOW
    assert decide(POLICY, sender="no-at-sign").routed_by == "family"


def test_a_rule_without_a_team_keeps_the_intents_team_and_sets_the_priority():
    result = decide(POLICY, sender="ops@partner.example")
    assert (result.team_id, result.routed_by) == (CARDS, "family")
    assert result.priority == Priority.HIGH
    # card_arrival is low (3 days), raised to high by the rule: high's 4 hours apply.
    assert result.sla_due_at == START + timedelta(hours=4)


def test_an_intents_route_comes_before_its_familys_field_by_field():
    other = "x@other.example"
    stolen = decide(POLICY, intent="lost_or_stolen_card", sender=other)  # Security & access
    assert (stolen.team_id, stolen.priority) == (PAYMENTS, Priority.URGENT)
    assert stolen.sla_due_at == START + timedelta(minutes=30)
    refund = decide(POLICY, intent="request_refund", sender=other)
    assert (refund.team_id, refund.priority, refund.routed_by) == (
        PAYMENTS,
        Priority.NORMAL,
        "family",
    )
    assert refund.sla_due_at == START + timedelta(hours=8)
    # Its family's SLA, but urgent by default: the security intent in that family.
    unknown = decide(POLICY, intent="card_payment_not_recognised", sender=other)
    assert unknown.priority == Priority.URGENT
    assert unknown.sla_due_at == START + timedelta(hours=8)
    exchange = decide(POLICY, intent="exchange_rate", sender=other)
    assert (exchange.team_id, exchange.routed_by) == (SUPPORT, "default")
    assert exchange.sla_due_at == START + timedelta(hours=24)


@pytest.mark.parametrize("intent", triage.intents.SECURITY)
def test_the_security_intents_are_urgent_with_an_hour_by_default(intent):
    result = decide(triage.Policy(), intent=intent)
    assert (result.team_id, result.routed_by) == (None, "none")
    assert (result.priority, result.sla_due_at) == (Priority.URGENT, START + timedelta(hours=1))


def test_no_intent_gets_the_default_team_and_normal_priority():
    result = decide(triage.Policy(default_team_id=SUPPORT), intent="")
    assert (result.team_id, result.priority) == (SUPPORT, Priority.NORMAL)


def test_automatic_mail_gets_a_team_but_low_priority_and_no_sla():
    result = decide(POLICY, intent="", sender="noreply@partner.example", set_aside=True)
    assert (result.team_id, result.priority, result.sla_due_at) == (SUPPORT, Priority.LOW, None)


def test_the_sla_clock_starts_when_the_customer_wrote_or_when_an_import_arrived():
    sent, arrived = START, START + timedelta(hours=3)
    assert triage.sla_start(sent, arrived, Email.Source.IMAP) == sent
    assert triage.sla_start(arrived, sent, Email.Source.API) == sent  # a clock in the future
    assert triage.sla_start(sent, arrived, Email.Source.IMPORT) == arrived


@pytest.mark.django_db
def test_the_policy_is_read_in_three_queries_and_skips_disabled_rules(django_assert_num_queries):
    cards = Team.objects.create(name="Cards", slug="cards")
    Team.objects.create(name="Support", slug="support", is_default=True)
    RoutingRule.objects.create(
        position=5, kind="header", header="X-Tier", pattern="vip", enabled=False
    )
    RoutingRule.objects.create(
        position=9, kind="sender_domain", pattern="@Partner.Example", team=cards
    )
    IntentRoute.objects.filter(key="Cards").update(team=cards)
    with django_assert_num_queries(3):
        policy = triage.load_policy()
    assert [r.patterns for r in policy.rules] == [("partner.example",)]
    assert policy.routes["Cards"].team_id == cards.pk
    assert len(policy.routes) == 77 + 9  # the migration made a row per intent and family
    assert policy.default_team_id == Team.objects.get(slug="support").pk


def test_routing_headers_keep_x_fields_and_a_few_more_bounded():
    kept = routing_headers(
        [("X-Customer-Tier", " VIP "), ("x-customer-tier", "second"), ("Received", "from a"),
         ("X-MS-Exchange-Organization-SCL", "1"), ("Importance", "high"), ("Subject", "hi"),
         ("X-Long", "y" * 1000), *[(f"X-Extra-{i}", "1") for i in range(50)]]
    )  # fmt: skip
    assert kept["x-customer-tier"] == "VIP"
    assert kept["importance"] == "high" and len(kept["x-long"]) == 300
    assert "received" not in kept and "subject" not in kept
    assert not any(k.startswith("x-ms-") for k in kept)
    assert len(kept) == 30


def test_a_parsed_message_carries_its_routing_headers():
    raw = b"From: a@b.example\r\nX-Customer-Tier: vip\r\nSubject: hi\r\n\r\nbody\r\n"
    assert parse_message(raw).headers == {"x-customer-tier": "vip"}


def test_span_reads_at_a_glance():
    assert triage.span(timedelta(minutes=45)) == "45 min"
    assert triage.span(timedelta(hours=4)) == "4 h"
    assert triage.span(timedelta(hours=4, minutes=5)) == "4 h 5 min"
    assert triage.span(timedelta(days=3, hours=2, minutes=9)) == "3 d 2 h"
