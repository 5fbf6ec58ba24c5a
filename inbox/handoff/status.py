"""An email's hand-off status in one word, for lists and filters.

``failed`` if any of its deliveries failed for good, else ``pending`` if one still waits,
else ``sent`` if it has deliveries, else ``none``. Computed with EXISTS on the outbox's
(email, created_at) index rather than stored on the email, so the outbox stays the only
record of what was sent.
"""

from __future__ import annotations

from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When

from inbox.handoff.models import Delivery

STATUSES = ("none", "pending", "sent", "failed")


def _exists(*statuses: str) -> Exists:
    rows = Delivery.objects.filter(email=OuterRef("pk"))
    return Exists(rows.filter(status__in=statuses) if statuses else rows)


def annotate(queryset: QuerySet) -> QuerySet:
    """Add ``delivery_status`` to each email."""
    return queryset.annotate(
        delivery_status=Case(
            When(_exists(Delivery.Status.FAILED), then=Value("failed")),
            When(_exists(Delivery.Status.PENDING), then=Value("pending")),
            When(_exists(), then=Value("sent")),
            default=Value("none"),
        )
    )


def filter_status(queryset: QuerySet, status: str) -> QuerySet:
    """Emails whose hand-off status is ``status`` (one of STATUSES)."""
    failed, pending = _exists(Delivery.Status.FAILED), _exists(Delivery.Status.PENDING)
    condition = {
        "failed": Q(failed),
        "pending": Q(pending) & ~Q(failed),
        "sent": Q(_exists()) & ~Q(_exists(Delivery.Status.FAILED, Delivery.Status.PENDING)),
        "none": ~Q(_exists()),
    }[status]
    return queryset.filter(condition)
