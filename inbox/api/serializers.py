"""Input validation and output shapes for the email API. Serializers validate; services act."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from inbox import intents
from inbox.models import Correction, Email
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

    def validate_message_id(self, value: str) -> str:
        value = value.strip().strip("<>").strip()
        if not value:
            raise serializers.ValidationError("Message-ID must not be empty.")
        return value

    def validate(self, attrs):
        if (
            not (attrs.get("subject") or "").strip()
            and not (attrs.get("body_text") or attrs.get("body_html") or "").strip()
        ):
            raise serializers.ValidationError(
                {"body_text": "An email needs a subject, a text body or an HTML body."}
            )
        return attrs

    def to_incoming(self) -> IncomingEmail:
        return IncomingEmail(**self.validated_data, source="api")

    def check(self, item: dict) -> IncomingEmail:
        """Validate one item of a batch with this one instance (its fields are built once,
        as a ListSerializer reuses its child); raises ValidationError with the item's errors."""
        return IncomingEmail(**self.run_validation(item), source="api")


class TopIntentSerializer(serializers.Serializer):
    intent = serializers.CharField()
    probability = serializers.FloatField()


class CorrectionSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

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
    intent = serializers.CharField(max_length=64)

    def validate_intent(self, value: str) -> str:
        if not intents.is_intent(value):
            raise serializers.ValidationError(
                f"Unknown intent {value!r}; GET /api/intents/ lists the {len(intents.LABELS)} intents."
            )
        return value


class EmailSerializer(serializers.ModelSerializer):
    top_k = TopIntentSerializer(many=True, read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api:email-detail")

    class Meta:
        model = Email
        fields = [
            "id",
            "url",
            "message_id",
            "status",
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
        ]
        read_only_fields = fields


class EmailDetailSerializer(EmailSerializer):
    corrections = CorrectionSerializer(many=True, read_only=True)
    corrected_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

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
