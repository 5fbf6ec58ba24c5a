"""Canned replies rendered with a fixed set of safe fields, and nothing else.

A reply template is plain text in which ``{{ field }}`` names one of ``FIELDS``. It is
not a Django template nor ``str.format``: those reach attributes (``{{ email.sender }}``,
``{0.__class__}``) and tags, and templates are edited in the admin by people who should
not be able to read other fields of the email or the settings. Substitution is one pass
of a regular expression, so a value that itself looks like ``{{ field }}`` (a customer
who calls himself that) is inserted as text, never expanded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone

from inbox import intents
from inbox.models import Email, Priority

if TYPE_CHECKING:
    from inbox.handoff.models import CannedReply

FIELDS = {
    "first_name": "The customer's first name (or “customer” when the email carries no name).",
    "customer_name": "The customer's display name (or “customer”).",
    "subject": "The email's subject.",
    "intent": "The intent's title, e.g. “Card arrival”.",
    "team": "The team's name (empty without a team).",
    "priority": "Urgent, High, Normal or Low.",
    "sla_due": "When first handling is due, e.g. “5 Dec 2026 14:00 UTC” (empty without an SLA).",
    "reference": "The email's reference in cleaninbox, e.g. “CI-1234”.",
}
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# Anything between double braces, for validation: "{{ email.sender }}" is refused, not
# silently left in a reply.
ANY_BRACES = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
MAX_VALUE = 200  # characters of any one value: a name or subject cannot flood a reply


@dataclass(frozen=True)
class Suggestion:
    id: int
    title: str
    body: str


def validate_template(body: str) -> None:
    """Refuse a template naming a field outside FIELDS, or using ``{%`` tags."""
    unknown = sorted({m.group(1).strip() for m in ANY_BRACES.finditer(body)} - FIELDS.keys())
    if unknown:
        raise ValidationError(
            "Unknown field(s): %(unknown)s. Use only: %(known)s.",
            params={"unknown": ", ".join(unknown), "known": ", ".join(FIELDS)},
            code="unknown_field",
        )
    if "{%" in body:
        raise ValidationError("Templates take {{ field }} only, no {% tags %}.", code="tag")


def values(email: Email) -> dict[str, str]:
    """The safe fields of one email, as text."""
    name = " ".join(email.sender_name.split())
    if "," in name:  # "Doe, Jane"
        last, _, first = name.partition(",")
        first = first.strip() or last.strip()
    else:
        first = name.split(" ")[0] if name else ""
    due = ""
    if email.sla_due_at:
        moment = timezone.localtime(email.sla_due_at)
        due = f"{moment.day} {moment:%b %Y %H:%M %Z}"
    raw = {
        "first_name": first or "customer",
        "customer_name": name or "customer",
        "subject": email.subject,
        "intent": intents.title(email.intent) if email.intent else "",
        "team": email.team.name if email.team_id else "",
        "priority": Priority(email.priority).label if email.priority is not None else "",
        "sla_due": due,
        "reference": f"CI-{email.pk}",
    }
    return {key: _clean(value) for key, value in raw.items()}


def _clean(value: str) -> str:
    # One line, bounded: a header-like value cannot add lines or pages to a reply.
    return " ".join(str(value).split())[:MAX_VALUE]


def render(body: str, fields: dict[str, str]) -> str:
    """``body`` with each known ``{{ field }}`` replaced; unknown ones are left as written."""
    return PLACEHOLDER.sub(lambda m: fields.get(m.group(1), m.group(0)), body)


def for_intents(names: Iterable[str]) -> dict[str, list[CannedReply]]:
    """The active canned replies of these intents, in one query."""
    from inbox.handoff.models import CannedReply

    found: dict[str, list[CannedReply]] = {}
    for reply in CannedReply.objects.filter(intent__in=set(names), active=True):
        found.setdefault(reply.intent, []).append(reply)
    return found


def suggestions(email: Email, replies: list[CannedReply] | None = None) -> list[Suggestion]:
    """The active canned replies for the email's intent, rendered for this email
    (``replies``: the intent's replies when the caller already has them)."""
    if not email.intent:
        return []
    if replies is None:
        replies = for_intents([email.intent]).get(email.intent, [])
    if not replies:
        return []
    fields = values(email)
    return [Suggestion(r.pk, r.title, render(r.body, fields)) for r in replies]
