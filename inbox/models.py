"""Emails and the corrections agents make to their intents."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class Team(models.Model):
    """A queue of agents that a share of the mail is routed to (see inbox.triage).

    ``email`` is where the team's mail is handed off over SMTP (blank: no SMTP hand-off).
    Exactly one team may be the default: it receives what no rule routes elsewhere.
    """

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    is_default = models.BooleanField(default=False)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_team"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Priority(models.IntegerChoices):
    """Lower sorts first: lists order by priority, then age."""

    URGENT = 0, "Urgent"
    HIGH = 1, "High"
    NORMAL = 2, "Normal"
    LOW = 3, "Low"


class EmailQuerySet(models.QuerySet):
    def needing_review(self) -> EmailQuerySet:
        return self.filter(status=Email.Status.NEEDS_REVIEW)


class Email(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CLASSIFIED = "classified", "Classified"
        NEEDS_REVIEW = "needs_review", "Needs review"
        FAILED = "failed", "Failed"
        # Automatic mail (auto-replies, bounces, lists): kept, shown, never given an intent.
        SET_ASIDE = "set_aside", "Set aside"

    class Source(models.TextChoices):
        API = "api", "API"
        RAW = "raw", "Raw message"
        IMPORT = "import", "Import"
        IMAP = "imap", "IMAP"
        ADMIN = "admin", "Admin"

    message_id = models.CharField(max_length=998, unique=True)
    sender = models.CharField(max_length=320)
    sender_name = models.CharField(max_length=320, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    # What the classifier saw: subject + the customer's own words, quotes and signatures cut.
    model_input = models.TextField(blank=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.JSONField(default=list, blank=True)
    thread_root = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="thread_replies"
    )
    attachments = models.JSONField(default=list, blank=True)
    parse_defects = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.API)

    received_at = models.DateTimeField()
    ingested_at = models.DateTimeField(auto_now_add=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    intent = models.CharField(max_length=64, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    top_k = models.JSONField(default=list, blank=True)
    model_version = models.CharField(max_length=128, blank=True)
    classified_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # While a worker classifies a pending email it holds a lease on it until this time; a
    # worker that dies mid-batch gives the email back when the lease runs out.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Why the email was set aside or sent to review rather than routed, as a short code
    # (auto_reply, bounce, mailing_list, not_english, nothing_to_classify, out_of_scope,
    # low_confidence, ...); empty when it was routed on the model's answer.
    routing_reason = models.CharField(max_length=32, blank=True, db_index=True)
    last_error = models.TextField(blank=True)

    # Triage (inbox.triage): the team the email is routed to, its priority and the time by
    # which it must be first handled. Set when it is classified and again when corrected.
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices, default=Priority.NORMAL, db_index=True
    )
    sla_due_at = models.DateTimeField(null=True, blank=True)
    first_handled_at = models.DateTimeField(null=True, blank=True)

    # The model's own answer, kept when an agent corrects `intent`.
    predicted_intent = models.CharField(max_length=64, blank=True)
    corrected_at = models.DateTimeField(null=True, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = EmailQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="email_status_received"),
            models.Index(fields=["intent", "-received_at"], name="email_intent_received"),
            models.Index(fields=["-received_at"], name="email_received"),
            models.Index(fields=["status", "ingested_at"], name="email_status_ingested"),
            models.Index(Lower("sender"), name="email_sender_lower"),
            models.Index(fields=["team", "priority", "received_at"], name="email_team_priority"),
        ]

    def __str__(self) -> str:
        return f"{self.subject or '(no subject)'} <{self.sender}>"

    @property
    def is_corrected(self) -> bool:
        return self.corrected_at is not None

    @property
    def classifier_text(self) -> str:
        """The text handed to the model: the cleaned input, or subject and body as they are."""
        return self.model_input or "\n".join(p for p in (self.subject, self.body_text) if p)


class Correction(models.Model):
    """One agent's relabelling of one email; the history is never rewritten."""

    email = models.ForeignKey(Email, on_delete=models.CASCADE, related_name="corrections")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="corrections"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    previous_intent = models.CharField(max_length=64, blank=True)
    new_intent = models.CharField(max_length=64)
    model_intent = models.CharField(max_length=64, blank=True)
    model_confidence = models.FloatField(null=True, blank=True)
    model_version = models.CharField(max_length=128, blank=True)
    via = models.CharField(max_length=16, default="api")  # api | admin | ui

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at"], name="correction_created")]

    def __str__(self) -> str:
        return f"{self.previous_intent or '—'} → {self.new_intent}"

    @property
    def agrees_with_model(self) -> bool:
        return self.new_intent == self.model_intent


# The hand-off's models live in their own module; importing them here registers them.
from inbox.handoff.models import CannedReply, Delivery, WebhookEndpoint  # noqa: E402, F401
