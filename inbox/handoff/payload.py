"""What a destination is told about a routed email (one JSON shape for webhooks and mail)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from inbox import intents
from inbox.handoff import canned
from inbox.models import Email, Priority

if TYPE_CHECKING:
    from inbox.handoff.models import CannedReply

VERSION = 1


def state(email: Email) -> dict[str, Any]:
    """What a re-route is judged by: the intent and the team the destination was told."""
    return {"intent": email.intent, "team": email.team.slug if email.team_id else None}


def build(
    email: Email,
    event: str,
    previous: dict[str, Any] | None = None,
    replies: list[CannedReply] | None = None,
) -> dict[str, Any]:
    """The payload for one email and event; ``previous`` is the state last sent (reroutes),
    ``replies`` the intent's canned replies when the caller has them."""
    base = settings.CLEANINBOX_PUBLIC_URL.rstrip("/")
    url = f"{base}{reverse('inbox:email', args=[email.pk])}" if base else None
    return {
        "type": event,
        "version": VERSION,
        "created_at": timezone.now().isoformat(),
        "data": {
            "email": {
                "id": email.pk,
                "reference": f"CI-{email.pk}",
                "url": url,
                "message_id": email.message_id,
                "from": {"address": email.sender, "name": email.sender_name},
                "subject": email.subject,
                "received_at": email.received_at.isoformat(),
                "text": email.body_text,
                # Subject and the customer's own words: quotes, signatures and greetings cut.
                "cleaned_text": email.classifier_text,
            },
            "intent": {
                "name": email.intent,
                "title": intents.title(email.intent),
                "family": intents.family(email.intent),
                "confidence": email.confidence,
                "set_by": "agent" if email.corrected_at else "model",
                "model_version": email.model_version,
            },
            "team": (
                {"slug": email.team.slug, "name": email.team.name, "email": email.team.email}
                if email.team_id
                else None
            ),
            "priority": Priority(email.priority).label.lower(),
            "sla_due_at": email.sla_due_at.isoformat() if email.sla_due_at else None,
            "canned_replies": [
                {"title": s.title, "body": s.body} for s in canned.suggestions(email, replies)
            ],
            "previous": previous,
        },
    }
