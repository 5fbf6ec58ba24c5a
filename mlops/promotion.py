"""The loop's two decisions about what serves: promote a candidate, roll a version back.

``check_candidates`` runs every candidate waiting for its gates through mlops.gates: all
passed → it serves (workers switch on their next batch); one failed → refused, it stays
registered with the reason; otherwise it keeps waiting (in shadow).

``watch_production`` looks at the version the loop promoted last, for
CLEANINBOX_ROLLBACK_WINDOW_HOURS after its promotion: when agents' reviews of its emails
say its live accuracy is surely under CLEANINBOX_ROLLBACK_MIN_ACCURACY (the upper end of
the 95% Wilson interval is), or its needs-review share is over
CLEANINBOX_ROLLBACK_MAX_REVIEW_RATE, the version it replaced serves again. The event is
recorded (Models page, admin), counted (cleaninbox_model_rollbacks_total, which the
CleaninboxModelRolledBack alert watches) and logged as an error. A version restored by a
rollback is not watched in turn, so two bad versions cannot swap back and forth.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone
from scipy.stats import binomtest

from classifier import artifact
from cleaninbox import metrics
from inbox import reasons
from inbox.models import Email
from mlops import gates, registry, shadow
from mlops.models import CandidateState, ModelEvent, ModelVersion

logger = logging.getLogger(__name__)

# The routing rule's reasons for sending an email to an agent (classifier.routing).
REVIEW_REASONS = (
    reasons.NOT_ENGLISH,
    reasons.NOTHING_TO_CLASSIFY,
    reasons.OUT_OF_SCOPE,
    reasons.LOW_CONFIDENCE,
)


def check_candidates() -> list[CandidateState]:
    """Evaluate every waiting candidate's gates; promote or refuse where they decide."""
    decided = []
    for state in CandidateState.objects.select_related("version").filter(
        verdict=CandidateState.Verdict.PENDING
    ):
        decided.append(check(state))
    return decided


def check(state: CandidateState) -> CandidateState:
    """One candidate: store its gates' answers and act on the verdict."""
    results = gates.evaluate(state)
    verdict, reason = gates.verdict(results)
    state.gates = [r.as_dict() for r in results]
    state.checked_at = timezone.now()
    state.reason = reason
    version = state.version.version
    if verdict == CandidateState.Verdict.PROMOTED:
        previous = registry.active()
        try:
            registry.promote(version)
        except artifact.UnusableModel as exc:  # its files broke since it was measured
            verdict, reason = CandidateState.Verdict.REFUSED, f"its files do not load: {exc}"
            state.reason = reason
    if verdict == CandidateState.Verdict.PROMOTED:
        ModelEvent.objects.create(
            kind=ModelEvent.Kind.PROMOTED, version=version,
            previous=previous.version if previous else "", reason=reason,
            detail={"gates": state.gates},
        )  # fmt: skip
        logger.info("candidate promoted: every gate passed", extra={"model_version": version})
    elif verdict == CandidateState.Verdict.REFUSED:
        ModelEvent.objects.create(
            kind=ModelEvent.Kind.REFUSED, version=version, reason=reason,
            detail={"gates": state.gates},
        )  # fmt: skip
        logger.warning("candidate refused", extra={"model_version": version, "reason": reason})
    if verdict != CandidateState.Verdict.PENDING:
        metrics.GATE_DECISIONS.labels(verdict).inc()
        state.verdict = verdict
        if state.shadow:
            shadow.stop(state)
    state.save()
    return state


# --- rollback ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveFigures:
    """A version's emails since its promotion: classified, sent to review, reviewed, agreed."""

    classified: int
    needs_review: int
    reviewed: int
    agreed: int

    @property
    def review_rate(self) -> float | None:
        return self.needs_review / self.classified if self.classified else None

    @property
    def accuracy(self) -> float | None:
        return self.agreed / self.reviewed if self.reviewed else None

    @property
    def accuracy_upper(self) -> float | None:
        if not self.reviewed:
            return None
        ci = binomtest(self.agreed, self.reviewed).proportion_ci(0.95, method="wilson")
        return float(ci.high)


def live_figures(version: str, since) -> LiveFigures:
    """One query: how the version's emails since ``since`` were routed and reviewed.

    Needs-review counts the model's first decision (``routing_reason`` is kept when an agent
    later sets the intent), reviewed means an agent set the intent (accepting records a
    correction too), agreed that the final intent is the model's.
    """
    counts = Email.objects.filter(model_version=version, classified_at__gte=since).aggregate(
        classified=Count("pk"),
        needs_review=Count("pk", filter=Q(routing_reason__in=REVIEW_REASONS)),
        reviewed=Count("pk", filter=Q(corrected_at__isnull=False)),
        agreed=Count("pk", filter=Q(corrected_at__isnull=False, intent=F("predicted_intent"))),
    )
    return LiveFigures(**counts)


def watch_production() -> ModelEvent | None:
    """Roll back the loop's newest promotion if it degrades live; returns the event."""
    active = registry.active()
    if active is None:
        return None
    last = (
        ModelEvent.objects.filter(kind__in=(ModelEvent.Kind.PROMOTED, ModelEvent.Kind.ROLLED_BACK))
        .order_by("-created_at", "-id")
        .first()
    )
    if last is None or last.kind != ModelEvent.Kind.PROMOTED or last.version != active.version:
        return None  # promoted by hand, or restored by a rollback: not watched
    if not last.previous or timezone.now() - last.created_at > timedelta(
        hours=settings.CLEANINBOX_ROLLBACK_WINDOW_HOURS
    ):
        return None
    figures = live_figures(active.version, last.created_at)
    reason = degraded(figures)
    if reason is None:
        return None
    return rollback(active, last.previous, reason, figures)


def degraded(figures: LiveFigures) -> str | None:
    """Why these live figures call for a rollback, or None."""
    enough = settings.CLEANINBOX_ROLLBACK_MIN_REVIEWED
    floor, ceiling = settings.CLEANINBOX_ROLLBACK_MIN_ACCURACY, settings.CLEANINBOX_ROLLBACK_MAX_REVIEW_RATE  # fmt: skip
    if figures.reviewed >= enough and figures.accuracy_upper < floor:
        return (
            f"live accuracy {figures.accuracy:.1%} on {figures.reviewed} reviewed emails "
            f"(95% upper bound {figures.accuracy_upper:.1%}) is under {floor:.0%}"
        )
    if figures.classified >= enough and figures.review_rate > ceiling:
        return (
            f"{figures.review_rate:.0%} of {figures.classified} emails went to review, "
            f"over {ceiling:.0%}"
        )
    return None


def rollback(active: ModelVersion, previous: str, reason: str, figures: LiveFigures) -> ModelEvent:
    """Serve ``previous`` again instead of ``active``; record, count and log it."""
    registry.promote(previous)
    event = ModelEvent.objects.create(
        kind=ModelEvent.Kind.ROLLED_BACK, version=active.version, previous=previous,
        reason=reason, detail=figures.__dict__,
    )  # fmt: skip
    metrics.MODEL_ROLLBACKS.labels(active.version).inc()
    logger.error(
        "model rolled back",
        extra={"model_version": active.version, "restored": previous, "reason": reason},
    )
    return event
