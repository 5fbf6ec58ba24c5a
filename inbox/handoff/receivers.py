"""Write outbox rows when emails are routed, inside the transaction that routed them.

Connected to ``inbox.signals.emails_routed`` (see ``inbox.apps``). What is sent, to whom:

- Only emails whose status is ``classified`` are handed off: routed by the model, or
  given their intent by an agent. An email waiting in needs_review is not, until an agent
  accepts or corrects it.
- Each destination is judged by what it was last told about the email (its outbox rows):
  never told → it is sent the email; told the same intent and team → nothing (an agent
  confirming the intent, a re-classification that changed nothing); told something else →
  it is sent the new state, with ``previous`` set to what it was told.
- The event is ``email.routed`` for an email's first hand-off and ``email.rerouted`` for
  every later one. A webhook that was told of the email gets the re-route even if its team
  filter no longer matches, so its ticket can be moved or closed; a team's mailbox gets
  mail only for emails routed to that team.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models.fields.json import KT
from django.utils import timezone

from cleaninbox import metrics
from inbox import nudge
from inbox.handoff import canned, payload
from inbox.handoff.models import EVENT_REROUTED, EVENT_ROUTED, Delivery, WebhookEndpoint
from inbox.models import Email

logger = logging.getLogger(__name__)

Key = tuple[str, Any]  # ("webhook", endpoint id) | ("email", address)


def on_emails_routed(sender: Any, email_ids: list[int], cause: str, **kwargs: Any) -> None:
    enqueue(email_ids, cause)


def enqueue(email_ids: list[int], cause: str = "classified") -> list[Delivery]:
    """Write the outbox rows these emails call for (in the caller's transaction) and ask
    for a drain once it commits; returns the rows."""
    emails = list(
        Email.objects.filter(pk__in=email_ids, status=Email.Status.CLASSIFIED)
        .exclude(intent="")
        .select_related("team")
    )
    if not emails:
        return []
    endpoints = list(WebhookEndpoint.objects.filter(active=True).prefetch_related("teams"))
    if not endpoints and not any(e.team_id and e.team.email for e in emails):
        return []
    told, last = _told([e.pk for e in emails])
    replies = canned.for_intents(e.intent for e in emails)
    now = timezone.now()
    rows: list[Delivery] = []
    for email in emails:
        rows.extend(
            _rows_for(email, endpoints, told.get(email.pk, {}), last.get(email.pk), replies, now)
        )
    if not rows:
        return []
    Delivery.objects.bulk_create(rows)
    transaction.on_commit(lambda: _count(rows))  # a routing that rolls back queued nothing
    transaction.on_commit(request_drain)
    logger.info(
        "hand-off queued",
        extra={"deliveries": len(rows), "emails": len({r.email_id for r in rows}), "cause": cause},
    )
    return rows


def _count(rows: list[Delivery]) -> None:
    for row in rows:
        metrics.DELIVERIES_QUEUED.labels(row.kind, row.event).inc()


def _told(email_ids: list[int]) -> tuple[dict[int, dict[Key, dict]], dict[int, dict]]:
    """Per email and destination, the state the destination was last sent; and per email,
    the state last sent anywhere."""
    rows = (
        Delivery.objects.filter(email_id__in=email_ids)
        .annotate(
            intent=KT("payload__data__intent__name"), team_slug=KT("payload__data__team__slug")
        )
        .order_by("created_at", "id")
        .values_list("email_id", "kind", "endpoint_id", "destination", "intent", "team_slug")
    )
    told: dict[int, dict[Key, dict]] = {}
    last: dict[int, dict] = {}
    for email_id, kind, endpoint_id, destination, intent, team in rows:
        key = ("webhook", endpoint_id) if kind == Delivery.Kind.WEBHOOK else ("email", destination)
        last[email_id] = told.setdefault(email_id, {})[key] = {"intent": intent, "team": team}
    return told, last


def _rows_for(
    email: Email,
    endpoints: list[WebhookEndpoint],
    told: dict[Key, dict[str, Any]],
    previous: dict[str, Any] | None,
    replies: dict[str, list],
    now: datetime,
) -> list[Delivery]:
    current = payload.state(email)
    event = EVENT_REROUTED if told else EVENT_ROUTED
    targets: list[tuple[Key, str, WebhookEndpoint | None]] = []
    for endpoint in endpoints:
        teams = {t.pk for t in endpoint.teams.all()}
        matches = not teams or email.team_id in teams
        if event in endpoint.events and (matches or ("webhook", endpoint.pk) in told):
            targets.append((("webhook", endpoint.pk), endpoint.url, endpoint))
    if email.team_id and email.team.email:
        targets.append((("email", email.team.email), email.team.email, None))
    if not targets:
        return []
    body = None
    rows = []
    for key, destination, endpoint in targets:
        if told.get(key) == current:
            continue  # this destination already knows
        body = body or payload.build(email, event, previous, replies.get(email.intent, []))
        rows.append(
            Delivery(
                email=email,
                kind=key[0],
                event=event,
                endpoint=endpoint,
                team=email.team,
                destination=destination,
                payload=body,
                next_attempt_at=now,
            )
        )
    return rows


def request_drain() -> None:
    """Wake a maintenance worker to send what is due (never blocks on the broker)."""
    nudge.request(DRAIN_TASK)


DRAIN_TASK = "inbox.handoff.tasks.deliver_outbox"
