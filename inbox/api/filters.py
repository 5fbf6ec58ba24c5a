"""List filters shared by the API and the web inbox.

Every filter's work is bounded: a search has at most CLEANINBOX_SEARCH_MAX_WORDS words and
CLEANINBOX_SEARCH_MAX_LENGTH characters (each word an index lookup, see migration
inbox/0003's trigram indexes), and a date bound is a moment PostgreSQL can store.
"""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F, Func, Q, QuerySet, TextField
from django.utils import timezone

from inbox.handoff import status as handoff_status
from inbox.models import Email, Priority

# Priorities by name in the API and links ("urgent"), stored as numbers (lower sorts first).
PRIORITY_NAMES = {p.name.lower(): p.value for p in Priority}
UNASSIGNED = "none"


def validate_search(text: str) -> None:
    """Refuse a search with more words or characters than the limits allow."""
    max_length, max_words = (
        settings.CLEANINBOX_SEARCH_MAX_LENGTH,
        settings.CLEANINBOX_SEARCH_MAX_WORDS,
    )
    if len(text) > max_length:
        raise ValidationError(f"A search has at most {max_length} characters.", code="max_length")
    if len(text.split()) > max_words:
        raise ValidationError(f"A search has at most {max_words} words.", code="max_words")
    if "\x00" in text:
        raise ValidationError("A search must not contain NUL characters.", code="null_characters")


class SearchText(Func):
    """subject, body, model input and sender joined by spaces: the expression that
    migration inbox/0003's trigram index covers (under UPPER, as icontains compares).
    A searched word has no space, so it never matches across two fields."""

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self):
        super().__init__(F("subject"), F("body_text"), F("model_input"), F("sender"))


def search_emails(queryset: QuerySet[Email], text: str) -> QuerySet[Email]:
    """Every word must appear in the subject, the body or the sender.

    The model's input is searched too: for an HTML-only email it is the only plain text.
    Callers validate ``text`` with ``validate_search`` first (the API and the inbox form do).
    """
    queryset = queryset.alias(search_text=SearchText())
    for word in text.split():
        queryset = queryset.filter(search_text__icontains=word)
    return queryset


class BoundedIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 moment, converted to UTC.

    Python accepts UTC offsets up to ±23:59 and PostgreSQL only up to ±15:59; in UTC every
    offset is fine. A moment that leaves the calendar when converted (9999-12-31T23:00-05:00)
    is refused like any other invalid date.
    """

    def to_python(self, value):
        try:
            moment = super().to_python(value)
            return moment.astimezone(UTC) if moment is not None and moment.tzinfo else moment
        except OverflowError:
            raise ValidationError(
                "Enter a date and time within years 1 to 9999.", code="invalid"
            ) from None


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class StrictBooleanField(forms.NullBooleanField):
    """true/false (or 1/0, empty for no filter); anything else is an error, not "no filter"."""

    widget = forms.TextInput  # the select widget maps unknown values to None before we see them

    def to_python(self, value):
        if value in (None, ""):
            return None
        if str(value).lower() in ("true", "1"):
            return True
        if str(value).lower() in ("false", "0"):
            return False
        raise ValidationError("Use true or false.", code="invalid")

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class EmailFilter(django_filters.FilterSet):
    intent = django_filters.CharFilter(field_name="intent")
    status = django_filters.MultipleChoiceFilter(choices=Email.Status.choices)
    needs_review = StrictBooleanFilter(method="filter_needs_review")
    corrected = StrictBooleanFilter(field_name="corrected_at", lookup_expr="isnull", exclude=True)
    received_after = BoundedIsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = BoundedIsoDateTimeFilter(field_name="received_at", lookup_expr="lt")
    search = django_filters.CharFilter(method="filter_search", validators=[validate_search])
    model_version = django_filters.CharFilter(field_name="model_version")
    team = django_filters.CharFilter(
        method="filter_team",
        help_text="Team slugs, comma-separated (`none`: routed to no team).",
    )
    priority = django_filters.MultipleChoiceFilter(
        method="filter_priority",
        choices=[(name, name) for name in PRIORITY_NAMES],
        help_text="urgent, high, normal or low; repeat for several.",
    )
    handled = StrictBooleanFilter(
        field_name="first_handled_at", lookup_expr="isnull", exclude=True,
        help_text="true: an agent has acted on it (corrected, confirmed or marked handled).",
    )  # fmt: skip
    breached = StrictBooleanFilter(
        method="filter_breached",
        help_text="true: its SLA is breached (due and not handled, or handled late).",
    )
    sla_due_before = BoundedIsoDateTimeFilter(field_name="sla_due_at", lookup_expr="lt")
    sla_due_after = BoundedIsoDateTimeFilter(field_name="sla_due_at", lookup_expr="gte")
    delivery_status = django_filters.ChoiceFilter(
        choices=[(s, s) for s in handoff_status.STATUSES],
        method="filter_delivery_status",
        help_text="The hand-off: none, pending, sent or failed (see delivery_status).",
    )

    class Meta:
        model = Email
        fields = ["intent", "status", "model_version"]

    def filter_needs_review(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(status=Email.Status.NEEDS_REVIEW)
        return queryset.exclude(status=Email.Status.NEEDS_REVIEW)

    def filter_delivery_status(self, queryset, name, value):
        return handoff_status.filter_status(queryset, value) if value else queryset

    def filter_search(self, queryset, name, value):
        return search_emails(queryset, value) if value else queryset

    def filter_team(self, queryset, name, value):
        slugs = {v.strip() for v in value.split(",") if v.strip()}
        if not slugs:
            return queryset
        wanted = Q(team__slug__in=slugs - {UNASSIGNED})
        if UNASSIGNED in slugs:
            wanted |= Q(team__isnull=True)
        return queryset.filter(wanted)

    def filter_priority(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(priority__in=[PRIORITY_NAMES[v] for v in value])

    def filter_breached(self, queryset, name, value):
        if value is None:
            return queryset
        breached = breached_q()
        return queryset.filter(breached) if value else queryset.exclude(breached)


def breached_q(now=None) -> Q:
    """An SLA breach: past due and not handled yet, or handled after the deadline."""
    now = now or timezone.now()
    return Q(sla_due_at__isnull=False) & (
        Q(first_handled_at__isnull=True, sla_due_at__lt=now)
        | Q(first_handled_at__gt=F("sla_due_at"))
    )
