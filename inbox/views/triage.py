"""The triage panel of an email's page (team, priority, SLA, why) and the SLA words lists use."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from inbox import stats, triage
from inbox.models import Email, Priority
from mlops import registry


def triage_panel(email: Email) -> dict:
    """Context for templates/inbox/_triage.html."""
    routed = email.status not in (Email.Status.PENDING,)
    return {
        "triage": {
            "routed": routed,
            "team": email.team,
            "priority": Priority(email.priority).label,
            "priority_key": Priority(email.priority).name.lower(),
            "sla": sla(email),
            "why": triage.explain(email) if routed else "",
            "can_mark_handled": routed and email.first_handled_at is None,
        },
        "routing_threshold": routing_threshold(),
    }


def sla(email: Email, now: datetime | None = None) -> dict:
    """{"state": none|handled|late|overdue|soon|ok, "text": "2 h 5 min left", ...}."""
    now = now or timezone.now()
    due, done = email.sla_due_at, email.first_handled_at
    if due is None:
        return {"state": "none", "text": ""}
    if done is not None:
        late = done > due
        return {
            "state": "late" if late else "handled",
            "text": f"handled {triage.span(done - due)} late" if late else "handled in time",
        }
    left = due - now
    if left < timedelta(0):
        return {"state": "overdue", "text": f"overdue {triage.span(-left)}"}
    return {
        "state": "soon" if left < timedelta(hours=1) else "ok",
        "text": f"{triage.span(left)} left",
    }


def routing_threshold() -> float:
    """The active model's routing threshold: confidence badges are coloured against it."""
    model = registry.active()
    return stats.routing_threshold(model.threshold if model else None)
