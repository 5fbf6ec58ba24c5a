"""SLA breaches as scrape-time metrics (cleaninbox.monitoring.collectors.sla)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cleaninbox.monitoring.collectors import COLLECTOR
from inbox.models import Email, Priority, Team
from inbox.tests.factories import EmailFactory
from tests.monitoring.test_metrics_endpoint import samples

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_figures(settings):
    settings.CLEANINBOX_METRICS_TOKEN = ""
    COLLECTOR.forget()
    yield
    COLLECTOR.forget()


def test_open_breaches_per_team_and_priority_and_late_handling(client):
    now = timezone.now()
    cards = Team.objects.create(name="Cards", slug="cards")

    def email(priority, due, team=cards, handled=None, status=Email.Status.CLASSIFIED):
        return EmailFactory(
            status=status, team=team, priority=priority, sla_due_at=now + due,
            first_handled_at=handled,
        )  # fmt: skip

    email(Priority.URGENT, -timedelta(minutes=30))  # open breach, 30 min
    email(Priority.URGENT, -timedelta(minutes=5), status=Email.Status.NEEDS_REVIEW)
    email(Priority.URGENT, timedelta(minutes=40))  # open, in time
    email(Priority.NORMAL, -timedelta(hours=1), team=None)  # breach, no team
    email(Priority.NORMAL, -timedelta(hours=1), handled=now)  # handled late
    email(Priority.NORMAL, timedelta(hours=1), handled=now)  # handled in time
    email(Priority.NORMAL, -timedelta(days=1), status=Email.Status.SET_ASIDE)  # not open mail
    got = samples(client.get("/metrics"))
    labels = lambda team, prio: (("priority", prio), ("team", team))  # noqa: E731
    assert got[("cleaninbox_sla_breached_emails", labels("cards", "urgent"))] == 2
    assert got[("cleaninbox_sla_open_emails", labels("cards", "urgent"))] == 3
    assert got[("cleaninbox_sla_breached_emails", labels("none", "normal"))] == 1
    assert ("cleaninbox_sla_open_emails", labels("cards", "normal")) not in got
    assert 55 * 60 < got[("cleaninbox_sla_oldest_breach_seconds", ())] < 65 * 60
    assert got[("cleaninbox_sla_handled_late_ratio", (("team", "cards"),))] == 0.5
