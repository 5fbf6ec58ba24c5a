"""Triage: the team an email goes to, how urgent it is, and by when it must be first handled.

One pure function, :func:`decide`, answers for one email from a :class:`Policy`, which
:func:`load_policy` reads in three small queries; the classification batch loads it once
per batch (never per email), a correction once per call. The order, as the admin shows it:

1. **Routing rules** (``RoutingRule``: the sender's domain or a header, e.g. a gateway's
   ``X-Customer-Tier: vip``), lowest position first; the first enabled rule that matches
   wins. A rule may name a team, a priority or both; what it leaves blank comes from 2.
2. **The intent's route**, then its family's (``IntentRoute``), field by field.
3. **The defaults**: the default team (``Team.is_default``), the priority of the intent
   (the security intents are urgent, the rest normal) and the priority's SLA.

The SLA clock starts when the customer sent the email (``received_at``; for imported mail,
which is a backlog, when it was imported), never later than when it reached us. A rule that
raises the priority also shortens the SLA to that priority's default when it is shorter.
Automatic mail (set aside) has a team but low priority and no SLA: nobody needs to answer it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from inbox import intents
from inbox.models import Email, IntentRoute, Priority, RoutingRule, Team

# Time to first handling when neither the intent nor its family sets one.
DEFAULT_SLA_MINUTES: dict[int, int] = {
    Priority.URGENT: 60,
    Priority.HIGH: 4 * 60,
    Priority.NORMAL: 24 * 60,
    Priority.LOW: 3 * 24 * 60,
}


def default_priority(intent: str) -> int:
    """Urgent for the security intents (a card lost, stolen, compromised or swallowed, a
    payment or withdrawal the customer did not make); normal for the rest."""
    return Priority.URGENT if intent in intents.SECURITY else Priority.NORMAL


@dataclass(frozen=True)
class Rule:
    id: int
    position: int
    kind: str
    header: str
    patterns: tuple[str, ...]
    team_id: int | None
    priority: int | None

    def matches(self, sender: str, headers: Mapping[str, str]) -> bool:
        if self.kind == RoutingRule.Kind.SENDER_DOMAIN:
            domain = sender.rpartition("@")[2].strip().lower()
            return bool(domain) and any(
                domain == p or domain.endswith("." + p) for p in self.patterns
            )
        value = headers.get(self.header.lower())
        if value is None:
            return False
        value = " ".join(str(value).split()).casefold()
        return any(fnmatch.fnmatchcase(value, p) for p in self.patterns)


@dataclass(frozen=True)
class Route:
    team_id: int | None = None
    priority: int | None = None
    sla_minutes: int | None = None


@dataclass(frozen=True)
class Policy:
    """Everything :func:`decide` reads, loaded once (see :func:`load_policy`)."""

    rules: tuple[Rule, ...] = ()
    routes: Mapping[str, Route] = field(default_factory=dict)
    default_team_id: int | None = None


@dataclass(frozen=True)
class Triage:
    team_id: int | None
    priority: int
    sla_due_at: datetime | None
    # Why the team is what it is: "rule:<id>", "intent", "family", "default" or "none".
    routed_by: str


def split_patterns(text: str) -> tuple[str, ...]:
    """A rule's comma-separated values, casefolded: 'vip, Gold*' -> ('vip', 'gold*')."""
    return tuple(p.strip().casefold().lstrip("@") for p in text.split(",") if p.strip())


def load_policy() -> Policy:
    """The rules, the routes and the default team: three queries, whatever the batch size."""
    rules = tuple(
        Rule(r.pk, r.position, r.kind, r.header.strip(), split_patterns(r.pattern), r.team_id,
             r.priority)
        for r in RoutingRule.objects.filter(enabled=True).order_by("position", "id")
    )  # fmt: skip
    routes = {
        key: Route(team, priority, sla)
        for key, team, priority, sla in IntentRoute.objects.values_list(
            "key", "team_id", "priority", "sla_minutes"
        )
    }
    default = Team.objects.filter(is_default=True).values_list("pk", flat=True).first()
    return Policy(rules=rules, routes=routes, default_team_id=default)


def ensure_routes() -> None:
    """One IntentRoute row per family and per intent (the migration makes them; a flushed
    test database or a new intent may lack some), so the admin lists every one to edit."""
    keys = [*intents.FAMILIES, *intents.LABELS]
    if IntentRoute.objects.count() < len(keys):
        IntentRoute.objects.bulk_create([IntentRoute(key=k) for k in keys], ignore_conflicts=True)


def sla_start(received_at: datetime, ingested_at: datetime | None, source: str) -> datetime:
    """When the SLA clock starts: see the module's docstring."""
    if ingested_at is None:
        return received_at
    if source == Email.Source.IMPORT:
        return ingested_at
    return min(received_at, ingested_at)


def decide(
    policy: Policy,
    *,
    intent: str,
    sender: str,
    headers: Mapping[str, str] | None = None,
    start: datetime,
    set_aside: bool = False,
) -> Triage:
    """Team, priority and SLA deadline for one email. Pure: no database, no clock."""
    headers = headers or {}
    rule = next((r for r in policy.rules if r.matches(sender, headers)), None)
    own = policy.routes.get(intent, Route()) if intent else Route()
    fam = policy.routes.get(intents.family(intent), Route()) if intent else Route()

    team_id, routed_by = policy.default_team_id, "default"
    if rule and rule.team_id is not None:
        team_id, routed_by = rule.team_id, f"rule:{rule.id}"
    elif own.team_id is not None:
        team_id, routed_by = own.team_id, "intent"
    elif fam.team_id is not None:
        team_id, routed_by = fam.team_id, "family"
    if team_id is None:
        routed_by = "none"

    if set_aside:
        return Triage(team_id, Priority.LOW, None, routed_by)

    base = _first(own.priority, fam.priority, default_priority(intent))
    priority = _first(rule.priority if rule else None, base)
    minutes = _first(own.sla_minutes, fam.sla_minutes, DEFAULT_SLA_MINUTES[base])
    if priority < base:  # a rule raised it: no slower than that priority's default
        minutes = min(minutes, DEFAULT_SLA_MINUTES[priority])
    return Triage(team_id, priority, start + timedelta(minutes=minutes), routed_by)


def _first(*values: Any) -> Any:
    return next(v for v in values if v is not None)


def for_email(email: Email, policy: Policy) -> Triage:
    """:func:`decide` for a stored (or about to be stored) email, from its own fields."""
    return decide(
        policy,
        intent=email.intent,
        sender=email.sender,
        headers=email.headers,
        start=sla_start(email.received_at, email.ingested_at, email.source),
        set_aside=email.status == Email.Status.SET_ASIDE,
    )


def apply(email: Email, policy: Policy) -> Email:
    """Set the email's team, priority and SLA deadline (in memory; the caller saves)."""
    result = for_email(email, policy)
    email.team_id = result.team_id
    email.priority = result.priority
    email.sla_due_at = result.sla_due_at
    return email


TRIAGE_FIELDS = ["team", "priority", "sla_due_at"]


def explain(email: Email, policy: Policy | None = None) -> str:
    """A phrase for the email page: what routed it to its team ("routing rule #2 (...)",
    "the route of Card arrival", ...), or that the rules changed since it was routed."""
    policy = policy or load_policy()
    result = for_email(email, policy)
    if result.team_id != email.team_id:
        return "the rules in force when it was routed (they have changed since)"
    by = result.routed_by
    if by.startswith("rule:"):
        rule = next(r for r in policy.rules if f"rule:{r.id}" == by)
        what = f"{rule.header}: " if rule.kind == RoutingRule.Kind.HEADER else "sender's domain "
        return f"routing rule #{rule.position} ({what}{', '.join(rule.patterns)})"
    return {
        "intent": f"the route of {intents.display_title(email.intent)}",
        "family": f"the route of the {intents.family(email.intent)} family",
        "default": "the default team",
        "none": "no team: no rule, route or default team applies",
    }[by]


def span(delta: timedelta) -> str:
    """A duration in the two largest units an agent reads at a glance: "2 d 3 h", "45 min"."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"
