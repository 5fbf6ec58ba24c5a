"""What changes emails: ingestion, corrections and the pending sweep.

Views and commands validate input and call these functions; each one changes the
database inside one transaction and queues slow work (classification) only after the
transaction commits, so a worker never looks for a row that does not exist yet, and a
broker outage never loses an email that was accepted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from cleaninbox import metrics
from inbox import intents
from inbox.models import Correction, Email

logger = logging.getLogger(__name__)


@dataclass
class IncomingEmail:
    """An email as an ingestion channel hands it over, already validated for shape."""

    message_id: str
    sender: str
    subject: str = ""
    body_text: str = ""
    body_html: str = ""
    sender_name: str = ""
    recipients: list[str] = field(default_factory=list)
    received_at: datetime | None = None
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    parse_defects: list[str] = field(default_factory=list)
    source: str = Email.Source.API
    # Set by inbox.mail.automatic_reason for auto-replies, bounces and list mail: such an
    # email is stored set aside, with this as its routing_reason, and never classified.
    automatic: str = ""


@dataclass
class IngestResult:
    result: Literal["accepted", "duplicate"]
    email: Email


def _model_input(subject: str, body_text: str, body_html: str) -> str:
    from inbox.mail import model_input

    return model_input(subject, body_text, body_html)


def _thread_root(in_reply_to: str, references: Sequence[str]) -> Email | None:
    ids = [i for i in [in_reply_to, *references] if i]
    if not ids:
        return None
    parent = Email.objects.filter(message_id__in=ids).order_by("received_at").first()
    if parent is None:
        return None
    return parent.thread_root or parent


def ingest_email(incoming: IncomingEmail) -> IngestResult:
    """Store one email (once per Message-ID) and queue its classification after commit."""
    existing = Email.objects.filter(message_id=incoming.message_id).first()
    if existing is not None:
        logger.info(
            "duplicate email", extra={"email_id": existing.pk, "message_id": incoming.message_id}
        )
        return IngestResult("duplicate", existing)
    try:
        with transaction.atomic():
            email = Email.objects.create(
                message_id=incoming.message_id,
                sender=incoming.sender,
                sender_name=incoming.sender_name,
                recipients=list(incoming.recipients),
                subject=incoming.subject,
                body_text=incoming.body_text,
                body_html=incoming.body_html,
                model_input=_model_input(incoming.subject, incoming.body_text, incoming.body_html),
                in_reply_to=incoming.in_reply_to,
                references=list(incoming.references),
                thread_root=_thread_root(incoming.in_reply_to, incoming.references),
                attachments=list(incoming.attachments),
                parse_defects=list(incoming.parse_defects),
                source=incoming.source,
                received_at=incoming.received_at or timezone.now(),
                status=Email.Status.SET_ASIDE if incoming.automatic else Email.Status.PENDING,
                routing_reason=incoming.automatic,
            )
    except IntegrityError:
        # Another request stored the same Message-ID between our check and our insert.
        existing = Email.objects.filter(message_id=incoming.message_id).first()
        if existing is None:
            raise
        return IngestResult("duplicate", existing)
    logger.info(
        "email ingested",
        extra={"email_id": email.pk, "message_id": email.message_id, "source": email.source},
    )
    if not incoming.automatic:
        queue_classification([email.pk])
    return IngestResult("accepted", email)


def queue_classification(email_ids: Sequence[int]) -> None:
    """Queue classification once the current transaction commits; never raises.

    If the broker is unreachable the emails stay pending and the sweep re-queues them.
    """
    ids = list(email_ids)
    if ids:
        transaction.on_commit(lambda: _send_classification(ids))


def _send_classification(ids: list[int]) -> bool:
    from classifier.tasks import classify_emails

    try:
        classify_emails.delay(ids)
    except Exception as exc:  # broker down: the email is stored, the sweep will retry
        logger.warning(
            "could not queue classification; emails stay pending",
            extra={"email_ids": ids, "error": f"{type(exc).__name__}: {exc}"},
        )
        return False
    logger.info("classification queued", extra={"email_ids": ids})
    return True


def sweep_pending(older_than: timedelta | None = None, limit: int = 1000) -> int:
    """Re-queue pending emails older than ``older_than``; returns how many were queued.

    Covers a broker outage at ingest time, a Redis restart that dropped queued tasks
    and a worker that died with its tasks.
    """
    if older_than is None:
        older_than = timedelta(seconds=settings.CLEANINBOX_SWEEP_AFTER_SECONDS)
    cutoff = timezone.now() - older_than
    ids = list(
        Email.objects.filter(status=Email.Status.PENDING, ingested_at__lte=cutoff)
        .order_by("ingested_at")
        .values_list("pk", flat=True)[:limit]
    )
    queued = 0
    batch = settings.CLEANINBOX_PREDICT_BATCH
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        if not _send_classification(chunk):
            break
        queued += len(chunk)
    if ids:
        logger.info("sweep re-queued pending emails", extra={"found": len(ids), "queued": queued})
    return queued


class InvalidIntent(ValueError):
    pass


def record_correction(email: Email, new_intent: str, user: Any, via: str = "api") -> Correction:
    """Relabel one email, keeping who, when, the model's answer and the label it replaced."""
    if not intents.is_intent(new_intent):
        raise InvalidIntent(f"unknown intent {new_intent!r}")
    with transaction.atomic():
        email = Email.objects.select_for_update().get(pk=email.pk)
        correction = Correction.objects.create(
            email=email,
            user=user if getattr(user, "is_authenticated", False) else None,
            previous_intent=email.intent,
            new_intent=new_intent,
            model_intent=email.predicted_intent,
            model_confidence=email.confidence,
            model_version=email.model_version,
            via=via,
        )
        email.intent = new_intent
        email.status = Email.Status.CLASSIFIED
        email.corrected_at = correction.created_at
        email.corrected_by = correction.user
        email.save(update_fields=["intent", "status", "corrected_at", "corrected_by"])
        # Counted once committed: a bulk relabel that rolls back counted nothing.
        transaction.on_commit(lambda: _count_correction(correction))
    logger.info(
        "email corrected",
        extra={
            "email_id": email.pk,
            "from_intent": correction.previous_intent,
            "to_intent": new_intent,
            "user_id": getattr(correction.user, "pk", None),
            "via": via,
        },
    )
    return correction


def _count_correction(correction: Correction) -> None:
    metrics.CORRECTIONS.labels(
        correction.model_intent or "none",
        correction.model_version or "none",
        "true" if correction.agrees_with_model else "false",
    ).inc()


def relabel_many(emails: Iterable[Email], new_intent: str, user: Any, via: str) -> int:
    """Bulk relabel: one correction per email, all or nothing."""
    if not intents.is_intent(new_intent):
        raise InvalidIntent(f"unknown intent {new_intent!r}")
    with transaction.atomic():
        count = 0
        for email in emails:
            record_correction(email, new_intent, user, via=via)
            count += 1
    return count


def requeue(emails: Iterable[Email]) -> int:
    """Send emails back to pending and queue them again (after a failure or a new model)."""
    ids = [e.pk for e in emails if not e.is_corrected and e.status != Email.Status.SET_ASIDE]
    with transaction.atomic():
        Email.objects.filter(pk__in=ids).update(status=Email.Status.PENDING, last_error="")
        queue_classification(ids)
    return len(ids)
