"""The delivery log over the API: what was handed off where, read-only and filterable."""

from __future__ import annotations

import django_filters
from django import forms
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets

from inbox.api.filters import BoundedIsoDateTimeFilter
from inbox.handoff.models import EVENTS, Delivery

MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number a bigint column can hold."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class DeliveryFilter(django_filters.FilterSet):
    email = IdFilter(field_name="email_id", help_text="Deliveries of this email.")
    endpoint = IdFilter(field_name="endpoint_id", help_text="Deliveries to this webhook endpoint.")
    status = django_filters.MultipleChoiceFilter(choices=Delivery.Status.choices)
    kind = django_filters.ChoiceFilter(choices=Delivery.Kind.choices)
    event = django_filters.ChoiceFilter(choices=EVENTS)
    created_after = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Delivery
        fields: list[str] = []


class DeliverySerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:delivery-detail")
    idempotency_key = serializers.CharField(
        source="webhook_id",
        read_only=True,
        help_text="The same on every attempt: the webhook-id header, the mail's Message-ID.",
    )
    endpoint = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = Delivery
        fields = [
            "id", "url", "email", "kind", "event", "endpoint", "team", "destination", "status",
            "attempts", "next_attempt_at", "last_attempt_at", "last_error", "last_status_code",
            "created_at", "sent_at", "idempotency_key",
        ]  # fmt: skip
        read_only_fields = fields


class DeliveryDetailSerializer(DeliverySerializer):
    payload = serializers.JSONField(
        read_only=True, help_text="The body that was (or will be) sent."
    )

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "payload"]
        read_only_fields = fields


class EmailDeliverySerializer(DeliverySerializer):
    """A delivery as listed inside an email."""

    class Meta(DeliverySerializer.Meta):
        fields = [f for f in DeliverySerializer.Meta.fields if f != "email"]
        read_only_fields = fields


DELIVERY_STATUS_HELP = (
    "The hand-off: failed (a delivery ran out of attempts), pending (one waits), sent, or "
    "none (not handed off)."
)


@extend_schema_field(
    {"type": "string", "enum": ["none", "pending", "sent", "failed"], "readOnly": True}
)
class DeliveryStatusField(serializers.CharField):
    pass


class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Hand-offs to helpdesk webhooks and team mailboxes (the outbox), newest first."""

    queryset = Delivery.objects.select_related("endpoint", "team")
    filterset_class = DeliveryFilter

    def get_serializer_class(self):
        return DeliveryDetailSerializer if self.action == "retrieve" else DeliverySerializer

    @extend_schema(
        summary="List deliveries",
        parameters=[
            OpenApiParameter(
                name, {"type": "integer", "minimum": 1, "maximum": MAX_ID}, description=text
            )
            for name, text in (
                ("email", "Deliveries of this email."),
                ("endpoint", "Deliveries to this webhook endpoint."),
            )
        ],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)
