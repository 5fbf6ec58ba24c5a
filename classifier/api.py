"""REST: an email's explanation (GET) and flags on it (POST), documented for the schema."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from classifier import explanations
from inbox.models import Email


class PieceSerializer(serializers.Serializer):
    text = serializers.CharField()
    weight = serializers.FloatField(
        allow_null=True,
        help_text="How much the label's log-odds drop without this word (or span); "
        "negative: the label is more likely without it; null: text between words, or past "
        "what the model reads.",
    )
    without = serializers.FloatField(
        allow_null=True, required=False, help_text="The label's probability without it."
    )
    rank = serializers.IntegerField(allow_null=True, help_text="1 = weighed most.")


class TopWordSerializer(serializers.Serializer):
    text = serializers.CharField()
    weight = serializers.FloatField()
    without = serializers.FloatField()


class NeighbourSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="A training query.")
    label = serializers.CharField(help_text="Its intent in the training data.")
    similarity = serializers.FloatField(help_text="Cosine in the model's score space, -1 to 1.")
    agrees = serializers.BooleanField(help_text="Its intent is the explained label.")


class ExplanationSerializer(serializers.Serializer):
    email = serializers.IntegerField()
    model_version = serializers.CharField(help_text="The serving model that was explained.")
    email_model_version = serializers.CharField(
        help_text="The model that classified the email (may be older)."
    )
    cached = serializers.BooleanField()
    compute_ms = serializers.FloatField(allow_null=True)
    label = serializers.CharField(help_text="The intent the model gives this text.")
    probability = serializers.FloatField()
    pieces = PieceSerializer(many=True, help_text="The explained text in order, word by word.")
    top_words = TopWordSerializer(many=True, help_text="Up to 5 words that weighed most for it.")
    neighbours = NeighbourSerializer(
        many=True, allow_null=True,
        help_text="The most similar training examples; null while the version's index is "
        "being built (ask again in a minute).",
    )  # fmt: skip
    occlusions = serializers.IntegerField(help_text="Texts scored besides the full one.")
    words = serializers.IntegerField()
    span_words = serializers.IntegerField(help_text="Words left out at a time (long texts).")
    truncated_chars = serializers.IntegerField(help_text="Characters past the explained part.")
    unread_from = serializers.IntegerField(
        allow_null=True, help_text="Character offset past which the model reads nothing."
    )
    notes = serializers.ListField(child=serializers.CharField())
    flags = serializers.IntegerField(help_text="Times agents flagged it for this version.")


NO_NUL = RegexValidator(r"^[^\x00]*$", "No NUL characters.")  # documented as a pattern


class FlagInSerializer(serializers.Serializer):
    # Spaces are not trimmed by DRF (the schema's minLength would then lie): the service
    # falls back to the serving version for a blank one.
    model_version = serializers.CharField(
        max_length=128, required=False, trim_whitespace=False,
        validators=[NO_NUL],
        help_text="The version whose explanation misleads; default: the one serving.",
    )  # fmt: skip
    reason = serializers.CharField(
        max_length=explanations.MAX_REASON, required=False,
        trim_whitespace=False, validators=[NO_NUL],
    )  # fmt: skip

    def validate(self, attrs):
        return {name: value.strip() for name, value in attrs.items()}


class FlagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.IntegerField(source="email_id")
    model_version = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class ProblemSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


UNAVAILABLE = OpenApiResponse(
    ProblemSerializer,
    description="No model is serving, so nothing can be explained (code `no_model`), or "
    "the database is unavailable (retry after `Retry-After` seconds).",
)
NOT_CLASSIFIED = OpenApiResponse(
    ProblemSerializer,
    description="The model never gave this email an intent: pending, set aside or failed.",
)


class ExplanationView(APIView):
    """Why the serving model gives this email its intent: the words that weighed most
    (occlusion) and the most similar training examples. Computed on the first request for
    an (email, model version), then cached."""

    @extend_schema(
        responses={200: ExplanationSerializer, 409: NOT_CLASSIFIED, 503: UNAVAILABLE},
        operation_id="emails_explanation_retrieve",
    )
    def get(self, request, pk: int):
        email = get_object_or_404(Email, pk=pk)
        result = explanations.explanation_for(email)
        if result.status == "no_model":
            return Response({"detail": result.detail, "code": "no_model"}, status=503)
        if result.status == "not_classified":
            return Response({"detail": result.detail, "code": "not_classified"}, status=409)
        body = {
            **result.payload,
            "email": email.pk,
            "model_version": result.model_version,
            "email_model_version": email.model_version,
            "cached": result.cached,
            "compute_ms": result.compute_ms,
            "flags": result.flags,
        }
        return Response(ExplanationSerializer(body).data)


class ExplanationFlagView(APIView):
    """Flag this email's explanation as misleading (kept for review in the admin)."""

    @extend_schema(
        request=FlagInSerializer,
        responses={201: FlagSerializer, 503: UNAVAILABLE},
        operation_id="emails_explanation_flags_create",
    )
    def post(self, request, pk: int):
        email = get_object_or_404(Email, pk=pk)
        serializer = FlagInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = serializer.validated_data.get("model_version")
        if not version:
            from classifier import runtime

            model = runtime.active_classifier()
            if model is None:
                return Response({"detail": explanations.NO_MODEL, "code": "no_model"}, status=503)
            version = model.version
        row = explanations.flag(
            email, request.user, version, serializer.validated_data.get("reason", "")
        )
        return Response(FlagSerializer(row).data, status=status.HTTP_201_CREATED)
