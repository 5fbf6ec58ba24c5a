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


class RoutingRule(models.Model):
    """A rule that routes mail on who sent it, before its intent is looked at.

    Rules are tried in ``position`` order and the first that matches wins; what it leaves
    blank (team, priority) comes from the intent's route. See inbox.triage.
    """

    class Kind(models.TextChoices):
        SENDER_DOMAIN = "sender_domain", "Sender's domain"
        HEADER = "header", "Header"

    position = models.PositiveIntegerField(
        default=100, help_text="Rules are tried from the lowest position up; the first match wins."
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    header = models.CharField(
        max_length=100,
        blank=True,
        help_text="For a header rule: the header's name, e.g. X-Customer-Tier (any case).",
    )
    pattern = models.CharField(
        max_length=200,
        help_text="Sender's domain: example.com also matches its subdomains (mail.example.com). "
        "Header: the value, compared without case; * matches anything "
        "(vip, gold*, *). Several values: separate them with commas.",
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rules",
        help_text="Blank: the team the intent routes to.",
    )
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices,
        null=True,
        blank=True,
        help_text="Blank: the intent's priority. Set it to raise (or lower) matching mail.",
    )
    enabled = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        what = f"{self.header}: {self.pattern}" if self.kind == self.Kind.HEADER else self.pattern
        return f"#{self.position} {self.get_kind_display()} {what}"


class IntentRoute(models.Model):
    """Where mail of one intent, or of a whole family, goes, how urgent it is and how
    soon it must be first handled. Blank fields fall back: intent -> family -> default."""

    key = models.CharField(
        max_length=64, unique=True, help_text="An intent's name, or a family's name."
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="routes"
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, null=True, blank=True)
    sla_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        verbose_name="SLA (minutes)",
        help_text="Time to first handling. Blank: the family's, else the priority's default.",
    )

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


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
    # Findings that lost nothing (obsolete but readable header syntax, ...): inbox.mail.parsing.
    parse_notices = models.JSONField(default=list, blank=True)
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
    # The header fields routing rules may read (inbox.triage.keep_headers: X-* and a few
    # more, bounded), lower-case names.
    headers = models.JSONField(default=dict, blank=True)

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


class Explanation(models.Model):
    """A cached "why this intent" for one email and one model version (classifier.explanations).

    Computed on demand, never when the email is classified; ``payload`` is the JSON of
    ``classifier.explain.Explanation``. Another model version explains anew.
    """

    email = models.ForeignKey(Email, on_delete=models.CASCADE, related_name="explanations")
    model_version = models.CharField(max_length=128)
    payload = models.JSONField()
    compute_ms = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["email", "model_version"], name="one_explanation_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"why #{self.email_id} ({self.model_version})"


class ExplanationFlag(models.Model):
    """An agent's report that an explanation misleads (kept for review in the admin)."""

    email = models.ForeignKey(Email, on_delete=models.CASCADE, related_name="explanation_flags")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    model_version = models.CharField(max_length=128)
    reason = models.TextField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["model_version", "-created_at"], name="flag_version")]

    def __str__(self) -> str:
        return f"flag on #{self.email_id} ({self.model_version})"


# The hand-off's models live in their own module; importing them here registers them.
from inbox.handoff.models import CannedReply, Delivery, WebhookEndpoint  # noqa: E402, F401
