"""The overview: volume per intent, routing, agreement, and the model that serves."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from inbox import accuracy, charts, intents, stats
from inbox.models import Email
from inbox.views import confusions
from mlops import registry

DAYS = 14  # the default period
# The periods the page offers: every figure on it (volume, routing, agreement, live
# accuracy, SLA) covers the same one, chosen with ?days=.
PERIODS = (1, 7, 14, 30, 90)
# Evaluation plots, as written to CLEANINBOX_REPORTS_DIR/<version>/<name>.png.
REPORT_IMAGES = {
    "confusion_matrix": "Confusion matrix",
    "reliability": "Reliability (is confidence honest?)",
    "selective": "Accuracy against share auto-routed",
    "risk_coverage": "Error against share auto-routed",
}
UNCLASSIFIED = "Unclassified"


def period(request: HttpRequest) -> int:
    """The page's period in days (?days=), one of PERIODS; DAYS when absent or unknown."""
    try:
        days = int(request.GET.get("days", DAYS))
    except ValueError:
        return DAYS
    return days if days in PERIODS else DAYS


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    days = period(request)
    since = timezone.now() - timedelta(days=days)
    volume = stats.daily_volume(days)
    model = registry.active()
    return render(
        request,
        "inbox/overview.html",
        {
            "days": days,
            "periods": PERIODS,
            "since": since,
            **sla_context(since),
            "volume": volume,
            "chart": mark_safe(_family_chart(volume, days)),  # every label escaped in inbox.charts
            "legend": _legend(volume),
            "intent_rows": _intent_rows(volume),
            "routing": stats.routing(since),
            "agreement": stats.agreement(since),
            "agreement_all": stats.agreement(),
            "queue": _queue_sizes(),
            "model": model,
            "threshold": stats.routing_threshold(model.threshold) if model else None,
            "reports": _reports(model.version) if model else [],
            "confusions": confusions.top_confusions(model.version) if model else None,
            "live": _live_accuracy(model.version if model else None, days),
            "live_days": days,
        },
    )


@login_required
def report_image(request: HttpRequest, version: str, name: str) -> FileResponse:
    """One evaluation PNG of a model version, for logged-in users only."""
    path = _report_path(version, name)
    if path is None or not path.is_file():
        raise Http404("No such report")
    return FileResponse(path.open("rb"), content_type="image/png")


def _report_path(version: str, name: str) -> Path | None:
    if name not in REPORT_IMAGES:
        return None
    root = Path(settings.CLEANINBOX_REPORTS_DIR).resolve()
    path = (root / version / f"{name}.png").resolve()
    # A version is a folder name; anything that escapes the reports folder is refused.
    return path if path.parent.parent == root else None


def _reports(version: str) -> list[dict]:
    return [
        {"name": name, "title": title}
        for name, title in REPORT_IMAGES.items()
        if (path := _report_path(version, name)) is not None and path.is_file()
    ]


def _queue_sizes() -> dict[str, int]:
    counts = stats.folder_counts()
    return {
        s: counts.status(s)
        for s in (Email.Status.NEEDS_REVIEW, Email.Status.PENDING, Email.Status.FAILED)
    }


def _colours() -> dict[str, str]:
    return {fam: charts.PALETTE[i] for i, fam in enumerate([*intents.FAMILIES, ""])}


def _legend(volume: stats.Volume) -> list[dict]:
    colours = _colours()
    return [
        {"name": fam or UNCLASSIFIED, "colour": colours[fam], "total": sum(series)}
        for fam, series in volume.by_family().items()
    ]


def _family_chart(volume: stats.Volume, days: int) -> str:
    colours = _colours()
    series = [
        charts.Series(fam or UNCLASSIFIED, values, colours[fam])
        for fam, values in volume.by_family().items()
    ]
    labels = [f"{day.day} {day:%b}" for day in volume.days]
    return charts.stacked_bars(labels, series, title=f"Emails received per day, last {days} days")


def _intent_rows(volume: stats.Volume) -> list[dict]:
    total = volume.total or 1
    return [
        {
            "intent": name,
            "family": intents.family(name),
            "total": count,
            "share": count / total,
            "spark": mark_safe(charts.sparkline(volume.by_intent[name], label=name)),
        }
        for name, count in volume.ranked()
    ]


SMALL_SAMPLE = 30  # fewer reviews than this: the interval is wide, say so in words too
WORST_INTENTS = 10


def _ci_row(label: str, rate: accuracy.Rate) -> dict:
    interval = rate.interval
    return {
        "label": label,
        "rate": rate,
        "interval": interval,
        "small": rate.reviewed < SMALL_SAMPLE,
        "bar": mark_safe(charts.interval(rate.agreement, *interval, label=label))
        if interval
        else "",
    }


def _live_accuracy(production: str | None, days: int) -> dict:
    """Per model version (the one in production first), per week and the worst intents."""
    versions = accuracy.live_accuracy(days)
    versions.sort(key=lambda a: a.version != production)
    focus = versions[0] if versions else None
    return {
        "versions": [
            {
                **_ci_row(acc.version, acc.overall),
                "production": acc.version == production,
                "routed": _ci_row("auto-routed", acc.routed),
                "to_review": _ci_row("sent to review", acc.to_review),
            }
            for acc in versions
        ],
        "focus": focus.version if focus else None,
        "weeks": [
            {**_ci_row(f"week of {week:%d %b}", rate), "week": week}
            for week, rate in (focus.by_week.items() if focus else ())
        ],
        "intents": [
            {**_ci_row(name, rate), "intent": name}
            for name, rate in (focus.intents_worst_first()[:WORST_INTENTS] if focus else ())
        ],
    }


def sla_context(since) -> dict:
    """Context for templates/inbox/_sla.html: SLA breaches per team over the period."""
    rows = stats.sla_summary(since)
    return {
        "sla_rows": rows,
        "sla_overdue": sum(r.overdue for r in rows),
        "sla_urgent_overdue": sum(r.urgent_overdue for r in rows),
        "sla_handled": sum(r.handled for r in rows),
        "sla_late": sum(r.handled_late for r in rows),
    }
