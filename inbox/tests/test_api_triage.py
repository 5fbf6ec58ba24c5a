"""The API carries triage: team, priority, SLA deadline and state, filters, and "handled"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Email, Priority, Team
from inbox.tests.factories import EmailFactory

pytestmark = pytest.mark.django_db


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def mail():
    now = timezone.now()
    cards = Team.objects.create(name="Cards", slug="cards")
    security = Team.objects.create(name="Security", slug="security")

    def routed(team, priority, due, handled=None):
        return EmailFactory(
            status=Email.Status.CLASSIFIED, intent="card_arrival", team=team,
            priority=priority, sla_due_at=now + due, first_handled_at=handled,
        )  # fmt: skip

    return {
        "overdue": routed(security, Priority.URGENT, -timedelta(minutes=5)),
        "in_time": routed(cards, Priority.NORMAL, timedelta(hours=3)),
        "late": routed(cards, Priority.HIGH, -timedelta(hours=2), handled=now),
        "handled": routed(cards, Priority.LOW, timedelta(hours=2), handled=now),
        "nowhere": EmailFactory(status=Email.Status.PENDING),
    }


def test_an_email_shows_its_team_priority_deadline_and_sla_state(api_client, mail):
    body = api_client.get(f"/api/emails/{mail['overdue'].pk}/").json()
    assert (body["team"], body["priority"]) == ("security", "urgent")
    assert body["sla_due_at"] and body["first_handled_at"] is None
    assert body["sla"]["state"] == "overdue" and body["sla"]["breached"] is True
    assert -400 < body["sla"]["seconds_left"] < -200
    late = api_client.get(f"/api/emails/{mail['late'].pk}/").json()["sla"]
    assert late == {"state": "late", "breached": True, "seconds_left": None}
    waiting = api_client.get(f"/api/emails/{mail['nowhere'].pk}/").json()
    assert (waiting["team"], waiting["sla"]["state"]) == (None, "none")


def test_the_list_filters_by_team_priority_breach_and_handling(api_client, mail):
    get = lambda **q: ids(api_client.get("/api/emails/", q))  # noqa: E731
    pk = {name: e.pk for name, e in mail.items()}
    assert get(team="cards") == {pk["in_time"], pk["late"], pk["handled"]}
    assert get(team="security,none") == {pk["overdue"], pk["nowhere"]}
    assert get(priority=["urgent", "high"]) == {pk["overdue"], pk["late"]}
    assert get(breached="true") == {pk["overdue"], pk["late"]}
    assert get(breached="false") == {pk["in_time"], pk["handled"], pk["nowhere"]}
    assert get(handled="false", team="cards") == {pk["in_time"]}
    soon = (timezone.now() + timedelta(hours=2, minutes=30)).isoformat()
    assert get(sla_due_before=soon) == {pk["overdue"], pk["late"], pk["handled"]}
    assert api_client.get("/api/emails/", {"priority": "asap"}).status_code == 400
    assert api_client.get("/api/emails/", {"breached": "maybe"}).status_code == 400


def test_handled_stops_the_clock_once_and_says_so(api_client, mail):
    url = f"/api/emails/{mail['in_time'].pk}/handled/"
    first = api_client.post(url)
    assert first.status_code == 200 and first.json()["first"] is True
    again = api_client.post(url)
    assert again.json() == {**first.json(), "first": False}
    assert api_client.get(f"/api/emails/{mail['in_time'].pk}/").json()["sla"]["state"] == "handled"


def test_the_schema_documents_triage(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    email = schema["components"]["schemas"]["Email"]["properties"]
    assert {"team", "priority", "sla_due_at", "first_handled_at", "sla"} <= set(email)
    params = {p["name"] for p in schema["paths"]["/api/emails/"]["get"]["parameters"]}
    assert {"team", "priority", "breached", "handled", "sla_due_before"} <= params
    assert "/api/emails/{id}/handled/" in schema["paths"]
