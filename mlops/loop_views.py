"""The Models page: what serves, what waits in shadow, the gates, retraining and events.

Read-only for every logged-in user; promotion and rollback by hand stay in the admin.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mlops import gates, lineage, promotion, registry, retrain, shadow
from mlops.models import CandidateState, ModelEvent, RetrainRun

CANDIDATES = 5
RUNS = 10
EVENTS = 20
INTENT_ROWS = 20


@login_required
def models_page(request: HttpRequest) -> HttpResponse:
    production = registry.active()
    live = None
    if production is not None and production.promoted_at:
        live = promotion.live_figures(production.version, production.promoted_at)
    candidates = []
    for state in CandidateState.objects.select_related("version", "retrain_run").order_by("-id")[:CANDIDATES]:  # fmt: skip
        report = shadow.report(state.version.version)
        report["by_intent"] = report["by_intent"][:INTENT_ROWS]
        candidates.append({"state": state, "lineage": lineage.describe(state.version), "shadow": report})  # fmt: skip
    return render(
        request,
        "mlops/models.html",
        {
            "production": production,
            "production_lineage": lineage.describe(production) if production else [],
            "live": live,
            "decision": retrain.decide(),
            "limits": gates.limits(),
            "candidates": candidates,
            "runs": RetrainRun.objects.all()[:RUNS],
            "events": ModelEvent.objects.all()[:EVENTS],
        },
    )


def panel_context() -> dict:
    """The Overview's small panel: production, the candidate in shadow, the last event."""
    state = shadow.current()
    return {
        "production": registry.active(),
        "shadow": shadow.report(state.version.version) if state else None,
        "shadow_state": state,
        "event": ModelEvent.objects.exclude(kind=ModelEvent.Kind.SHADOW).first(),
    }
