"""Counts behind the inbox's folders and the overview page: plain functions over the ORM.

Each function runs a fixed, small number of grouped queries whatever the inbox's size,
so the sidebar can be rendered on every page and refreshed by polling.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from classifier import routing as rules
from classifier.runtime import threshold_for
from inbox import intents
from inbox.models import Correction, Email, Priority, Team
from mlops.models import ModelVersion


@dataclass
class FolderCounts:
    """How many emails each queue and each intent folder holds right now.

    An intent folder holds the emails routed there: classified by a confident model or
    confirmed by an agent. Emails waiting for review are counted only in the review queue.
    """

    by_status: dict[str, int] = field(default_factory=dict)
    by_intent: dict[str, int] = field(default_factory=dict)
    # Open (not yet handled) mail per team slug ("none": routed to no team).
    by_team: dict[str, TeamLoad] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    def status(self, status: str) -> int:
        return self.by_status.get(status, 0)

    def intent(self, name: str) -> int:
        return self.by_intent.get(name, 0)

    def family(self, name: str) -> int:
        return sum(self.intent(i) for i in intents.FAMILIES.get(name, ()))

    def team(self, slug: str) -> int:
        load = self.by_team.get(slug)
        return load.open if load else 0


@dataclass(frozen=True)
class TeamLoad:
    """A team's open mail: emails nobody has handled yet, those past their SLA, urgent ones."""

    open: int = 0
    overdue: int = 0
    urgent: int = 0


# Mail that waits for an agent: routed, in review or failed, and not handled yet.
OPEN_STATUSES = (Email.Status.CLASSIFIED, Email.Status.NEEDS_REVIEW, Email.Status.FAILED)


def open_mail() -> QuerySet[Email]:
    return Email.objects.filter(status__in=OPEN_STATUSES, first_handled_at__isnull=True)


def team_loads(now: datetime | None = None) -> dict[str, TeamLoad]:
    """Open, overdue and urgent mail per team slug ("none" for no team): one query."""
    now = now or timezone.now()
    rows = (
        open_mail()
        .order_by()
        .values("team__slug")
        .annotate(
            n=Count("id"),
            overdue=Count("id", filter=Q(sla_due_at__lt=now)),
            urgent=Count("id", filter=Q(priority=Priority.URGENT)),
        )
    )
    return {r["team__slug"] or "none": TeamLoad(r["n"], r["overdue"], r["urgent"]) for r in rows}


def folder_counts() -> FolderCounts:
    """Emails per status, routed emails per intent and open mail per team: two queries."""
    counts = FolderCounts()
    rows = Email.objects.order_by().values("status", "intent").annotate(n=Count("id"))
    for row in rows:
        counts.by_status[row["status"]] = counts.by_status.get(row["status"], 0) + row["n"]
        if row["status"] == Email.Status.CLASSIFIED and row["intent"]:
            counts.by_intent[row["intent"]] = row["n"]
    counts.by_team = team_loads()
    return counts


@dataclass
class Volume:
    """Emails received per day and intent over a window of days (oldest first).

    Emails without an intent yet are counted under "" (unclassified).
    """

    days: list[date]
    by_intent: dict[str, list[int]]

    @property
    def total(self) -> int:
        return sum(sum(series) for series in self.by_intent.values())

    def per_day(self) -> list[int]:
        return [sum(s[i] for s in self.by_intent.values()) for i in range(len(self.days))]

    def by_family(self) -> dict[str, list[int]]:
        """Daily counts per family, in the families' order; unclassified under ""."""
        out: dict[str, list[int]] = {}
        for fam in [*intents.FAMILIES, ""]:
            names = intents.FAMILIES.get(fam, ("",))
            series = [self.by_intent[n] for n in names if n in self.by_intent]
            if series:
                out[fam] = [sum(day) for day in zip(*series, strict=True)]
        return out

    def ranked(self) -> list[tuple[str, int]]:
        """(intent, total) for every intent seen in the window, biggest first."""
        totals = [(name, sum(s)) for name, s in self.by_intent.items()]
        return sorted(totals, key=lambda item: (-item[1], item[0]))


def daily_volume(days: int = 14, today: date | None = None) -> Volume:
    """Emails received on each of the last ``days`` days (today included), by intent."""
    today = today or timezone.localdate()
    window = [today - timedelta(days=days - 1 - i) for i in range(days)]
    start = _start_of(window[0])
    rows = (
        Email.objects.filter(
            received_at__gte=start, received_at__lt=_start_of(today + timedelta(1))
        )
        .annotate(day=TruncDate("received_at", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values("day", "intent")
        .annotate(n=Count("id"))
    )
    index = {day: i for i, day in enumerate(window)}
    by_intent: dict[str, list[int]] = defaultdict(lambda: [0] * days)
    for row in rows:
        if row["day"] in index:
            by_intent[row["intent"]][index[row["day"]]] += row["n"]
    return Volume(days=window, by_intent=dict(by_intent))


@dataclass
class Routing:
    """The model's routing decisions: confident enough to route, or sent to an agent."""

    auto_routed: int
    to_review: int

    @property
    def total(self) -> int:
        return self.auto_routed + self.to_review

    @property
    def auto_share(self) -> float | None:
        return self.auto_routed / self.total if self.total else None


CONTENT_REASONS = (rules.NOT_ENGLISH, rules.NOTHING_TO_CLASSIFY, rules.OUT_OF_SCOPE)


def routing(since: datetime) -> Routing:
    """Routing decisions for emails the model classified since ``since``.

    The status cannot tell (a corrected email is "classified" whichever way it came), so
    the decision is recomputed: confidence against the threshold its model version used,
    except that mail sent to review for its content (not English, nothing to classify,
    out of scope) was not routed however sure the model was, and a short reply routed on
    its thread's intent was, however unsure.
    """
    classified = Email.objects.filter(classified_at__gte=since, confidence__isnull=False)
    versions = classified.order_by().values_list("model_version", flat=True).distinct()
    thresholds = dict(
        ModelVersion.objects.filter(version__in=list(versions)).values_list("version", "threshold")
    )
    routed = review = 0
    for version in versions:
        threshold = routing_threshold(thresholds.get(version))
        sure = Q(confidence__gte=threshold) & ~Q(routing_reason__in=CONTENT_REASONS)
        routed_q = sure | Q(routing_reason=rules.FROM_THREAD)
        counts = classified.filter(model_version=version).aggregate(
            routed=Count("id", filter=routed_q), review=Count("id", filter=~routed_q)
        )
        routed += counts["routed"]
        review += counts["review"]
    return Routing(auto_routed=routed, to_review=review)


def routing_threshold(version_threshold: float | None) -> float:
    """The threshold classification applies (one rule, in classifier.runtime)."""
    return threshold_for(version_threshold)


@dataclass
class Agreement:
    """How often agents, when they set an intent, chose the model's own answer."""

    corrections: int
    agreed: int

    @property
    def rate(self) -> float | None:
        return self.agreed / self.corrections if self.corrections else None


def agreement(since: datetime | None = None) -> Agreement:
    """Corrections whose new intent equals the model's answer (accepts count as agreement).

    Corrections of emails the model never classified are left out: there was nothing to
    agree with.
    """
    corrections = Correction.objects.exclude(model_intent="")
    if since is not None:
        corrections = corrections.filter(created_at__gte=since)
    counts = corrections.aggregate(
        total=Count("id"), agreed=Count("id", filter=Q(new_intent=F("model_intent")))
    )
    return Agreement(corrections=counts["total"], agreed=counts["agreed"])


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


@dataclass
class SlaRow:
    team: str  # the team's name ("No team" for unrouted mail)
    slug: str
    open: int = 0
    overdue: int = 0
    urgent_overdue: int = 0
    handled: int = 0
    handled_late: int = 0

    @property
    def met_share(self) -> float | None:
        return (self.handled - self.handled_late) / self.handled if self.handled else None


def sla_summary(since: datetime, now: datetime | None = None) -> list[SlaRow]:
    """Per team: open mail and how much of it is past its SLA now, and the mail first
    handled since ``since`` with how much of it was handled late. Two grouped queries."""
    now = now or timezone.now()
    names = dict(Team.objects.values_list("slug", "name"))
    rows: dict[str, SlaRow] = {}

    def row(slug: str | None) -> SlaRow:
        key = slug or "none"
        if key not in rows:
            rows[key] = SlaRow(team=names.get(key, "No team"), slug=key)
        return rows[key]

    open_rows = (
        open_mail()
        .filter(sla_due_at__isnull=False)
        .order_by()
        .values("team__slug")
        .annotate(
            n=Count("id"),
            overdue=Count("id", filter=Q(sla_due_at__lt=now)),
            urgent=Count("id", filter=Q(sla_due_at__lt=now, priority=Priority.URGENT)),
        )
    )
    for r in open_rows:
        target = row(r["team__slug"])
        target.open, target.overdue, target.urgent_overdue = r["n"], r["overdue"], r["urgent"]
    handled_rows = (
        Email.objects.filter(first_handled_at__gte=since, sla_due_at__isnull=False)
        .order_by()
        .values("team__slug")
        .annotate(n=Count("id"), late=Count("id", filter=Q(first_handled_at__gt=F("sla_due_at"))))
    )
    for r in handled_rows:
        target = row(r["team__slug"])
        target.handled, target.handled_late = r["n"], r["late"]
    return sorted(rows.values(), key=lambda r: (-r.overdue, r.team))
