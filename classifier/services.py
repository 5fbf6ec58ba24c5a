"""Classify stored emails with the active model and record the answers."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from classifier import routing, runtime
from inbox.models import Email

logger = logging.getLogger(__name__)

CLASSIFIABLE = (Email.Status.PENDING, Email.Status.FAILED)


def classify_emails(email_ids: Sequence[int]) -> int:
    """Classify the given emails that still wait for it; returns how many were classified.

    Safe to run twice: emails already classified (or corrected by an agent) are skipped.
    With no usable model the emails stay pending for the sweep to retry later.
    """
    emails = list(Email.objects.filter(pk__in=email_ids, status__in=CLASSIFIABLE))
    if not emails:
        return 0
    model = runtime.active_classifier()
    if model is None:
        logger.warning(
            "no usable model; emails stay pending", extra={"email_ids": [e.pk for e in emails]}
        )
        return 0
    threshold = runtime.review_threshold(model)
    energy_limit = runtime.energy_limit(model)
    batch = settings.CLEANINBOX_PREDICT_BATCH
    done = 0
    for start in range(0, len(emails), batch):
        chunk = emails[start : start + batch]
        predictions = model.predict([e.classifier_text for e in chunk], k=3)
        threads = thread_contexts(chunk)
        now = timezone.now()
        with transaction.atomic():
            # Re-check under lock: an agent may have corrected one while we predicted.
            fresh = {
                e.pk: e
                for e in Email.objects.select_for_update().filter(
                    pk__in=[e.pk for e in chunk], status__in=CLASSIFIABLE
                )
            }
            for email, pred in zip(chunk, predictions, strict=True):
                row = fresh.get(email.pk)
                if row is None:
                    continue
                text = email.classifier_text
                decision = routing.decide(
                    text, pred.label, pred.confidence, threshold,
                    language=routing.identify_language(text),
                    energy=pred.energy, energy_limit=energy_limit,
                    thread=threads.get(email.thread_root_id),
                )  # fmt: skip
                row.intent = decision.intent
                row.predicted_intent = pred.label
                row.confidence = pred.confidence
                row.top_k = [{"intent": label, "probability": p} for label, p in pred.top_k]
                row.model_version = model.version
                row.classified_at = now
                row.attempts += 1
                row.last_error = ""
                row.status = decision.status
                row.routing_reason = decision.reason
                row.save(
                    update_fields=[
                        "intent", "predicted_intent", "confidence", "top_k", "model_version",
                        "classified_at", "attempts", "last_error", "status", "routing_reason",
                    ]
                )  # fmt: skip
                done += 1
                logger.info(
                    "email classified",
                    extra={
                        "email_id": row.pk,
                        "intent": pred.label,
                        "confidence": round(pred.confidence, 4),
                        "status": row.status,
                        "routing_reason": row.routing_reason,
                        "model_version": model.version,
                    },
                )
    return done


def thread_contexts(emails: Sequence[Email]) -> dict[int, routing.Thread]:
    """thread_root id -> the root's intent and subject, for roots whose intent is settled
    (routed by the model or set by an agent); one query for a whole batch."""
    root_ids = {e.thread_root_id for e in emails if e.thread_root_id}
    if not root_ids:
        return {}
    roots = Email.objects.filter(pk__in=root_ids, status=Email.Status.CLASSIFIED).exclude(intent="")
    return {
        pk: routing.Thread(intent=intent, subject=subject)
        for pk, intent, subject in roots.values_list("pk", "intent", "subject")
    }


def mark_failed(email_ids: Sequence[int], error: str) -> None:
    """Record that classification gave up on these emails (shown in the Failed folder)."""
    Email.objects.filter(pk__in=email_ids, status=Email.Status.PENDING).update(
        status=Email.Status.FAILED, last_error=error[:2000]
    )
    logger.error("classification failed", extra={"email_ids": list(email_ids), "error": error})
