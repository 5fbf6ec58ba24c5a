"""Triage in a real browser: an agent's team view first, priority ordering, time left,
marking handled; staff see every team, the SLA table and the admin's routing order.

Emails are ingested and classified by the real TF-IDF baseline (``deliver``), so their
team, priority and deadline come from the batch write, as in production.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inbox.models import Email, Priority, RoutingRule, Team

pytestmark = pytest.mark.timeout(120)

ARRIVAL = ("My new card still hasn't arrived", "Hello support,\n\nI ordered my card two weeks ago and it still has not arrived. When will I get my card?\n\nThanks, Jane")  # fmt: skip
TOP_UP = ("Top up failed", "Hi,\nMy top up failed, why did my top-up not work?")
SWALLOWED = ("ATM kept my card", "Dear team,\nThe ATM swallowed my card this morning, what should I do?")  # fmt: skip
STOLEN = ("Stolen card", "Someone stole my card, I think my card was stolen from my bag, please block it")  # fmt: skip


@pytest.fixture
def cards_team(agent):
    team = Team.objects.create(
        name="Cards & payments", slug="cards", is_default=True,
        description="Cards, payments and cash: most urgent first, then the longest waiting.",
    )  # fmt: skip
    team.members.add(agent)
    Team.objects.create(name="Private banking", slug="vip")
    return team


def rows(page):
    return page.locator("#email-list tr.row")


def test_an_agent_works_their_teams_view_most_urgent_first(browse, deliver, agent, cards_team):
    now = timezone.now()
    stolen = deliver(*STOLEN, received_at=now - timedelta(hours=3))  # urgent, 2 h overdue
    arrival = deliver(*ARRIVAL, received_at=now - timedelta(hours=2))
    top_up = deliver(*TOP_UP, received_at=now - timedelta(hours=1))
    swallowed = deliver(*SWALLOWED, received_at=now - timedelta(minutes=5))  # urgent, newest
    assert (stolen.intent, swallowed.intent) == ("lost_or_stolen_card", "card_swallowed")
    assert {e.team_id for e in (stolen, arrival, top_up, swallowed)} == {cards_team.pk}
    assert stolen.priority == swallowed.priority == Priority.URGENT

    b = browse()
    page = b.login("agent", "agent-pass-123")
    # Home: the team's most urgent open mail comes before everything else.
    team = page.locator("#my-team")
    expect(team).to_be_visible()
    expect(team.locator("tr.row")).to_have_count(4)
    order = [int(i) for i in team.locator("tr.row").evaluate_all("rs => rs.map(r => r.dataset.id)")]
    assert order == [stolen.pk, swallowed.pk, arrival.pk, top_up.pk]
    expect(team.locator("tr.row").first.locator(".sla")).to_have_text(re.compile(r"^overdue 2 h"))
    expect(team.locator("tr.row").nth(1).locator(".sla")).to_have_text(
        re.compile(r"^5\d min left$")
    )
    expect(page.locator("#my-team-overdue")).to_have_text("1 overdue")
    # The preview is what the customer asked, not "Hello support,".
    expect(team.locator(f'tr[data-id="{arrival.pk}"] .preview')).to_contain_text(
        "I ordered my card two weeks ago"
    )
    assert "Hello" not in team.locator(f'tr[data-id="{arrival.pk}"] .preview').inner_text()
    b.screenshot("triage-home", full_page=False)

    # The team's folder: the same order, with priority badges and time left.
    page.click("#my-team h1 a")
    expect(page.locator("h1")).to_contain_text("Cards & payments")
    expect(rows(page)).to_have_count(4)
    expect(rows(page).first).to_have_attribute("data-priority", "urgent")
    expect(rows(page).nth(1)).to_have_attribute("data-priority", "urgent")
    expect(rows(page).nth(2)).to_have_attribute("data-id", str(arrival.pk))
    expect(rows(page).first.locator(".prio")).to_have_text("Urgent")
    b.screenshot("triage-team-view")

    # Open the overdue one, mark it handled with `h`: on to the next, and it leaves the view.
    rows(page).first.locator("a").click()
    expect(page.locator("#triage-priority")).to_have_text("Urgent")
    expect(page.locator("#triage-sla")).to_contain_text("overdue")
    expect(page.locator("#triage-team")).to_have_text("Cards & payments")
    b.screenshot("triage-email")
    page.wait_for_load_state()
    page.keyboard.press("h")
    expect(page.locator(".message-success")).to_contain_text("Marked handled")
    expect(page.locator("h1.subject")).to_have_text(SWALLOWED[0])
    assert Email.objects.get(pk=stolen.pk).first_handled_at is not None
    page.click("a#back-to-list")
    expect(rows(page)).to_have_count(3)
    expect(page.locator("#nav-teams [data-count='mine']")).to_have_text("3")

    # Correcting the swallowed card as a card arrival question: still the team's, no longer
    # urgent, and handled (it leaves the open view).
    page.goto(f"/emails/{swallowed.pk}/?folder=mine")
    page.fill("#pick-intent", "Card arrival")
    page.click("form.pick button")
    expect(page.locator(".message-success")).to_contain_text("Moved to")
    swallowed.refresh_from_db()
    assert (swallowed.priority, swallowed.first_handled_at is not None) == (Priority.NORMAL, True)
    assert not b.errors and not b.offsite


def test_staff_see_every_team_the_sla_breaches_and_the_routing_order(
    browse, deliver, staff, cards_team
):
    RoutingRule.objects.create(
        position=10, kind="header", header="X-Customer-Tier", pattern="vip, gold*",
        team=Team.objects.get(slug="vip"), priority=Priority.HIGH, note="Private banking",
    )  # fmt: skip
    RoutingRule.objects.create(
        position=20, kind="sender_domain", pattern="partner.example", priority=Priority.HIGH,
        note="Partner banks",
    )  # fmt: skip
    now = timezone.now()
    deliver(*STOLEN, received_at=now - timedelta(hours=3))
    deliver(*ARRIVAL, received_at=now - timedelta(hours=30))  # normal, 6 h overdue
    vip = deliver(*TOP_UP, headers={"x-customer-tier": "Gold"})
    assert (vip.team.slug, vip.priority) == ("vip", Priority.HIGH)

    b = browse()
    page = b.login("lead", "lead-pass-123")
    cards = page.locator(".team-card")
    expect(cards).to_have_count(2)
    expect(page.locator(".team-card[data-team='team-cards']")).to_contain_text("2 overdue")
    expect(page.locator(".team-card[data-team='team-vip']")).to_contain_text("1 open")
    page.click(".team-card[data-team='team-vip']")
    expect(page.locator("#nav-teams a[data-team='team-vip']")).to_have_attribute(
        "aria-current", "page"
    )
    expect(rows(page)).to_have_count(1)

    page.goto("/overview/?days=7")
    expect(page.locator("#kpi-overdue")).to_have_text("2")
    expect(page.locator("#sla-teams tr[data-team='cards']")).to_contain_text("Cards & payments")
    expect(page.locator(".period-picker a[aria-current]")).to_have_text("7 d")
    b.screenshot("triage-overview")

    page.goto("/admin/inbox/routingrule/")
    expect(page.locator("#routing-order")).to_contain_text("The first enabled rule")
    expect(page.locator("#result_list tbody tr").first).to_contain_text("X-Customer-Tier")
    b.screenshot("triage-admin-rules")
    page.goto("/admin/inbox/intentroute/?family=Security+%26+access")
    expect(page.locator("#result_list")).to_contain_text("Lost or stolen card")
    b.screenshot("triage-admin-routes")
    assert not b.errors and not b.offsite
