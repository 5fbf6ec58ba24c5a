"""The Drift page: the latest verdicts, what changed and since when, and the history."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from mlops.models import DriftCheck, DriftRun

# The drift code (scipy, scikit-learn, matplotlib) is imported inside the views: workers
# import this module through the URL checks, and their hot path must not pay for it.

HISTORY = 30

# What each check's score means, for people who do not read p-values.
SCORE_MEANS = {
    "intent_mix": "PSI against the training mix",
    "intent_mix_previous": "PSI against the previous window",
    "confidence": "KS distance",
    "model_outputs": "largest KS distance over the 77 probabilities",
    "text_features": "MMD² between mean n-gram vectors",
    "text_length": "KS distance",
    "unknown_words": "mean share of unknown words",
    "non_english": "share not in English",
    "review_rate": "share under the review threshold",
}


@login_required
def drift_page(request: HttpRequest) -> HttpResponse:
    """Any logged-in user (agents and staff) may read it; nothing here changes state."""
    from mlops import drift, drift_plots, drift_runs

    runs = list(DriftRun.objects.order_by("-created_at", "-id")[:HISTORY])
    latest = runs[0] if runs else None
    by_run: dict[int, dict[str, DriftCheck]] = {}
    for check in DriftCheck.objects.filter(run__in=runs):
        by_run.setdefault(check.run_id, {})[check.name] = check
    rows = []
    if latest is not None:
        for name, title in drift.CHECKS.items():
            check = by_run.get(latest.pk, {}).get(name)
            first, quiet = (
                drift_runs.alarm_since(runs, by_run, name)
                if check and check.verdict == drift.DRIFT
                else (None, None)
            )
            since = None
            if first is not None:
                # The shift began after the last quiet window ended, as far as we can tell.
                when = quiet.window_end if quiet and quiet.window_end else first.window_start
                since = {"when": when, "after": quiet is not None, "run": first}
            rows.append(
                {
                    "name": name,
                    "title": title,
                    "means": SCORE_MEANS[name],
                    "check": check,
                    "since": since,
                    "p": _p_value(check.p_value if check else None),
                }
            )
    images = []
    if latest is not None:
        images = [
            {"name": name, "title": title}
            for name, title in drift_plots.IMAGES.items()
            if (drift_plots.folder(latest.pk) / f"{name}.png").is_file()
        ]
    return render(
        request,
        "mlops/drift.html",
        {
            "latest": latest,
            "rows": rows,
            "runs": runs,
            "images": images,
            "moved": _moved_intents(latest),
        },
    )


@login_required
def drift_image(request: HttpRequest, run_id: int, name: str) -> FileResponse:
    from mlops import drift_plots

    if name not in drift_plots.IMAGES:
        raise Http404("No such plot")
    path = drift_plots.folder(run_id) / f"{name}.png"
    if not path.is_file():
        raise Http404("No such plot")
    return FileResponse(path.open("rb"), content_type="image/png")


def _moved_intents(run: DriftRun | None, top: int = 5) -> list[dict]:
    """The intents whose share moved most against the training data, for the summary line."""
    summary = run.summary if run else {}
    if not summary.get("labels") or not sum(summary.get("intents") or []):
        return []
    n = sum(summary["intents"])
    moved = [
        {"intent": label, "now": count / n, "before": prior}
        for label, count, prior in zip(
            summary["labels"], summary["intents"], summary["prior"], strict=True
        )
    ]
    moved.sort(key=lambda m: -abs(m["now"] - m["before"]))
    return moved[:top]


def _p_value(p: float | None) -> str:
    if p is None:
        return "—"
    return "< 1e-16" if p < 1e-16 else f"{p:.2g}"
