"""REST endpoints for emails. Each view validates with a serializer and calls a service."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from inbox import intents, services
from inbox.api import raw as raw_input
from inbox.api import serializers as s
from inbox.api.filters import EmailFilter
from inbox.api.parsers import BoundedJSONParser
from inbox.api.throttling import IngestRateThrottle
from inbox.ingest_raw import ingest_raw
from inbox.models import Email


class EmailViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Ingest emails, list and filter them, read one, and correct its intent."""

    queryset = Email.objects.select_related("corrected_by").all()
    filterset_class = EmailFilter

    def get_serializer_class(self):
        if self.action == "retrieve":
            return s.EmailDetailSerializer
        return s.EmailSerializer

    def get_throttles(self):
        if self.action in ("create", "batch", "raw"):
            self.throttle_scope = "ingest"
            return [IngestRateThrottle()]
        return super().get_throttles()

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("corrections__user")
        return queryset

    def _accepted_body(self, request, email: Email) -> dict:
        return {
            "id": email.pk,
            "status": email.status,
            "message_id": email.message_id,
            "url": reverse("api:email-detail", args=[email.pk], request=request),
        }

    @extend_schema(
        request=s.EmailInSerializer,
        responses={202: s.IngestResponseSerializer, 409: s.IngestResponseSerializer},
    )
    def create(self, request):
        """Store one email and queue it for classification (202), or report a duplicate (409)."""
        serializer = s.EmailInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.ingest_email(serializer.to_incoming())
        return self._ingest_response(request, result.result, result.email)

    def _ingest_response(self, request, result: str, email: Email) -> Response:
        body = self._accepted_body(request, email)
        if result == "duplicate":
            return Response(
                {**body, "detail": "An email with this Message-ID was already ingested."},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request={
            "multipart/form-data": raw_input.RawEmailUploadSerializer,
            "application/json": raw_input.RawEmailJsonSerializer,
            "message/rfc822": OpenApiTypes.BINARY,
        },
        responses={202: s.IngestResponseSerializer, 409: s.IngestResponseSerializer},
    )
    @action(
        detail=False, methods=["post"], url_path="raw",
        parser_classes=[BoundedJSONParser, MultiPartParser, raw_input.RFC822Parser],
    )  # fmt: skip
    def raw(self, request):
        """Store one raw RFC 822 message (an .eml upload, JSON `raw`, or a message/rfc822
        body). Malformed but readable mail is stored with `parse_defects`; mail without a
        sender or any readable text is refused with 400 and the reason."""
        serializer = raw_input.RawEmailInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = ingest_raw(serializer.validated_data["message"], Email.Source.RAW, label="api")
        if outcome.result == "rejected":
            raise serializers.ValidationError({outcome.field: [outcome.reason]})
        return self._ingest_response(request, outcome.result, outcome.email)

    @extend_schema(
        request=s.EmailInSerializer(many=True), responses={200: s.BatchResponseSerializer}
    )
    @action(detail=False, methods=["post"])
    def batch(self, request):
        """Ingest a list of emails; each item is accepted, a duplicate, or rejected with reasons."""
        items = request.data
        if not isinstance(items, list):
            raise serializers.ValidationError(
                {"non_field_errors": ["Expected a JSON list of emails."]}
            )
        if len(items) > settings.CLEANINBOX_MAX_BATCH:
            raise serializers.ValidationError(
                {"non_field_errors": [f"At most {settings.CLEANINBOX_MAX_BATCH} emails per batch."]}
            )
        results = []
        for index, item in enumerate(items):
            serializer = s.EmailInSerializer(data=item)
            if not isinstance(item, dict) or not serializer.is_valid():
                errors = (
                    serializer.errors
                    if isinstance(item, dict)
                    else {"non_field_errors": ["Expected an object."]}
                )
                results.append({"index": index, "result": "rejected", "errors": errors})
                continue
            outcome = services.ingest_email(serializer.to_incoming())
            results.append(
                {
                    "index": index,
                    "result": outcome.result,
                    "id": outcome.email.pk,
                    "status": outcome.email.status,
                }
            )
        counts = {
            k: sum(r["result"] == k for r in results) for k in ("accepted", "duplicate", "rejected")
        }
        return Response(
            {
                "accepted": counts["accepted"],
                "duplicates": counts["duplicate"],
                "rejected": counts["rejected"],
                "results": results,
            }
        )

    @extend_schema(request=s.CorrectionInSerializer, responses={201: s.CorrectionSerializer})
    @action(detail=True, methods=["post"])
    def corrections(self, request, pk=None):
        """Record the right intent for this email; the model's answer is kept in the history."""
        email = self.get_object()
        serializer = s.CorrectionInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        correction = services.record_correction(
            email, serializer.validated_data["intent"], request.user, via="api"
        )
        return Response(s.CorrectionSerializer(correction).data, status=status.HTTP_201_CREATED)


class IntentListView(APIView):
    """The 77 intents an email can have."""

    @extend_schema(responses=s.IntentSerializer(many=True))
    def get(self, request):
        data = [{"name": name, "title": intents.title(name)} for name in intents.LABELS]
        return Response(data)
