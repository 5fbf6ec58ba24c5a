"""REST endpoints for emails. Each view validates with a serializer and calls a service."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from inbox import backpressure, intents, services
from inbox.api import raw as raw_input
from inbox.api import serializers as s
from inbox.api.filters import EmailFilter
from inbox.api.parsers import BoundedJSONParser
from inbox.api.throttling import IngestRateThrottle
from inbox.handoff import status as handoff_status
from inbox.ingest_raw import ingest_raw
from inbox.models import Email

BUSY = OpenApiResponse(
    description="The classification backlog is over CLEANINBOX_MAX_BACKLOG: nothing was "
    "stored; retry after the number of seconds in the Retry-After header."
)


class EmailViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Ingest emails, list and filter them, read one, and correct its intent."""

    queryset = Email.objects.select_related("corrected_by", "team").all()
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
        queryset = handoff_status.annotate(super().get_queryset())
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                "corrections__user", "deliveries__endpoint", "deliveries__team"
            )
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
        responses={202: s.IngestResponseSerializer, 409: s.IngestResponseSerializer, 503: BUSY},
    )
    def create(self, request):
        """Store one email and queue it for classification (202), or report a duplicate (409).
        While the classification backlog is over its limit: 503 with Retry-After."""
        backpressure.check()
        serializer = s.EmailInSerializer(data=request.data)
        if not serializer.is_valid():
            services.count_rejected("api")
            raise serializers.ValidationError(serializer.errors)
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
        responses={202: s.IngestResponseSerializer, 409: s.IngestResponseSerializer, 503: BUSY},
    )
    @action(
        detail=False, methods=["post"], url_path="raw",
        parser_classes=[BoundedJSONParser, MultiPartParser, raw_input.RFC822Parser],
    )  # fmt: skip
    def raw(self, request):
        """Store one raw RFC 822 message (an .eml upload, JSON `raw`, or a message/rfc822
        body). Malformed but readable mail is stored with `parse_defects`; mail without a
        sender or any readable text is refused with 400 and the reason."""
        backpressure.check()
        serializer = raw_input.RawEmailInSerializer(data=request.data)
        if not serializer.is_valid():
            services.count_rejected("raw")
            raise serializers.ValidationError(serializer.errors)
        outcome = ingest_raw(serializer.validated_data["message"], Email.Source.RAW, label="api")
        if outcome.result == "rejected":
            raise serializers.ValidationError({outcome.field: [outcome.reason]})
        return self._ingest_response(request, outcome.result, outcome.email)

    @extend_schema(
        request=s.EmailInSerializer(many=True),
        responses={200: s.BatchResponseSerializer, 503: BUSY},
    )
    @action(detail=False, methods=["post"])
    def batch(self, request):
        """Ingest a list of emails (at most CLEANINBOX_MAX_BATCH) in one go; each item is
        accepted, a duplicate, or rejected with reasons. While the classification backlog
        is over its limit nothing is stored: 503 with Retry-After."""
        items = request.data
        if not isinstance(items, list):
            raise serializers.ValidationError(
                {"non_field_errors": ["Expected a JSON list of emails."]}
            )
        if len(items) > settings.CLEANINBOX_MAX_BATCH:
            raise serializers.ValidationError(
                {"non_field_errors": [f"At most {settings.CLEANINBOX_MAX_BATCH} emails per batch."]}
            )
        backpressure.check()
        results: list[dict] = []
        valid: list[tuple[int, services.IncomingEmail]] = []
        checker = s.EmailInSerializer()
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                errors = {"non_field_errors": ["Expected an object."]}
                results.append({"index": index, "result": "rejected", "errors": errors})
                continue
            try:
                valid.append((index, checker.check(item)))
            except serializers.ValidationError as exc:
                results.append({"index": index, "result": "rejected", "errors": exc.detail})
        services.count_rejected("api", len(results))
        outcomes = services.ingest_many([incoming for _, incoming in valid])
        for (index, _), outcome in zip(valid, outcomes, strict=True):
            results.append(
                {
                    "index": index,
                    "result": outcome.result,
                    "id": outcome.email.pk,
                    "status": outcome.email.status,
                }
            )
        results.sort(key=lambda r: r["index"])
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

    @extend_schema(request=None, responses={200: s.HandledSerializer})
    @action(detail=True, methods=["post"])
    def handled(self, request, pk=None):
        """Record that an agent handled this email (answered it, passed it on) without
        changing its intent; the first time stops its SLA clock. Safe to repeat."""
        email = self.get_object()
        first = services.mark_handled(email, request.user, via="api")
        email.refresh_from_db(fields=["first_handled_at"])
        return Response({"first_handled_at": email.first_handled_at, "first": first})


class IntentListView(APIView):
    """The 77 intents an email can have."""

    @extend_schema(responses=s.IntentSerializer(many=True))
    def get(self, request):
        data = [{"name": name, "title": intents.title(name)} for name in intents.LABELS]
        return Response(data)
