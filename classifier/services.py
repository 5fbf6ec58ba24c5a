"""Classify stored emails with the active model: the one batch path.

The database is the queue. Ingestion stores emails as ``pending`` and sends a small
nudge; a worker then *claims* whatever is waiting (``SELECT … FOR UPDATE SKIP LOCKED``,
oldest first, up to CLEANINBOX_CLASSIFY_BATCH rows, lingering CLEANINBOX_CLASSIFY_LINGER_MS
for a batch to fill), predicts once for the whole batch, and writes every answer in one
bulk statement. Emails that arrived in separate requests are classified together.

The guarantees come from the rows, not from the broker:
- a claim is a lease (``claimed_until``): a worker that dies mid-batch gives its rows
  back when the lease runs out, and the sweep nudges a worker to take them;
- the write only touches rows still ``pending`` and never corrected, under a row lock:
  an email is classified once, and an agent's correction is never overwritten;
- a lost nudge (Redis restarted, hung or down) loses nothing: the rows wait in
  PostgreSQL and the next nudge or sweep finds them.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from classifier import routing, runtime
from classifier.artifact import Classifier, Prediction
from cleaninbox import metrics
from inbox import signals, triage
from inbox.models import Email

logger = logging.getLogger(__name__)

CLASSIFIABLE = (Email.Status.PENDING, Email.Status.FAILED)
RESULT_FIELDS = [
    "intent", "predicted_intent", "confidence", "top_k", "model_version", "classified_at",
    "attempts", "last_error", "status", "routing_reason", "claimed_until",
    *triage.TRIAGE_FIELDS,
]  # fmt: skip


def classify_pending(time_budget: float | None = None) -> int:
    """Drain the queue: claim, predict, write, until nothing is waiting or ``time_budget``
    seconds (CLEANINBOX_DRAIN_SECONDS) have passed; returns how many emails were written.

    With no usable model nothing is claimed: the emails stay pending for a later nudge.
    """
    budget = settings.CLEANINBOX_DRAIN_SECONDS if time_budget is None else time_budget
    deadline = time.monotonic() + budget
    done = 0
    while True:
        model = runtime.active_classifier()  # per batch: a promotion applies at once
        if model is None:
            metrics.CLASSIFY_FAILURES.labels("no_model").inc()
            logger.warning("no usable model; emails stay pending")
            return done
        rows = claim_waiting()
        if not rows:
            return done
        done += classify_claimed(rows, model)
        if time.monotonic() >= deadline:
            # Hand over rather than hold a worker (and its time limit) for ever: another
            # nudge lets other tasks of this queue run in between.
            from inbox import nudge

            nudge.request()
            return done


def classify_emails(email_ids: Sequence[int]) -> int:
    """Classify these emails now, if they still wait for it; returns how many were written.

    The same path as the queue, for given ids (tests, the admin's re-queue, tools). Safe
    to run twice: classified or corrected emails are skipped.
    """
    model = runtime.active_classifier()
    if model is None:
        metrics.CLASSIFY_FAILURES.labels("no_model").inc()
        logger.warning("no usable model; emails stay pending", extra={"email_ids": list(email_ids)})
        return 0
    rows = claim(len(email_ids), ids=email_ids)
    return classify_claimed(rows, model) if rows else 0


def claim(limit: int, ids: Sequence[int] | None = None) -> list[Email]:
    """Lease up to ``limit`` waiting emails to this worker (oldest first), or those of
    ``ids`` that wait; rows another worker holds are skipped, not waited for."""
    now = timezone.now()
    unclaimed = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    queryset = Email.objects.select_for_update(skip_locked=True).filter(unclaimed)
    if ids is None:
        queryset = queryset.filter(status=Email.Status.PENDING).order_by("ingested_at", "pk")
    else:
        queryset = queryset.filter(pk__in=list(ids), status__in=CLASSIFIABLE).order_by("pk")
    with transaction.atomic():
        rows = list(queryset[:limit])
        if rows:
            lease = timedelta(seconds=settings.CLEANINBOX_CLAIM_LEASE_SECONDS)
            Email.objects.filter(pk__in=[r.pk for r in rows]).update(claimed_until=now + lease)
    return rows


def claim_waiting() -> list[Email]:
    """One batch: what is waiting, topped up for at most CLEANINBOX_CLASSIFY_LINGER_MS so
    that emails arriving a few milliseconds apart share a model call."""
    size = settings.CLEANINBOX_CLASSIFY_BATCH
    rows = claim(size)
    if not rows:
        return rows
    linger_until = time.monotonic() + settings.CLEANINBOX_CLASSIFY_LINGER_MS / 1000
    while len(rows) < size and time.monotonic() < linger_until:
        time.sleep(min(0.01, max(0.0, linger_until - time.monotonic())))
        rows += claim(size - len(rows))
    return rows


def classify_claimed(rows: list[Email], model: Classifier) -> int:
    """Predict once for the claimed ``rows`` and write the answers in one statement."""
    rows = sorted(rows, key=lambda r: len(r.classifier_text))  # similar lengths pad less
    metrics.CLASSIFY_BATCH_SIZE.observe(len(rows))
    started = time.perf_counter()
    try:
        predictions: list[Prediction | Exception] = list(
            model.predict([r.classifier_text for r in rows], k=3)
        )
    except Exception:
        # One unreadable text must not fail its neighbours: ask again one at a time.
        logger.exception("batch prediction failed; retrying one email at a time")
        predictions = [_predict_one(model, r) for r in rows]
    metrics.MODEL_PREDICT_SECONDS.labels(model.kind).observe(time.perf_counter() - started)
    predict_ms = (time.perf_counter() - started) * 1000
    written = _write(rows, predictions, model)
    statuses = Counter(status for _, status in written)
    logger.info(
        "batch classified",
        extra={
            "emails": len(written),
            "claimed": len(rows),
            "email_ids": [row.pk for row in rows],  # follow one email through the logs
            "statuses": dict(statuses),
            "model_version": model.version,
            "predict_ms": round(predict_ms, 1),
        },
    )
    return sum(1 for _, status in written if status != Email.Status.FAILED)


def _predict_one(model: Classifier, row: Email) -> Prediction | Exception:
    try:
        return model.predict([row.classifier_text], k=3)[0]
    except Exception as exc:
        return exc


def _write(
    rows: list[Email], predictions: Sequence[Prediction | Exception], model: Classifier
) -> list[tuple[int, str]]:
    """Write the answers of rows still waiting and never corrected; (id, status) written.

    An agent may have corrected a row, or a worker whose lease ran out may have come back
    and written it, while we predicted: the write skips such rows, under a row lock.
    """
    threshold = runtime.review_threshold(model)
    energy_limit = runtime.energy_limit(model)
    threads = thread_contexts(rows)
    policy = triage.load_policy()  # once per batch: team, priority and SLA of every row
    now = timezone.now()
    answers = [
        triage.apply(_apply(row, pred, model, now, threshold, energy_limit, threads), policy)
        for row, pred in zip(rows, predictions, strict=True)
    ]
    if connection.vendor == "postgresql":
        with transaction.atomic():
            written = _update_returning(answers)
            changed = [row for row in answers if row.pk in written]
            _send_routed(changed)
    else:
        with transaction.atomic():
            live = set(
                Email.objects.select_for_update()
                .filter(pk__in=[r.pk for r in rows], status__in=CLASSIFIABLE, corrected_at__isnull=True)
                .values_list("pk", flat=True)
            )  # fmt: skip
            changed = [row for row in answers if row.pk in live]
            Email.objects.bulk_update(changed, RESULT_FIELDS)
            _send_routed(changed)
    _observe(changed, model, now)
    return [(row.pk, row.status) for row in changed]


def _send_routed(changed: list[Email]) -> None:
    """Tell receivers (hand-off, …) which emails got an intent, inside the write's transaction."""
    ids = [row.pk for row in changed if row.status != Email.Status.FAILED]
    if ids:
        signals.emails_routed.send(sender=Email, email_ids=ids, cause="classified")


# One statement for the whole batch: UPDATE … FROM unnest(arrays). Django's bulk_update
# builds a CASE per column and row, which cost 3/4 of a worker's time (profiled, 256 rows).
# PostgreSQL re-checks the WHERE clause after waiting for a row lock, so a correction
# committed meanwhile makes the row drop out instead of being overwritten.
_UPDATE_SQL = """
UPDATE inbox_email AS e SET
    intent = v.intent, predicted_intent = v.predicted_intent, confidence = v.confidence,
    top_k = v.top_k::jsonb, model_version = v.model_version, classified_at = v.classified_at,
    attempts = e.attempts + 1, last_error = v.last_error, status = v.status,
    routing_reason = v.routing_reason, claimed_until = NULL,
    team_id = v.team_id, priority = v.priority, sla_due_at = v.sla_due_at
FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::float8[], %s::text[], %s::text[],
            %s::timestamptz[], %s::text[], %s::text[], %s::text[],
            %s::bigint[], %s::smallint[], %s::timestamptz[])
    AS v(id, intent, predicted_intent, confidence, top_k, model_version, classified_at,
         last_error, status, routing_reason, team_id, priority, sla_due_at)
WHERE e.id = v.id AND e.status IN ('pending', 'failed') AND e.corrected_at IS NULL
RETURNING e.id
"""


def _update_returning(rows: list[Email]) -> set[int]:
    columns = [
        [r.pk for r in rows],
        [r.intent for r in rows],
        [r.predicted_intent for r in rows],
        [r.confidence for r in rows],
        [json.dumps(r.top_k) for r in rows],
        [r.model_version for r in rows],
        [r.classified_at for r in rows],
        [r.last_error for r in rows],
        [r.status for r in rows],
        [r.routing_reason for r in rows],
        [r.team_id for r in rows],
        [int(r.priority) for r in rows],
        [r.sla_due_at for r in rows],
    ]
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE_SQL, columns)
        return {pk for (pk,) in cursor.fetchall()}


def _apply(
    row: Email,
    pred: Prediction | Exception,
    model: Classifier,
    now,
    threshold: float,
    energy_limit: float | None,
    threads: dict[int, routing.Thread],
) -> Email:
    row.attempts += 1
    row.claimed_until = None
    if isinstance(pred, Exception):
        row.status = Email.Status.FAILED
        row.last_error = f"{type(pred).__name__}: {pred}"[:2000]
        return row
    text = row.classifier_text
    decision = routing.decide(
        text, pred.label, pred.confidence, threshold,
        language=routing.identify_language(text),
        energy=pred.energy, energy_limit=energy_limit,
        thread=threads.get(row.thread_root_id),
    )  # fmt: skip
    row.predicted_intent = pred.label
    row.intent = decision.intent
    row.confidence = pred.confidence
    row.top_k = [{"intent": label, "probability": p} for label, p in pred.top_k]
    row.model_version = model.version
    row.classified_at = now
    row.last_error = ""
    row.status = decision.status
    row.routing_reason = decision.reason
    logger.debug(
        "email classified",
        extra={"email_id": row.pk, "intent": pred.label, "status": row.status},
    )
    return row


def _observe(changed: list[Email], model: Classifier, now) -> None:
    counts = Counter(row.status for row in changed)
    for status, n in counts.items():
        if status == Email.Status.FAILED:
            metrics.CLASSIFY_FAILURES.labels("error").inc(n)
        else:
            metrics.EMAILS_CLASSIFIED.labels(status, model.version).inc(n)
    for row in changed:
        if row.status == Email.Status.FAILED:
            continue
        metrics.CLASSIFICATION_CONFIDENCE.observe(row.confidence)
        metrics.INGEST_TO_CLASSIFIED_SECONDS.observe(
            max(0.0, (now - row.ingested_at).total_seconds())
        )


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
        status=Email.Status.FAILED, last_error=error[:2000], claimed_until=None
    )
    metrics.CLASSIFY_FAILURES.labels("error").inc(len(email_ids))
    logger.error("classification failed", extra={"email_ids": list(email_ids), "error": error})
