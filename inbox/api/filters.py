"""List filters shared by the API and the web inbox."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from inbox.models import Email


def search_emails(queryset: QuerySet[Email], text: str) -> QuerySet[Email]:
    """Every word must appear in the subject, the body or the sender.

    The model's input is searched too: for an HTML-only email it is the only plain text.
    """
    for word in text.split():
        queryset = queryset.filter(
            Q(subject__icontains=word)
            | Q(body_text__icontains=word)
            | Q(model_input__icontains=word)
            | Q(sender__icontains=word)
        )
    return queryset


class EmailFilter(django_filters.FilterSet):
    intent = django_filters.CharFilter(field_name="intent")
    status = django_filters.MultipleChoiceFilter(choices=Email.Status.choices)
    needs_review = django_filters.BooleanFilter(method="filter_needs_review")
    corrected = django_filters.BooleanFilter(
        field_name="corrected_at", lookup_expr="isnull", exclude=True
    )
    received_after = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")
    search = django_filters.CharFilter(method="filter_search")
    model_version = django_filters.CharFilter(field_name="model_version")

    class Meta:
        model = Email
        fields = ["intent", "status", "model_version"]

    def filter_needs_review(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(status=Email.Status.NEEDS_REVIEW)
        return queryset.exclude(status=Email.Status.NEEDS_REVIEW)

    def filter_search(self, queryset, name, value):
        return search_emails(queryset, value) if value else queryset
