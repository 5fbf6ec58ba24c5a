"""Live accuracy: how often agents, looking at classified emails afterwards, keep the
model's answer.

An email counts as *reviewed* once an agent set its intent (accepting the model's answer
records a correction with the same intent); it *agrees* when its final intent is the one
the model predicted. Figures are per model version, per intent and per week, always with
the share of emails that were looked at and a 95% Wilson interval: twelve reviews at 100%
are not a fact, and the interval says so.

Reviewed emails are not a random sample: most come from the review queue, where the model
was unsure. Agreement on them understates accuracy on auto-routed mail, so the figures for
emails the model routed itself (spot checks) are kept apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone
from scipy.stats import binomtest

from classifier.runtime import threshold_for
from inbox.models import Email
from mlops.models import ModelVersion

DEFAULT_DAYS = 30
Z95 = 0.95


@dataclass(frozen=True)
class Rate:
    """Agreement among reviewed emails, out of the emails classified."""

    classified: int
    reviewed: int
    agreed: int

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.reviewed if self.reviewed else None

    @property
    def reviewed_share(self) -> float | None:
        return self.reviewed / self.classified if self.classified else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% Wilson score interval of the agreement rate (None without reviews)."""
        if not self.reviewed:
            return None
        ci = binomtest(self.agreed, self.reviewed).proportion_ci(Z95, method="wilson")
        return (float(ci.low), float(ci.high))

    def __add__(self, other: Rate) -> Rate:
        return Rate(
            self.classified + other.classified,
            self.reviewed + other.reviewed,
            self.agreed + other.agreed,
        )


NONE = Rate(0, 0, 0)


@dataclass
class VersionAccuracy:
    """One model version's live figures over the window."""

    version: str
    overall: Rate = NONE
    routed: Rate = NONE  # emails the model routed itself; reviews of them are spot checks
    to_review: Rate = NONE  # emails it sent to an agent
    by_intent: dict[str, Rate] = field(default_factory=dict)
    by_week: dict[date, Rate] = field(default_factory=dict)

    def intents_worst_first(self) -> list[tuple[str, Rate]]:
        """Reviewed intents, lowest upper bound of agreement first (surely bad ones on top)."""
        rows = [(name, r) for name, r in self.by_intent.items() if r.reviewed]
        return sorted(rows, key=lambda item: (item[1].interval[1], -item[1].reviewed, item[0]))


def _classified(since: datetime):
    return Email.objects.filter(classified_at__gte=since).exclude(predicted_intent="")


_COUNTS = {
    "classified": Count("id"),
    "reviewed": Count("id", filter=Q(corrected_at__isnull=False)),
    "agreed": Count("id", filter=Q(corrected_at__isnull=False, intent=F("predicted_intent"))),
}


def _rate(row: dict) -> Rate:
    return Rate(row["classified"], row["reviewed"], row["agreed"])


def live_accuracy(days: int = DEFAULT_DAYS, now: datetime | None = None) -> list[VersionAccuracy]:
    """Per model version (most emails first): overall, per intent, per week, and the
    routed / sent-to-review split, for emails classified in the last ``days`` days.

    Four grouped queries plus one per version (the routing split needs its threshold).
    """
    since = (now or timezone.now()) - timedelta(days=days)
    emails = _classified(since).order_by()
    out: dict[str, VersionAccuracy] = {}
    for row in emails.values("model_version", "predicted_intent").annotate(**_COUNTS):
        acc = out.setdefault(row["model_version"], VersionAccuracy(row["model_version"]))
        acc.by_intent[row["predicted_intent"]] = _rate(row)
        acc.overall = acc.overall + _rate(row)
    weeks = emails.annotate(week=TruncWeek("classified_at")).values("model_version", "week")
    for row in weeks.annotate(**_COUNTS):
        out[row["model_version"]].by_week[row["week"].date()] = _rate(row)
    thresholds = dict(
        ModelVersion.objects.filter(version__in=list(out)).values_list("version", "threshold")
    )
    for version, acc in out.items():
        threshold = threshold_for(thresholds.get(version))
        mine = emails.filter(model_version=version)
        acc.routed = _rate(mine.filter(confidence__gte=threshold).aggregate(**_COUNTS))
        acc.to_review = acc.overall + Rate(
            -acc.routed.classified, -acc.routed.reviewed, -acc.routed.agreed
        )
        acc.by_week = dict(sorted(acc.by_week.items()))
    return sorted(out.values(), key=lambda a: (-a.overall.classified, a.version))
