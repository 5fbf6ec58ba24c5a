"""The promotion gates: the one place that says when a candidate may replace production.

A candidate is promoted automatically only when every gate passes; one failed gate refuses
it (it stays registered, with the reason); a gate that cannot answer yet (too few
corrected live emails in shadow) keeps it waiting. The Models page lists these gates with
their limits, taken from the settings named here.

1. ``test_not_worse`` — on the same test queries, McNemar's exact test of the emails only
   one of the two models gets right: the candidate fails when it is worse with one-sided
   p < CLEANINBOX_GATE_MCNEMAR_ALPHA. A bare accuracy difference of a few emails is noise.
2. ``no_intent_falls`` — no intent's recall on test falls by more than
   CLEANINBOX_GATE_MAX_INTENT_DROP against production (40 test queries per intent: one
   query is 2.5 points).
3. ``routing_promise`` — on test, the error among emails the candidate would auto-route
   (at the threshold it would serve with) stays within the error its validation promised
   (its target) plus CLEANINBOX_GATE_ROUTING_SLACK.
4. ``serving_parity`` — the variant that would serve (ONNX int8, else fp32) matches its
   torch source: the fp32 graph's logits within 1e-4 (checked by the exporter, which
   refuses otherwise) and validation accuracy within the export tolerance (0.2 points).
5. ``shadow_accuracy`` — at least CLEANINBOX_GATE_MIN_SHADOW live emails answered in
   shadow and since reviewed by an agent, and the candidate's accuracy on them not lower
   than production's on the same emails (minus CLEANINBOX_GATE_SHADOW_TOLERANCE). After
   CLEANINBOX_GATE_SHADOW_MAX_DAYS without that sample, the gate fails.
6. ``routing_share`` — on test, the share the candidate would auto-route (at its own
   threshold) is at most CLEANINBOX_GATE_MAX_COVERAGE_DROP below production's share (at
   production's). A candidate can keep its error promise by sending far more mail to
   agents; that is worse for the team, and the review-rate rollback only catches a
   collapse.

Gates 1–4 and 6 are measured once, on test, when the candidate is registered (``measure_offline``)
and stored with it; gate 5 is measured on every check (``evaluate``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.utils import timezone
from scipy.stats import binomtest

from classifier import artifact
from classifier.runtime import threshold_for
from mlops import data, registry
from mlops.models import CandidateState, ModelVersion

GATES: dict[str, str] = {
    "test_not_worse": "Not worse on test beyond noise (McNemar, same queries)",
    "no_intent_falls": "No intent's test recall falls too far",
    "routing_promise": "Auto-routing error on test within its promise",
    "serving_parity": "ONNX/int8 serving variant matches its source",
    "routing_share": "Auto-routes about as much mail as production",
    "shadow_accuracy": "Accuracy on corrected live mail (shadow) not lower than production's",
}


@dataclass(frozen=True)
class GateResult:
    """One gate's answer: passed (True), failed (False) or waiting (None)."""

    name: str
    passed: bool | None
    value: str
    limit: str
    detail: str = ""

    @property
    def title(self) -> str:
        return GATES[self.name]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"title": self.title}


def limits() -> list[tuple[str, str, str]]:
    """(gate title, limit, setting) for the Models page and the README."""
    s = settings
    return [
        (GATES["test_not_worse"], f"one-sided p ≥ {s.CLEANINBOX_GATE_MCNEMAR_ALPHA}", "CLEANINBOX_GATE_MCNEMAR_ALPHA"),
        (GATES["no_intent_falls"], f"≤ {s.CLEANINBOX_GATE_MAX_INTENT_DROP:.0%} recall", "CLEANINBOX_GATE_MAX_INTENT_DROP"),
        (GATES["routing_promise"], f"≤ target + {s.CLEANINBOX_GATE_ROUTING_SLACK:.1%}", "CLEANINBOX_GATE_ROUTING_SLACK"),
        (GATES["serving_parity"], "logits ±1e-4, accuracy −0.2 points", "(mlops.export)"),
        (GATES["routing_share"], f"≥ production's share − {s.CLEANINBOX_GATE_MAX_COVERAGE_DROP:.0%}", "CLEANINBOX_GATE_MAX_COVERAGE_DROP"),
        (GATES["shadow_accuracy"], f"≥ {s.CLEANINBOX_GATE_MIN_SHADOW} corrected emails, ≥ production − {s.CLEANINBOX_GATE_SHADOW_TOLERANCE:.1%}", "CLEANINBOX_GATE_MIN_SHADOW, _SHADOW_TOLERANCE, _SHADOW_MAX_DAYS"),
    ]  # fmt: skip


# --- measured once, on test --------------------------------------------------------------


def measure_offline(
    candidate: ModelVersion,
    production: ModelVersion | None,
    data_dir: Path,
    serving: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Predict the test split with both models and keep what gates 1–4 need (JSON-ready).

    ``serving`` is the exporter's verdict for the variant (``{"picked", "reason", ...}``);
    None for a version that is not an export.
    """
    from mlops.lifecycle import predict_proba

    labels = data.load_labels(data_dir)
    texts, y_names = data.load_split(data_dir, "test")
    index = {name: i for i, name in enumerate(labels)}
    y = np.array([index[name] for name in y_names])
    cand = _load(candidate, labels)
    cand_probs = predict_proba(cand, texts, progress=False)
    out: dict[str, Any] = {
        "n": len(y),
        "data_manifest_sha256": data.read_manifest(data_dir).get("manifest_sha256"),
        "candidate_accuracy": float((cand_probs.argmax(1) == y).mean()),
        "candidate_recall": _recall(cand_probs.argmax(1), y, labels),
        "routing": _routing(candidate, cand_probs, y),
        "serving": serving,
    }
    if production is not None:
        prod_probs = predict_proba(_load(production, labels), texts, progress=False)
        prod_pred = prod_probs.argmax(1)
        cand_right, prod_right = cand_probs.argmax(1) == y, prod_pred == y
        out |= {
            "production": production.version,
            "production_accuracy": float(prod_right.mean()),
            "production_recall": _recall(prod_pred, y, labels),
            "only_production_right": int((prod_right & ~cand_right).sum()),
            "only_candidate_right": int((cand_right & ~prod_right).sum()),
            "production_routing": _routing(production, prod_probs, y),
        }
    return out


def _load(row: ModelVersion, labels: Sequence[str]) -> artifact.Classifier:
    return artifact.load(registry.local_path(row), expected_labels=list(labels))


def _recall(predicted: np.ndarray, y: np.ndarray, labels: Sequence[str]) -> dict[str, float]:
    return {
        label: float((predicted[y == i] == i).mean())
        for i, label in enumerate(labels)
        if (y == i).any()
    }


def _routing(row: ModelVersion, probs: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    threshold = threshold_for(row.threshold)
    routed = probs.max(1) >= threshold
    wrong = int((probs.argmax(1)[routed] != y[routed]).sum())
    return {
        "threshold": threshold,
        "routed": int(routed.sum()),
        "coverage": float(routed.mean()),
        "error": wrong / int(routed.sum()) if routed.any() else None,
        "target_error": row.target_error if row.target_error is not None else 0.02,
    }


# --- evaluated on every check ------------------------------------------------------------


def evaluate(state: CandidateState) -> list[GateResult]:
    """Every gate's answer for the candidate now (gates 1–4 from its stored measurements)."""
    offline = state.offline or {}
    return [
        test_not_worse(offline),
        no_intent_falls(offline),
        routing_promise(offline),
        serving_parity(offline),
        routing_share(offline),
        shadow_accuracy(state),
    ]


def verdict(results: Sequence[GateResult]) -> tuple[str, str]:
    """(CandidateState.Verdict value, reason) from the gates' answers."""
    failed = [r for r in results if r.passed is False]
    if failed:
        return CandidateState.Verdict.REFUSED, "; ".join(f"{r.name}: {r.detail}" for r in failed)
    waiting = [r for r in results if r.passed is None]
    if waiting:
        return CandidateState.Verdict.PENDING, "; ".join(f"{r.name}: {r.detail}" for r in waiting)
    return CandidateState.Verdict.PROMOTED, "every gate passed"


def test_not_worse(offline: dict[str, Any]) -> GateResult:
    alpha = settings.CLEANINBOX_GATE_MCNEMAR_ALPHA
    limit = f"p ≥ {alpha}"
    if "candidate_accuracy" not in offline:
        return GateResult("test_not_worse", False, "—", limit, "not measured on test")
    if "production" not in offline:
        acc = offline["candidate_accuracy"]
        return GateResult("test_not_worse", True, f"{acc:.1%}", limit, "no production model to compare with")  # fmt: skip
    b, c = offline["only_production_right"], offline["only_candidate_right"]
    # Under "equally good", each disagreement goes either way with probability 1/2.
    p = binomtest(b, b + c, 0.5, alternative="greater").pvalue if b + c else 1.0
    value = (
        f"{offline['candidate_accuracy']:.1%} vs {offline['production_accuracy']:.1%} "
        f"({c} only candidate right, {b} only production right, p={p:.3g})"
    )
    passed = bool(p >= alpha)
    detail = "not worse beyond noise" if passed else f"worse on test than {offline['production']}"
    return GateResult("test_not_worse", passed, value, limit, f"{detail} (p={p:.3g})")


def no_intent_falls(offline: dict[str, Any]) -> GateResult:
    most = settings.CLEANINBOX_GATE_MAX_INTENT_DROP
    limit = f"≤ {most:.0%}"
    if "production_recall" not in offline:
        return GateResult("no_intent_falls", True, "—", limit, "no production model to compare with")  # fmt: skip
    cand, prod = offline["candidate_recall"], offline["production_recall"]
    drops = sorted(((prod[k] - cand.get(k, 0.0), k) for k in prod), reverse=True)
    drop, intent = drops[0] if drops else (0.0, "")
    passed = bool(drop <= most + 1e-12)
    value = f"{intent}: {prod[intent]:.0%} → {cand.get(intent, 0):.0%}" if intent else "—"
    detail = "no intent falls too far" if passed else f"{intent} falls by {drop:.0%}"
    return GateResult("no_intent_falls", passed, value, limit, detail)


def routing_promise(offline: dict[str, Any]) -> GateResult:
    routing = offline.get("routing") or {}
    target = routing.get("target_error", 0.02)
    bound = target + settings.CLEANINBOX_GATE_ROUTING_SLACK
    limit = f"≤ {bound:.1%}"
    if not routing:
        return GateResult("routing_promise", False, "—", limit, "not measured on test")
    error = routing.get("error")
    if error is None:
        return GateResult("routing_promise", True, "nothing auto-routed", limit, "routes nothing automatically")  # fmt: skip
    value = f"{error:.2%} of {routing['routed']} ({routing['coverage']:.0%} auto-routed)"
    passed = bool(error <= bound + 1e-12)
    detail = "within its promise" if passed else f"{error:.2%} wrong among auto-routed"
    return GateResult("routing_promise", passed, value, limit, detail)


def serving_parity(offline: dict[str, Any]) -> GateResult:
    serving = offline.get("serving")
    limit = "an export as good as its source"
    if serving is None:
        return GateResult("serving_parity", True, "serves as trained", limit, "not an export")
    picked = serving.get("picked")
    passed = picked is not None
    return GateResult("serving_parity", passed, picked or "none", limit, serving.get("reason", ""))


def routing_share(offline: dict[str, Any]) -> GateResult:
    most = settings.CLEANINBOX_GATE_MAX_COVERAGE_DROP
    limit = f"≥ production − {most:.0%}"
    if "production_routing" not in offline:
        detail = (
            "no production model to compare with"
            if "production" not in offline
            else "not measured (measured before this gate existed)"
        )
        return GateResult("routing_share", "production" not in offline, "—", limit, detail)
    cand = (offline.get("routing") or {}).get("coverage") or 0.0
    prod = offline["production_routing"].get("coverage") or 0.0
    passed = bool(cand >= prod - most - 1e-12)
    value = f"{cand:.1%} vs production {prod:.1%}"
    detail = (
        "routes about as much as production"
        if passed
        else f"auto-routes {prod - cand:.1%} less of the test split than production"
    )
    return GateResult("routing_share", passed, value, limit, detail)


def shadow_accuracy(state: CandidateState) -> GateResult:
    from mlops import shadow

    need = settings.CLEANINBOX_GATE_MIN_SHADOW
    tolerance = settings.CLEANINBOX_GATE_SHADOW_TOLERANCE
    limit = f"n ≥ {need}, ≥ production − {tolerance:.1%}"
    if "production" not in (state.offline or {}):
        return GateResult("shadow_accuracy", True, "—", limit, "no production model to shadow")
    figures = shadow.corrected_figures(state.version.version)
    n = figures["n"]
    if n < need:
        started = state.shadow_started_at or state.version.created_at
        max_days = settings.CLEANINBOX_GATE_SHADOW_MAX_DAYS
        if timezone.now() - started > timedelta(days=max_days):
            return GateResult("shadow_accuracy", False, f"{n} corrected", limit,
                              f"only {n} corrected emails in shadow after {max_days} days")  # fmt: skip
        return GateResult("shadow_accuracy", None, f"{n} of {need} corrected", limit,
                          f"waiting for {need - n} more corrected emails in shadow")  # fmt: skip
    cand, prod = figures["candidate_correct"] / n, figures["production_correct"] / n
    passed = bool(cand >= prod - tolerance - 1e-12)
    value = f"{cand:.1%} vs production {prod:.1%} on {n}"
    detail = "not lower than production" if passed else f"{cand:.1%} < production's {prod:.1%}"
    return GateResult("shadow_accuracy", passed, value, limit, detail)
