"""Template filters for the inbox: intent titles, percentages, compact times."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

from classifier.runtime import threshold_for
from inbox import intents, reasons
from inbox.models import Email, Priority
from inbox.views.triage import sla

register = template.Library()

STATUS_LABELS = dict(Email.Status.choices)


@register.filter
def intent_title(name: str) -> str:
    """`card_arrival` -> "Card arrival"; "" -> "" (unknown names are shown as they are)."""
    return intents.display_title(name) if intents.is_intent(name) else (name or "")


@register.filter
def intent_description(name: str) -> str:
    return intents.description(name)


@register.filter
def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


@register.filter
def reason_label(code: str) -> str:
    """`not_english` -> "Not English"; codes without a label read as words; "" -> ""."""
    return reasons.label(code)


@register.filter
def pct(value: float | None, digits: int = 0) -> str:
    """0.873 -> "87%"; None -> "—"."""
    if value is None:
        return "—"
    return f"{value:.{int(digits)}%}"


@register.filter
def confidence_level(value: float | None, threshold: float | None = None) -> str:
    """A CSS modifier for a confidence against the routing threshold: high (routed, at or
    above it), mid (below it: review), low (below half of it), or none.

    The colour says what the confidence means for routing, so a badge inside Needs review
    is never green. Without a threshold, the default rule's (classifier.runtime) applies.
    """
    if value is None:
        return "none"
    if threshold in (None, ""):
        threshold = threshold_for(None)
    threshold = float(threshold)
    if value >= threshold:
        return "high"
    return "mid" if value >= threshold / 2 else "low"


@register.filter
def sla_state(email: Email) -> dict:
    """{"state": ..., "text": ...}: the email's SLA as a list or page shows it."""
    return sla(email)


@register.filter
def priority_key(value: int) -> str:
    """2 -> "normal": a CSS modifier for a priority."""
    try:
        return Priority(value).name.lower()
    except ValueError:
        return ""


@register.filter
def when(value: datetime | None) -> str:
    """Today: "14:05"; this year: "3 Nov"; earlier: "3 Nov 2023" (local time)."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    today = timezone.localdate()
    if local.date() == today:
        return f"{local:%H:%M}"
    if local.year == today.year:
        return f"{local.day} {local:%b}"
    return f"{local.day} {local:%b %Y}"


@register.filter
def width_pct(value: float | None) -> str:
    """A probability as a CSS width ("42.0%"), clamped to 0..100."""
    if value is None:
        return "0%"
    return f"{max(0.0, min(1.0, float(value))) * 100:.1f}%"


@register.inclusion_tag("inbox/_intent_datalist.html")
def intent_datalist() -> dict:
    """The <datalist> of all 77 intent titles that every intent input offers."""
    return {"intent_families": list(intents.FAMILIES.items())}
