"""The outbox (Delivery), where it goes (WebhookEndpoint, Team.email) and CannedReply."""

from __future__ import annotations

import base64
import secrets
import uuid

from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone

from inbox.models import Email, Team

EVENT_ROUTED = "email.routed"
EVENT_REROUTED = "email.rerouted"
EVENTS = [
    (EVENT_ROUTED, "email.routed: an email got its intent and team"),
    (EVENT_REROUTED, "email.rerouted: an agent (or a new model) changed them afterwards"),
]


def new_secret() -> str:
    """A signing secret in the Standard Webhooks form: ``whsec_`` + base64 of 32 bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def default_events() -> list[str]:
    return [EVENT_ROUTED, EVENT_REROUTED]


class WebhookEndpoint(models.Model):
    """An outgoing webhook: routed emails are POSTed here, signed with ``secret``.

    ``teams`` filters by the email's team (none selected: every email); ``events`` says
    which events it wants. Turning ``active`` off stops new deliveries; rows already in
    the outbox are still sent.
    """

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=2000, validators=[URLValidator(schemes=["http", "https"])])
    secret = models.CharField(
        max_length=200,
        default=new_secret,
        help_text="Shared with the receiver, which checks each request's signature with it.",
    )
    teams = models.ManyToManyField(
        Team, blank=True, related_name="webhooks", help_text="None selected: every team."
    )
    events = models.JSONField(default=default_events)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One hand-off of one email to one destination: a row of the outbox.

    ``uuid`` is the idempotency key: every attempt of this row carries it (the webhook's
    ``webhook-id`` header, the email's Message-ID), so a receiver that got an attempt
    whose answer was lost recognises the retry. ``payload`` is what the destination is
    told, fixed when the row was written.
    """

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # waiting for its first attempt or a retry
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"  # out of attempts or age: needs a person

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.ForeignKey(Email, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    event = models.CharField(max_length=32, choices=EVENTS)
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    # The URL or address at the time the row was written (the log keeps it if the
    # endpoint or team changes later).
    destination = models.CharField(max_length=2000)
    payload = models.JSONField()

    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # A worker sending this row holds it until then; a worker killed mid-send gives it back.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The HTTP status, or the SMTP reply code, of the last attempt that got an answer.
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Where the retry window (CLEANINBOX_HANDOFF_MAX_AGE_SECONDS) starts: the row's
    # creation, or the moment a person asked to retry it.
    queued_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            # The drain's query: pending rows by due time.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="delivery_due",
            ),
            models.Index(fields=["email", "-created_at"], name="delivery_email"),
            models.Index(fields=["status", "-created_at"], name="delivery_status_created"),
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.email_id} → {self.destination}"

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.uuid.hex}"


class CannedReply(models.Model):
    """A reply agents can start from for one intent.

    ``body`` may name a few fields as ``{{ first_name }}`` (see ``inbox.handoff.canned``):
    nothing else of the email, and no template language.
    """

    intent = models.CharField(max_length=64, db_index=True)
    title = models.CharField(max_length=200)
    body = models.TextField()
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["intent", "title"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return f"{self.intent}: {self.title}"

    def clean(self) -> None:
        from inbox.handoff.canned import validate_template

        validate_template(self.body)
