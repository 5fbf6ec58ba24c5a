"""Honest evaluation of a classifier from its probabilities: quality, calibration, routing.

Given the label names, the true labels and a probability matrix ``(n, n_labels)``,
``evaluate`` reports accuracy, macro-F1, per-intent scores, the most-confused pairs,
calibration (ECE with reliability bins, NLL, Brier) and the selective-prediction curve:
for each confidence threshold, the share of emails that would be routed automatically
and the error among them. The recommended threshold is the lowest one whose error stays
within ``target_error`` *with probability 1 - delta* (an upper confidence bound on the
error, see mlops.thresholds), not merely on the examples at hand.

Pick the temperature (``fit_temperature``) and the threshold on the validation split, then
report test numbers at that threshold (``evaluate(..., threshold=...)``): choosing either
on test would flatter the model.

No Django here; ``save_plots`` draws with matplotlib's Agg canvas, so it runs headless.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from mlops.thresholds import CANDIDATES, DEFAULT_DELTA, Guarantee, choose_threshold

ECE_BINS = 15
TOP_CONFUSIONS = 10
TEMPERATURE_BOUNDS = (0.05, 20.0)
# Thresholds ops can set: steps of 0.01, then 0.001 above 0.9 where a fine-tuned model's
# confidences pile up and a step of 0.01 moves a large share of the traffic.
THRESHOLD_GRID: tuple[float, ...] = tuple(
    float(t)
    for t in np.unique(np.round(np.r_[np.arange(0, 0.9, 0.01), np.arange(0.9, 1.0, 0.001), 1.0], 3))
)
_EPS = 1e-12
_THRESHOLD_TOLERANCE = 1e-9  # a confidence of 0.7 computed as 0.69999999 still counts at 0.7


@dataclass(frozen=True)
class IntentScore:
    """Precision, recall and F1 of one intent; support is its number of true examples."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Confusion:
    """``count`` emails of ``true_label`` predicted as ``predicted_label``, and the reverse."""

    true_label: str
    predicted_label: str
    count: int
    reverse_count: int


@dataclass(frozen=True)
class ReliabilityBin:
    """One confidence bin; ``confidence``/``accuracy`` are None when the bin is empty."""

    lower: float
    upper: float
    count: int
    confidence: float | None
    accuracy: float | None


@dataclass(frozen=True)
class OperatingPoint:
    """Routing at one threshold: share auto-routed and error among them (None if none)."""

    threshold: float
    coverage: float
    error: float | None
    routed: int


@dataclass
class EvaluationReport:
    """Everything ``evaluate`` measured; ``to_dict()`` is JSON-ready and ``from_dict`` reverses it."""

    labels: list[str]
    n: int
    accuracy: float
    macro_f1: float
    nll: float
    brier: float
    ece: float
    target_error: float
    recommended: OperatingPoint | None
    at_threshold: OperatingPoint | None
    per_intent: list[IntentScore]
    confusions: list[Confusion]
    reliability: list[ReliabilityBin]
    selective: list[OperatingPoint]
    confusion_matrix: list[list[int]] = field(repr=False)
    # The recommended threshold's promise: error ≤ bound ≤ target with probability 1 - delta.
    guarantee: Guarantee | None = None

    @property
    def threshold(self) -> float | None:
        """The recommended auto-route threshold, or None if no threshold meets the target."""
        return self.recommended.threshold if self.recommended else None

    @property
    def promised_error(self) -> float | None:
        """The upper confidence bound on the error among routed emails at the threshold."""
        return self.guarantee.bound if self.guarantee else None

    def headline(self) -> dict[str, Any]:
        """The scalar metrics only: stored with a model version, logged, shown in the UI."""
        recommended, given = self.recommended, self.at_threshold
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "nll": self.nll,
            "brier": self.brier,
            "ece": self.ece,
            "target_error": self.target_error,
            "threshold": self.threshold,
            "coverage": recommended.coverage if recommended else None,
            "routed_error": recommended.error if recommended else None,
            "at_threshold": given.threshold if given else None,
            "at_threshold_coverage": given.coverage if given else None,
            "at_threshold_error": given.error if given else None,
            "promised_error": self.promised_error,
            "threshold_delta": self.guarantee.delta if self.guarantee else None,
        }

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict (undefined values are None, never NaN)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationReport:
        """Rebuild a report from ``to_dict()`` output, e.g. to redraw its plots."""
        return cls(
            **{
                **data,
                "recommended": _point_or_none(data["recommended"]),
                "at_threshold": _point_or_none(data["at_threshold"]),
                "per_intent": [IntentScore(**d) for d in data["per_intent"]],
                "confusions": [Confusion(**d) for d in data["confusions"]],
                "reliability": [ReliabilityBin(**d) for d in data["reliability"]],
                "selective": [OperatingPoint(**d) for d in data["selective"]],
                "guarantee": Guarantee(**data["guarantee"]) if data.get("guarantee") else None,
            }
        )


def _point_or_none(data: dict[str, Any] | None) -> OperatingPoint | None:
    return OperatingPoint(**data) if data else None


# --- calibration ------------------------------------------------------------------------


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature``, computed stably."""
    return np.exp(log_softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=1))


def fit_temperature(logits: np.ndarray, y: Sequence[int] | np.ndarray) -> float:
    """The temperature minimising validation NLL of ``softmax(logits / T)``, T in (0.05, 20).

    ``y`` holds class indices. Fit on validation logits only: a temperature fitted on
    test makes the test calibration numbers meaningless.
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    if z.ndim != 2 or len(z) != len(y) or len(y) == 0:
        raise ValueError(f"need logits (n, k) and n labels, got {z.shape} and {len(y)}")

    def nll(temperature: float) -> float:
        return float(-log_softmax(z / temperature, axis=1)[np.arange(len(y)), y].mean())

    # NLL is unimodal in T but flat for large T, so search log T for even precision.
    lo, hi = (math.log(b) for b in TEMPERATURE_BOUNDS)
    result = minimize_scalar(
        lambda log_t: nll(math.exp(log_t)), bounds=(lo, hi), method="bounded",
        options={"xatol": 1e-5},
    )  # fmt: skip
    return float(math.exp(result.x))


# --- evaluation -------------------------------------------------------------------------


def evaluate(
    labels: Sequence[str],
    y_true: Sequence[str] | Sequence[int] | np.ndarray,
    probs: np.ndarray,
    target_error: float = 0.02,
    threshold: float | None = None,
    delta: float = DEFAULT_DELTA,
) -> EvaluationReport:
    """Measure quality, calibration and auto-routing from predicted probabilities.

    ``y_true`` holds label names or indices into ``labels``. ``probs`` rows must be
    probability distributions over ``labels`` (apply the temperature first). Pass the
    ``threshold`` chosen on validation to report test coverage and error at it. The
    recommended threshold keeps the error within ``target_error`` with probability
    ``1 - delta`` (mlops.thresholds).
    """
    labels = list(labels)
    p = _check_probs(probs, len(labels))
    y = _label_indices(labels, y_true, len(p))
    predicted = p.argmax(axis=1)
    confidence = p.max(axis=1)
    correct = predicted == y
    everyone = np.arange(len(labels))

    selective = [_operating_point(t, confidence, correct) for t in THRESHOLD_GRID]
    guarantee = choose_threshold(confidence, correct, CANDIDATES, target_error, delta)
    matrix = confusion_matrix(y, predicted, labels=everyone)
    reliability = _reliability(confidence, correct)
    return EvaluationReport(
        labels=labels,
        n=len(y),
        accuracy=float(correct.mean()),
        macro_f1=float(f1_score(y, predicted, labels=everyone, average="macro", zero_division=0)),
        nll=float(-np.log(np.clip(p[np.arange(len(y)), y], _EPS, 1.0)).mean()),
        brier=float(((p - np.eye(len(labels))[y]) ** 2).sum(axis=1).mean()),
        ece=_ece(reliability, len(y)),
        target_error=target_error,
        recommended=None
        if guarantee is None
        else _operating_point(guarantee.threshold, confidence, correct),
        at_threshold=None
        if threshold is None
        else _operating_point(threshold, confidence, correct),
        per_intent=_per_intent(labels, y, predicted),
        confusions=_top_confusions(labels, matrix),
        reliability=reliability,
        selective=selective,
        confusion_matrix=matrix.tolist(),
        guarantee=guarantee,
    )


def _check_probs(probs: np.ndarray, n_labels: int) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != n_labels or len(p) == 0:
        raise ValueError(f"probs must have shape (n, {n_labels}), got {p.shape}")
    if p.min() < -1e-6 or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError("probs rows must be probability distributions (logits? apply softmax)")
    return p


def _label_indices(labels: list[str], y_true: Any, n: int) -> np.ndarray:
    y = list(y_true)
    if len(y) != n:
        raise ValueError(f"{len(y)} true labels for {n} probability rows")
    if all(isinstance(v, str) for v in y):
        index = {name: i for i, name in enumerate(labels)}
        unknown = sorted({v for v in y if v not in index})
        if unknown:
            raise ValueError(f"true labels not among the model's labels: {unknown[:5]}")
        return np.array([index[v] for v in y], dtype=np.int64)
    y_arr = np.asarray(y, dtype=np.int64)
    if y_arr.min() < 0 or y_arr.max() >= len(labels):
        raise ValueError(f"label indices must lie in [0, {len(labels)})")
    return y_arr


def _per_intent(labels: list[str], y: np.ndarray, predicted: np.ndarray) -> list[IntentScore]:
    precision, recall, f1, support = precision_recall_fscore_support(
        y, predicted, labels=np.arange(len(labels)), zero_division=0
    )
    return [
        IntentScore(name, float(p), float(r), float(f), int(s))
        for name, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    ]


def _top_confusions(labels: list[str], matrix: np.ndarray) -> list[Confusion]:
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    cells = [(int(off[i, j]), i, j) for i, j in zip(*np.nonzero(off), strict=True)]
    # Largest counts first; ties broken by label order so the report is deterministic.
    cells.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [
        Confusion(labels[i], labels[j], count, int(off[j, i]))
        for count, i, j in cells[:TOP_CONFUSIONS]
    ]


def _reliability(confidence: np.ndarray, correct: np.ndarray) -> list[ReliabilityBin]:
    edges = np.linspace(0.0, 1.0, ECE_BINS + 1)
    # Bins are (lower, upper]; a confidence of exactly 0 joins the first bin.
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, ECE_BINS - 1)
    bins = []
    for b in range(ECE_BINS):
        members = which == b
        count = int(members.sum())
        bins.append(
            ReliabilityBin(
                lower=float(edges[b]),
                upper=float(edges[b + 1]),
                count=count,
                confidence=float(confidence[members].mean()) if count else None,
                accuracy=float(correct[members].mean()) if count else None,
            )
        )
    return bins


def _ece(bins: list[ReliabilityBin], n: int) -> float:
    return float(
        sum(b.count / n * abs(b.accuracy - b.confidence) for b in bins if b.count)  # type: ignore[operator]
    )


def _operating_point(
    threshold: float, confidence: np.ndarray, correct: np.ndarray
) -> OperatingPoint:
    routed = confidence >= threshold - _THRESHOLD_TOLERANCE
    count = int(routed.sum())
    return OperatingPoint(
        threshold=float(threshold),
        coverage=count / len(confidence),
        # Count, not 1 - mean: a 1-in-10 error rate must read 0.1, not 0.0999…, at the target.
        error=float((~correct[routed]).sum() / count) if count else None,
        routed=count,
    )


# --- output -----------------------------------------------------------------------------


def format_summary(report: EvaluationReport, weakest: int = 5, confused: int = 5) -> str:
    """A few lines for the command output: headline metrics, routing, weak spots."""
    lines = [
        f"{report.n:,} examples · accuracy {report.accuracy:.1%} · macro-F1 {report.macro_f1:.1%}",
        f"calibration: ECE {report.ece:.1%} · NLL {report.nll:.3f} · Brier {report.brier:.3f}",
        _routing_line("recommended", report.recommended, report.target_error),
    ]
    if report.guarantee is not None:
        g = report.guarantee
        lines.append(
            f"  promised: error among auto-routed ≤ {g.bound:.2%} with probability "
            f"{1 - g.delta:.0%} (Clopper–Pearson bound on {g.routed:,} routed of {g.n:,})"
        )
    if report.at_threshold is not None:
        lines.append(_routing_line("at given", report.at_threshold, report.target_error))
    weak = sorted(report.per_intent, key=lambda s: (s.f1, s.label))[:weakest]
    lines.append("weakest intents: " + ", ".join(f"{s.label} (F1 {s.f1:.2f})" for s in weak))
    if report.confusions:
        lines.append("most confused (true → predicted):")
        lines += [
            f"  {c.true_label} → {c.predicted_label}: {c.count} (reverse {c.reverse_count})"
            for c in report.confusions[:confused]
        ]
    return "\n".join(lines)


def _routing_line(kind: str, point: OperatingPoint | None, target: float) -> str:
    if point is None:
        return (
            f"no threshold keeps auto-routed error within {target:.1%}: route everything to agents"
        )
    error = "n/a" if point.error is None else f"{point.error:.1%}"
    return (
        f"{kind} threshold {point.threshold:.3f}: {point.coverage:.1%} auto-routed, "
        f"{error} of them wrong (target ≤ {target:.1%})"
    )


def save_plots(report: EvaluationReport, out_dir: Path) -> dict[str, Path]:
    """Write confusion-matrix, reliability and risk-coverage PNGs; return name -> path."""
    from mlops import evaluation_plots as plots  # matplotlib is slow to import and only needed here

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return {
        "confusion_matrix": plots.confusion_matrix(report, out_dir / "confusion_matrix.png"),
        "reliability": plots.reliability(report, out_dir / "reliability.png"),
        "risk_coverage": plots.risk_coverage(report, out_dir / "risk_coverage.png"),
    }
