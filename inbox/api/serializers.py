"""Input validation and output shapes for the email API. Serializers validate; services act."""

from __future__ import annotations

import re
from datetime import UTC

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inbox import intents
from inbox.api.deliveries import (
    DELIVERY_STATUS_HELP,
    DeliveryStatusField,
    EmailDeliverySerializer,
)
from inbox.mail import automatic_reason, routing_headers
from inbox.models import Correction, Email, Priority
from inbox.services import IncomingEmail


class SafeCharField(serializers.CharField):
    """Text PostgreSQL can store: valid Unicode (no lone surrogates) and no NUL bytes."""

    default_error_messages = {
        "encoding": "Not valid Unicode text (lone surrogate or undecodable characters).",
        "nul": "Text must not contain NUL characters.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            # CharField would quietly turn numbers into text; a wrong type is an error here.
            self.fail("invalid")
        value = super().to_internal_value(data)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.fail("encoding")
        if "\x00" in value:
            self.fail("nul")
        return value


# Angle brackets and spaces around a Message-ID, however nested ("< <id> >").
_MESSAGE_ID_WRAPPING = re.compile(r"^[\s<>]+|[\s<>]+$")


class EmailInSerializer(serializers.Serializer):
    message_id = SafeCharField(max_length=998)
    sender = serializers.EmailField(max_length=320)
    sender_name = SafeCharField(max_length=320, required=False, allow_blank=True, default="")
    recipients = serializers.ListField(
        child=serializers.EmailField(max_length=320), required=False, default=list, max_length=100
    )
    subject = SafeCharField(
        max_length=998, required=False, allow_blank=True, default="", trim_whitespace=False
    )
    body_text = SafeCharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    body_html = SafeCharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    in_reply_to = SafeCharField(max_length=998, required=False, allow_blank=True, default="")
    # The message's header fields, when the caller has them ({"Auto-Submitted":
    # "auto-replied", "List-Id": "..."}): auto-replies, bounces and list mail are then set
    # aside instead of classified. Optional; only a few names are read.
    headers = serializers.DictField(
        child=SafeCharField(max_length=2000, allow_blank=True, trim_whitespace=False),
        required=False,
        default=dict,
    )

    def _check_size(self, value: str) -> str:
        limit = settings.CLEANINBOX_MAX_BODY_BYTES
        size = len(value.encode("utf-8"))
        if size > limit:
            raise serializers.ValidationError(f"Body is {size} bytes; the limit is {limit} bytes.")
        return value

    def validate_body_text(self, value: str) -> str:
        return self._check_size(value)

    def validate_body_html(self, value: str) -> str:
        return self._check_size(value)

    def validate_headers(self, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 200:
            raise serializers.ValidationError("At most 200 header fields.")
        return value

    def validate_message_id(self, value: str) -> str:
        value = _MESSAGE_ID_WRAPPING.sub("", value)
        if not value:
            raise serializers.ValidationError("Message-ID must not be empty.")
        return value

    def validate_received_at(self, value):
        # Python takes UTC offsets up to ±23:59, PostgreSQL only up to ±15:59: store UTC.
        if value is None or value.tzinfo is None:
            return value
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise serializers.ValidationError("The date is outside years 1 to 9999.") from None

    def validate(self, attrs):
        if not any(
            (attrs.get(name) or "").strip() for name in ("subject", "body_text", "body_html")
        ):
            raise serializers.ValidationError(
                {"body_text": "An email needs a subject, a text body or an HTML body."}
            )
        return attrs

    def to_incoming(self) -> IncomingEmail:
        return self._incoming(self.validated_data)

    def check(self, item: dict) -> IncomingEmail:
        """Validate one item of a batch with this one instance (its fields are built once,
        as a ListSerializer reuses its child); raises ValidationError with the item's errors."""
        return self._incoming(self.run_validation(item))

    @staticmethod
    def _incoming(validated: dict) -> IncomingEmail:
        data = dict(validated)
        headers = data.pop("headers", {})
        automatic = automatic_reason(headers, data["sender"], data.get("subject", ""))
        return IncomingEmail(
            **data, source="api", automatic=automatic, headers=routing_headers(headers.items())
        )


class TopIntentSerializer(serializers.Serializer):
    intent = serializers.CharField()
    probability = serializers.FloatField()


class CorrectionSerializer(serializers.ModelSerializer):
    # null once the user who made the correction is deleted
    user = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Correction
        fields = [
            "id",
            "created_at",
            "user",
            "previous_intent",
            "new_intent",
            "model_intent",
            "model_confidence",
            "model_version",
            "via",
        ]
        read_only_fields = fields


class CorrectionInSerializer(serializers.Serializer):
    # A choice, so the schema lists the intents (an enum) and a client can check before sending.
    intent = serializers.ChoiceField(
        choices=list(intents.LABELS),
        error_messages={
            "invalid_choice": (
                "Unknown intent {input!r}; GET /api/intents/ lists the "
                f"{len(intents.LABELS)} intents."
            )
        },
    )


class PriorityField(serializers.ChoiceField):
    """A priority by name ("urgent", "high", "normal", "low"), stored as a number."""

    def __init__(self, **kwargs):
        super().__init__(choices=[p.name.lower() for p in Priority], **kwargs)

    def to_representation(self, value):
        return Priority(value).name.lower()


class SlaSerializer(serializers.Serializer):
    """Where the email stands against its SLA (time to first handling), when it was read."""

    state = serializers.ChoiceField(
        choices=["none", "ok", "soon", "overdue", "handled", "late"],
        help_text="none: no SLA (not classified yet, or automatic mail); ok / soon (under an "
        "hour left) / overdue: not handled yet; handled: in time; late: handled after the "
        "deadline.",
    )
    breached = serializers.BooleanField(help_text="overdue or late.")
    seconds_left = serializers.IntegerField(
        allow_null=True,
        help_text="Until the deadline (negative once past); null when handled or no SLA.",
    )


class EmailSerializer(serializers.ModelSerializer):
    top_k = TopIntentSerializer(many=True, read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api:email-detail")
    team = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True,
        help_text="The team's slug (inbox.triage routes it); null: no team.",
    )  # fmt: skip
    priority = PriorityField(read_only=True)
    sla = serializers.SerializerMethodField()

    @extend_schema_field(SlaSerializer)
    def get_sla(self, email: Email) -> dict:
        now = self.context.get("now") or timezone.now()
        due, done = email.sla_due_at, email.first_handled_at
        if due is None:
            return {"state": "none", "breached": False, "seconds_left": None}
        if done is not None:
            late = done > due
            return {"state": "late" if late else "handled", "breached": late, "seconds_left": None}
        left = int((due - now).total_seconds())
        state = "overdue" if left < 0 else "soon" if left < 3600 else "ok"
        return {"state": state, "breached": left < 0, "seconds_left": left}

    delivery_status = DeliveryStatusField(read_only=True, help_text=DELIVERY_STATUS_HELP)

    class Meta:
        model = Email
        fields = [
            "id",
            "url",
            "message_id",
            "status",
            "routing_reason",
            "sender",
            "sender_name",
            "recipients",
            "subject",
            "received_at",
            "ingested_at",
            "intent",
            "confidence",
            "top_k",
            "model_version",
            "classified_at",
            "predicted_intent",
            "corrected_at",
            "source",
            "team",
            "priority",
            "sla_due_at",
            "first_handled_at",
            "sla",
            "delivery_status",
        ]
        read_only_fields = fields


class EmailDetailSerializer(EmailSerializer):
    corrections = CorrectionSerializer(many=True, read_only=True)
    deliveries = EmailDeliverySerializer(many=True, read_only=True)
    corrected_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta(EmailSerializer.Meta):
        fields = [
            *EmailSerializer.Meta.fields,
            "body_text",
            "body_html",
            "model_input",
            "in_reply_to",
            "references",
            "thread_root",
            "attachments",
            "parse_defects",
            "last_error",
            "corrected_by",
            "corrections",
            "deliveries",
        ]
        read_only_fields = fields


class IngestResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    message_id = serializers.CharField()
    url = serializers.CharField()


class BatchItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    result = serializers.ChoiceField(choices=["accepted", "duplicate", "rejected"])
    id = serializers.IntegerField(required=False)
    status = serializers.CharField(required=False)
    errors = serializers.DictField(required=False)


class BatchResponseSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = BatchItemResultSerializer(many=True)


class IntentSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()


class HandledSerializer(serializers.Serializer):
    first_handled_at = serializers.DateTimeField()
    first = serializers.BooleanField(help_text="false: it had already been handled.")
