"""The inbox's triage views: the team view first, priority ordering, time left, "handled",
the Overview's period and SLA table, previews, threshold-coloured badges, and the admin."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox import services
from inbox.models import Email, Priority, Team
from inbox.services import IncomingEmail
from inbox.tests.factories import EmailFactory

pytestmark = pytest.mark.django_db


def listed_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-id="(\d+)"', html)]


@pytest.fixture
def cards(agent):
    team = Team.objects.create(name="Cards", slug="cards")
    team.members.add(agent)
    return team


def routed(team=None, priority=Priority.NORMAL, age=timedelta(hours=1), **kw):
    now = timezone.now()
    kw.setdefault("status", Email.Status.CLASSIFIED)
    kw.setdefault("intent", "card_arrival")
    return EmailFactory(
        team=team, priority=priority, received_at=now - age,
        sla_due_at=now - age + timedelta(hours=24 if priority else 1), **kw,
    )  # fmt: skip


def test_an_agent_sees_their_teams_most_urgent_open_mail_first_on_the_home_page(
    client, agent, cards
):
    old = routed(cards, age=timedelta(hours=5))
    urgent = routed(cards, Priority.URGENT, age=timedelta(minutes=10))
    new = routed(cards, age=timedelta(minutes=1))
    routed(cards, first_handled_at=timezone.now())  # handled: not open
    other = routed(Team.objects.create(name="Payments", slug="payments"), Priority.URGENT)
    client.force_login(agent)
    html = client.get(reverse("inbox:home")).content.decode()
    assert html.index('id="my-team"') < html.index('aria-label="Queues"')
    section = html[
        html.index('id="my-team"') : html.index("</section>", html.index('id="my-team"'))
    ]
    assert listed_ids(section) == [urgent.pk, old.pk, new.pk]
    assert "50 min left" in section or "49 min left" in section  # the urgent one's hour
    assert other.pk not in listed_ids(section)
    assert 'data-team="team-payments"' not in html  # agents see their own team only
    assert re.search(r'data-count="mine">3<', html)


def test_staff_see_every_team_with_its_open_and_overdue_mail(client, staff, cards):
    routed(cards, Priority.URGENT, age=timedelta(hours=2))  # an hour overdue
    routed(None)
    client.force_login(staff)
    html = client.get(reverse("inbox:home")).content.decode()
    assert 'data-team="team-cards"' in html and 'data-team="team-none"' in html
    assert '1 open · <span class="is-overdue">1 overdue</span> · 1 urgent' in html


def test_a_team_folder_lists_open_mail_by_priority_then_longest_waiting(client, agent, cards):
    low = routed(cards, Priority.LOW, age=timedelta(days=2))
    normal_new = routed(cards, age=timedelta(minutes=5))
    normal_old = routed(cards, age=timedelta(hours=3))
    high = routed(cards, Priority.HIGH, age=timedelta(minutes=1))
    done = routed(cards, first_handled_at=timezone.now())
    client.force_login(agent)
    url = reverse("inbox:folder", args=["team-cards"])
    html = client.get(url).content.decode()
    assert listed_ids(html) == [high.pk, normal_old.pk, normal_new.pk, low.pk]
    assert listed_ids(client.get(url, {"handled": "handled"}).content.decode()) == [done.pk]
    assert set(listed_ids(client.get(url, {"handled": ""}).content.decode())) == {
        low.pk, normal_new.pk, normal_old.pk, high.pk, done.pk,
    }  # fmt: skip
    mine = client.get(reverse("inbox:folder", args=["mine"])).content.decode()
    assert listed_ids(mine) == listed_ids(html)


def test_an_agent_in_no_team_is_told_so(client, agent):
    routed(None)
    client.force_login(agent)
    html = client.get(reverse("inbox:folder", args=["mine"])).content.decode()
    assert "You are in no team yet" in html and listed_ids(html) == []


def test_rows_show_time_left_or_overdue(client, agent, cards):
    routed(cards, Priority.URGENT, age=timedelta(hours=3))  # due 2 h ago
    routed(cards, age=timedelta(hours=1))  # 23 h left
    client.force_login(agent)
    html = client.get(reverse("inbox:folder", args=["mine"])).content.decode()
    assert re.search(r'class="sla sla-overdue"[^>]*>overdue 2 h( \d+ min)?<', html)
    assert re.search(r'class="sla sla-ok"[^>]*>2[23] h( \d+ min)? left<', html)
    assert '<span class="prio prio-urgent">Urgent</span>' in html


def test_mark_handled_from_the_email_page_stops_the_clock(client, agent, cards):
    from inbox.models import IntentRoute

    IntentRoute.objects.filter(key="Cards").update(team=cards)
    email = routed(cards, Priority.URGENT, age=timedelta(minutes=10))
    client.force_login(agent)
    page = client.get(reverse("inbox:email", args=[email.pk])).content.decode()
    assert 'id="mark-handled"' in page
    assert "Routed by the route of the Cards family." in page
    assert 'id="triage-team"><a href="/folders/team-cards/">Cards</a>' in page
    response = client.post(reverse("inbox:handled", args=[email.pk]) + "?folder=mine")
    assert response.status_code == 302
    email.refresh_from_db()
    assert email.first_handled_at is not None
    after = client.get(reverse("inbox:email", args=[email.pk])).content.decode()
    assert 'id="mark-handled"' not in after
    assert "handled in time" in after


def test_the_preview_is_what_the_customer_asked_not_the_greeting(client, agent):
    [result] = services.ingest_many(
        [
            IncomingEmail(
                message_id="p@x", sender="a@b.example", subject="Card never came",
                body_text="Hello support,\n\nI ordered a card three weeks ago and it never "
                "arrived. Can you send another?\n\nKind regards,\nAnn",
            )
        ]
    )  # fmt: skip
    client.force_login(agent)
    html = client.get(reverse("inbox:folder", args=["all"])).content.decode()
    preview = re.search(r'<span class="preview">([^<]*)</span>', html).group(1)
    assert preview.startswith("I ordered a card three weeks ago")
    assert "Hello" not in preview and "Card never came" not in preview


@pytest.mark.parametrize(("threshold", "level"), [(0.95, "mid"), (0.85, "high"), (1.9, "low")])
def test_confidence_badges_are_coloured_against_the_routing_threshold(
    client, agent, settings, threshold, level
):
    settings.CLEANINBOX_REVIEW_THRESHOLD = threshold
    routed(confidence=0.9, status=Email.Status.NEEDS_REVIEW)
    client.force_login(agent)
    html = client.get(reverse("inbox:folder", args=["review"])).content.decode()
    assert f'class="confidence confidence-{level}"' in html


def test_the_overview_has_one_selectable_period_for_every_figure(client, agent, cards):
    now = timezone.now()
    for days_ago in (2, 10):
        EmailFactory(
            status=Email.Status.CLASSIFIED, intent="card_arrival", predicted_intent="card_arrival",
            confidence=0.99, model_version="v1", classified_at=now - timedelta(days=days_ago),
            received_at=now - timedelta(days=days_ago),
        )  # fmt: skip
    client.force_login(agent)
    week = client.get(reverse("inbox:overview"), {"days": "7"}).content.decode()
    fortnight = client.get(reverse("inbox:overview")).content.decode()
    assert "1 routed, 0 sent to review" in week and 'id="kpi-received">1<' in week
    assert "2 routed, 0 sent to review" in fortnight and 'id="kpi-received">2<' in fortnight
    assert 'href="?days=7" aria-current="true"' in week
    odd = client.get(reverse("inbox:overview"), {"days": "5000"}).content.decode()
    assert 'href="?days=14" aria-current="true"' in odd


def test_the_overview_shows_sla_breaches_per_team(client, agent, cards):
    routed(cards, Priority.URGENT, age=timedelta(hours=3))
    routed(cards, age=timedelta(hours=1))
    client.force_login(agent)
    html = client.get(reverse("inbox:overview")).content.decode()
    assert 'id="kpi-overdue">1<' in html
    row = re.search(r'<tr data-team="cards">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r'<td class="num[^"]*">(.*?)</td>', row, re.S)
    assert [re.sub(r"<[^>]+>", "", c) for c in cells[:3]] == ["2", "1", "1"]


def test_the_admin_shows_rules_in_order_and_what_each_intent_gets(client, staff, cards):
    from inbox.models import IntentRoute, RoutingRule

    RoutingRule.objects.create(position=20, kind="sender_domain", pattern="b.example", team=cards)
    RoutingRule.objects.create(position=10, kind="header", header="X-Tier", pattern="vip")
    IntentRoute.objects.filter(key="Security & access").update(team=cards)
    client.force_login(staff)
    rules = client.get("/admin/inbox/routingrule/").content.decode()
    assert 'id="routing-order"' in rules and "The first enabled rule" in rules
    assert rules.index("X-Tier") < rules.index("b.example")
    routes = client.get(
        "/admin/inbox/intentroute/", {"family": "Security & access"}
    ).content.decode()
    assert "Lost or stolen card" in routes and "Card arrival" not in routes
    row = re.search(r"Lost or stolen card.*?</tr>", routes, re.S).group(0)
    assert "Cards · Urgent · 1 h" in row
    teams = client.get("/admin/inbox/team/").content.decode()
    assert "Cards" in teams
