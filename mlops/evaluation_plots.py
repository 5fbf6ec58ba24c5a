"""PNG plots of an ``EvaluationReport``: confusion matrix, reliability, risk-coverage.

Figures are built with ``matplotlib.figure.Figure`` and saved through the Agg canvas, never
through pyplot, so plotting works headless and in worker threads without global state.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from mlops.evaluation import EvaluationReport, OperatingPoint

DPI = 150


def confusion_matrix(report: EvaluationReport, path: Path) -> Path:
    """Row-normalised heatmap (share of each true intent predicted as each intent)."""
    counts = np.asarray(report.confusion_matrix, dtype=np.float64)
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    k = len(report.labels)
    size = max(6.0, 0.19 * k + 3)
    fig = Figure(figsize=(size + 1.5, size), layout="constrained")
    ax = fig.add_subplot()
    # A square-root scale keeps the few-percent confusions visible next to a bright diagonal.
    image = ax.imshow(share, cmap="viridis", norm=PowerNorm(gamma=0.5, vmin=0, vmax=1))
    font = 8 if k <= 20 else 5.5
    ax.set_xticks(range(k), report.labels, rotation=90 if k > 10 else 0, fontsize=font)
    ax.set_yticks(range(k), report.labels, fontsize=font)
    ax.set_xlabel("predicted intent")
    ax.set_ylabel("true intent")
    ax.set_title(
        f"Confusion matrix, share of each true intent (n={report.n:,}, "
        f"accuracy {report.accuracy:.1%})"
    )
    # Faint gridlines every 5 cells help follow a row across 77 columns.
    ax.set_xticks(np.arange(-0.5, k, 5), minor=True)
    ax.set_yticks(np.arange(-0.5, k, 5), minor=True)
    ax.grid(which="minor", color="white", linewidth=0.3, alpha=0.4)
    ax.tick_params(which="minor", length=0)
    fig.colorbar(image, ax=ax, shrink=0.6, label="share of true intent (sqrt scale)")
    return _save(fig, path)


def reliability(report: EvaluationReport, path: Path) -> Path:
    """Accuracy per confidence bin against the diagonal; bin sizes underneath."""
    bins = report.reliability
    lower = np.array([b.lower for b in bins])
    width = bins[0].upper - bins[0].lower
    accuracy = np.array([b.accuracy or 0.0 for b in bins])
    confidence = np.array([b.confidence or 0.0 for b in bins])
    counts = np.array([b.count for b in bins])
    filled = counts > 0

    fig = Figure(figsize=(6.5, 7), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.bar(lower[filled], accuracy[filled], width=width, align="edge", color="tab:blue",
            edgecolor="white", label="accuracy in bin")  # fmt: skip
    # Hatched outline, not a fill: an over-confident gap sits on top of the bar and an
    # under-confident one inside it, and both must stay visible.
    top.bar(lower[filled], (confidence - accuracy)[filled], bottom=accuracy[filled], width=width,
            align="edge", fill=False, hatch="///", edgecolor="tab:red", linewidth=0.8,
            label="gap to mean confidence")  # fmt: skip
    top.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    top.set(xlim=(0, 1), ylim=(0, 1), ylabel="accuracy")
    top.set_title(f"Reliability diagram · ECE {report.ece:.2%} ({len(bins)} bins)")
    top.legend(loc="upper left", fontsize=8)
    bottom.bar(lower, counts, width=width, align="edge", color="tab:grey", edgecolor="white")
    # Most examples sit in the top bin; a log scale keeps the others readable.
    bottom.set_yscale("log")
    bottom.set(xlabel="confidence (top probability)", ylabel="examples (log)")
    return _save(fig, path)


def risk_coverage(report: EvaluationReport, path: Path) -> Path:
    """Error among auto-routed emails versus the share routed, threshold marked."""
    points = [p for p in report.selective if p.error is not None]
    coverage = np.array([p.coverage for p in points])
    error = np.array([p.error for p in points], dtype=np.float64)
    fig = Figure(figsize=(7, 5), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(coverage * 100, error * 100, color="tab:blue", label="auto-routed error")
    ax.axhline(report.target_error * 100, color="tab:red", linestyle="--", linewidth=1,
               label=f"target {report.target_error:.1%}")  # fmt: skip
    _label_thresholds(ax, points)
    chosen = report.recommended
    if chosen is not None and chosen.error is not None:
        ax.scatter([chosen.coverage * 100], [chosen.error * 100], color="tab:red", zorder=3,
                   label=f"recommended {chosen.threshold:.3f}: {chosen.coverage:.1%} routed, "
                   f"{chosen.error:.1%} wrong")  # fmt: skip
        ax.axvline(chosen.coverage * 100, color="tab:red", linewidth=0.6, alpha=0.5)
        title = f"Risk-coverage · auto-route at confidence ≥ {chosen.threshold:.3f}"
    else:
        title = f"Risk-coverage · no threshold reaches {report.target_error:.1%} error"
    given = report.at_threshold
    if given is not None and given.error is not None:
        ax.scatter([given.coverage * 100], [given.error * 100], marker="D", color="tab:green",
                   zorder=3, label=f"given {given.threshold:.3f}: {given.coverage:.1%} routed, "
                   f"{given.error:.1%} wrong")  # fmt: skip
    ax.set(xlim=(0, 100), ylim=(0, max(5.0, float(error.max(initial=0)) * 105)),
           xlabel="coverage: emails routed automatically (%)",
           ylabel="error among auto-routed (%)", title=title)  # fmt: skip
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)


def _label_thresholds(ax: Axes, points: list[OperatingPoint]) -> None:
    """Mark a few round thresholds on the curve so a reader can map coverage to a setting."""
    by_threshold = {round(p.threshold, 3): p for p in points}
    last_coverage = None
    for threshold in (0.5, 0.8, 0.9, 0.95, 0.99):
        point = by_threshold.get(threshold)
        # Skip thresholds that route the same emails as the last one: labels would overlap.
        if point is None or point.error is None or point.coverage == last_coverage:
            continue
        last_coverage = point.coverage
        x, y = point.coverage * 100, point.error * 100
        ax.plot([x], [y], "o", color="tab:blue", markersize=3)
        ax.annotate(f"≥{threshold:g}", (x, y), textcoords="offset points", xytext=(-4, 6),
                    ha="right", fontsize=7, color="tab:blue")  # fmt: skip


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)  # attach the Agg canvas explicitly: no backend selection involved
    fig.savefig(path, dpi=DPI)
    return path
