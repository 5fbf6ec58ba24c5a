"""Shadow mode: a candidate answers live mail beside production, where no one sees it.

Production's batch path (classifier.services) is untouched: when it has written a batch it
sends ``emails_routed`` inside its transaction, and the receiver here only asks, once that
transaction has committed, for a ``shadow_pending`` task on the maintenance queue. That
task claims nothing and changes no email: it reads the emails production classified since
the shadow started and has no shadow answer for yet, predicts them in batches with the
candidate (loaded once per process) and stores each answer beside production's
(``ShadowPrediction``). A lost nudge loses nothing: the next nudge, or the loop's beat
check, finds the same emails. Production labels are never delayed by it: the nudge is sent
after their commit, and the work runs on another queue.

The figures (``report``): agreement with production, and accuracy against agents' later
corrections for both models on the same emails, overall and per intent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from classifier import artifact
from cleaninbox import metrics
from inbox import intents
from inbox.models import Email
from mlops import registry
from mlops.models import CandidateState, ModelEvent, ModelVersion, ShadowPrediction

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_loaded: tuple[tuple, artifact.Classifier | None] | None = None
ANSWERED = (Email.Status.CLASSIFIED, Email.Status.NEEDS_REVIEW)


def current() -> CandidateState | None:
    """The candidate in shadow, if any (one at a time)."""
    return CandidateState.objects.select_related("version").filter(shadow=True).first()


def start(row: ModelVersion) -> CandidateState:
    """Put ``row`` in shadow (stopping any other shadow) from now on."""
    with transaction.atomic():
        CandidateState.objects.filter(shadow=True).exclude(version=row).update(
            shadow=False, shadow_stopped_at=timezone.now()
        )
        state, _ = CandidateState.objects.get_or_create(version=row)
        state.shadow, state.shadow_started_at, state.shadow_stopped_at = True, timezone.now(), None
        state.save(update_fields=["shadow", "shadow_started_at", "shadow_stopped_at"])
        ModelEvent.objects.create(kind=ModelEvent.Kind.SHADOW, version=row.version)
    logger.info("candidate in shadow", extra={"model_version": row.version})
    return state


def stop(state: CandidateState) -> None:
    state.shadow, state.shadow_stopped_at = False, timezone.now()
    state.save(update_fields=["shadow", "shadow_stopped_at"])


def on_emails_routed(sender: Any, email_ids: list[int], cause: str, **kwargs: Any) -> None:
    """``emails_routed`` receiver: after production's write commits, nudge the shadow."""
    if cause != "classified" or not CandidateState.objects.filter(shadow=True).exists():
        return
    from mlops import tasks

    # robust: a broker hiccup here must never fail production's write, which committed.
    transaction.on_commit(tasks.shadow_pending.delay, robust=True)


def predict_pending(time_budget: float = 30.0) -> int:
    """Answer, with the candidate in shadow, every email production classified since the
    shadow started and the candidate has not answered; returns how many were stored."""
    state = current()
    if state is None:
        return 0
    model = _candidate_model(state.version)
    if model is None:
        return 0
    deadline, done = time.monotonic() + time_budget, 0
    while time.monotonic() < deadline:
        emails = list(_unanswered(state)[: settings.CLEANINBOX_SHADOW_BATCH])
        if not emails:
            break
        predictions = model.predict([e.classifier_text for e in emails], k=1)
        ShadowPrediction.objects.bulk_create(
            [
                ShadowPrediction(
                    email=email, model_version=model.version, intent=p.label,
                    confidence=p.confidence, production_version=email.model_version,
                    production_intent=email.predicted_intent,
                )
                for email, p in zip(emails, predictions, strict=True)
            ],
            ignore_conflicts=True,  # two workers on the same emails: one answer each
        )  # fmt: skip
        metrics.SHADOW_PREDICTIONS.labels(model.version).inc(len(emails))
        done += len(emails)
    return done


def _unanswered(state: CandidateState):
    answered = ShadowPrediction.objects.filter(
        email=OuterRef("pk"), model_version=state.version.version
    )
    return (
        Email.objects.filter(status__in=ANSWERED, classified_at__gte=state.shadow_started_at)
        .exclude(predicted_intent="")
        .filter(~Exists(answered))
        .only("pk", "subject", "body_text", "model_input", "model_version", "predicted_intent")
        .order_by("pk")
    )


def _candidate_model(row: ModelVersion) -> artifact.Classifier | None:
    global _loaded
    key = (row.version, row.local_path)
    with _lock:
        if _loaded is not None and _loaded[0] == key:
            return _loaded[1]
        try:
            model = artifact.load(registry.local_path(row), expected_labels=intents.LABELS)
        except artifact.UnusableModel as exc:
            logger.error("shadow model unusable", extra={"model_version": row.version, "error": str(exc)})  # fmt: skip
            model = None
        _loaded = (key, model)
        return model


# --- figures -----------------------------------------------------------------------------


def _corrected(version: str):
    return ShadowPrediction.objects.filter(model_version=version, email__corrected_at__isnull=False)


def corrected_figures(version: str) -> dict[str, int]:
    """On shadowed emails an agent reviewed since: how many, and how many each got right."""
    return _corrected(version).aggregate(
        n=Count("pk"),
        candidate_correct=Count("pk", filter=Q(intent=F("email__intent"))),
        production_correct=Count("pk", filter=Q(production_intent=F("email__intent"))),
    )


def report(version: str) -> dict[str, Any]:
    """Agreement with production and accuracy on corrected emails, overall and per intent
    (agreement by the intent production gave, accuracy by the agent's final intent); a few
    grouped queries, whatever the number of answers."""
    agree = Q(intent=F("production_intent"))
    by_intent: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    answered = (
        ShadowPrediction.objects.filter(model_version=version)
        .values("production_intent")
        .annotate(n=Count("pk"), agreed=Count("pk", filter=agree))
    )
    for row in answered:
        by_intent[row["production_intent"]].update(n=row["n"], agreed=row["agreed"])
    corrected = (
        _corrected(version)
        .values("email__intent")
        .annotate(
            corrected=Count("pk"),
            candidate_correct=Count("pk", filter=Q(intent=F("email__intent"))),
            production_correct=Count("pk", filter=Q(production_intent=F("email__intent"))),
        )
    )
    for row in corrected:
        by_intent[row.pop("email__intent")].update(row)
    total = sum(r["n"] for r in by_intent.values())
    agreed = sum(r["agreed"] for r in by_intent.values())
    figures = corrected_figures(version)
    rows = [
        {
            "intent": name,
            "n": r["n"],
            "agreement": r["agreed"] / r["n"] if r["n"] else None,
            "corrected": r["corrected"],
            "candidate_accuracy": r["candidate_correct"] / r["corrected"] if r["corrected"] else None,
            "production_accuracy": r["production_correct"] / r["corrected"] if r["corrected"] else None,
        }
        for name, r in by_intent.items()
    ]  # fmt: skip
    rows.sort(key=lambda r: (-r["corrected"], -r["n"], r["intent"]))
    n = figures["n"]
    return {
        "version": version,
        "answered": total,
        "agreement": agreed / total if total else None,
        "corrected": n,
        "candidate_accuracy": figures["candidate_correct"] / n if n else None,
        "production_accuracy": figures["production_correct"] / n if n else None,
        "by_intent": rows,
    }
