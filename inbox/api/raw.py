"""Input for POST /api/emails/raw/: one raw RFC 822 message, sent three ways.

- multipart upload of an .eml file in the field ``file``;
- JSON ``{"raw": "<the message text>"}``;
- the message itself as the request body with Content-Type ``message/rfc822``.

Whichever way, the message is read as bytes and at most CLEANINBOX_MAX_BODY_BYTES of it
are accepted; the limit is checked while reading, so an oversize upload is never held
in memory whole.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers
from rest_framework.parsers import BaseParser


def _limit() -> int:
    return settings.CLEANINBOX_MAX_BODY_BYTES


class RFC822Parser(BaseParser):
    """Reads a ``message/rfc822`` body as ``{"raw": bytes}``, one byte past the limit at most."""

    media_type = "message/rfc822"

    def parse(self, stream, media_type=None, parser_context=None):
        if stream is None:  # an empty body
            return {"raw": b""}
        return {"raw": stream.read(_limit() + 1)}


class RawMessageField(serializers.Field):
    """The message as text (JSON) or bytes (a message/rfc822 body); always bytes inside."""

    default_error_messages = {"invalid": "Expected the raw message as a string."}

    def to_internal_value(self, data) -> bytes:
        if isinstance(data, bytes):
            return data
        if not isinstance(data, str):
            self.fail("invalid")
        # A lone surrogate from JSON cannot be encoded; it becomes "?" like any unreadable
        # character in a message, rather than failing the whole email.
        return data.encode("utf-8", "replace")

    def to_representation(self, value):
        return value


class RawEmailInSerializer(serializers.Serializer):
    raw = RawMessageField(required=False, help_text="The whole message: headers, blank line, body.")
    file = serializers.FileField(required=False, help_text="An .eml file.")

    def validate(self, attrs):
        given = [name for name in ("raw", "file") if attrs.get(name) is not None]
        if len(given) != 1:
            raise serializers.ValidationError(
                {
                    "raw": [
                        "Send one message: an .eml file in `file`, JSON `raw`, or a message/rfc822 body."
                    ]
                }
            )
        name = given[0]
        data = attrs[name] if name == "raw" else attrs[name].read(_limit() + 1)
        if not data.strip():
            raise serializers.ValidationError({name: ["The message is empty."]})
        if len(data) > _limit():
            raise serializers.ValidationError(
                {name: [f"The message is over the limit of {_limit()} bytes."]}
            )
        return {"message": data}


class RawEmailJsonSerializer(serializers.Serializer):
    """Schema only: the JSON form of the request."""

    raw = serializers.CharField(help_text="The whole message: headers, blank line, body.")


class RawEmailUploadSerializer(serializers.Serializer):
    """Schema only: the multipart form of the request."""

    file = serializers.FileField(help_text="An .eml file.")
