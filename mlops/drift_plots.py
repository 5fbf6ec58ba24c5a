"""PNG plots of a drift run, drawn from what the run stored (so they can be redrawn).

``intents.png`` which intents moved, ``inputs.png`` confidence and length against
validation, ``history.png`` every check's p-value over the recent runs (what changed and
since when). Built on ``matplotlib.figure.Figure`` with the Agg canvas, never pyplot, so
they draw in worker threads without global state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.conf import settings
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mlops import drift
from mlops.models import DriftCheck, DriftRun

DPI = 110
IMAGES = {
    "history": "Each check over the recent runs",
    "intents": "Intents that moved the most",
    "inputs": "Confidence and length against validation",
}
HISTORY_RUNS = 40
TOP_INTENTS = 12


def folder(run_id: int) -> Path:
    return Path(settings.CLEANINBOX_REPORTS_DIR) / "drift" / "runs" / str(int(run_id))


def draw(run: DriftRun) -> dict[str, Path]:
    """Write the run's three PNGs; returns their paths by name."""
    out = folder(run.pk)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / f"{name}.png" for name in IMAGES}
    _save(_history(run), paths["history"])
    if run.summary.get("labels"):
        _save(_intents(run.summary), paths["intents"])
        _save(_inputs(run.summary), paths["inputs"])
    return {name: path for name, path in paths.items() if path.is_file()}


def _save(fig: Figure, path: Path) -> None:
    tmp = path.with_name(f".{path.name}")
    FigureCanvasAgg(fig).print_png(str(tmp))
    tmp.replace(path)


def _history(run: DriftRun) -> Figure:
    runs = list(
        DriftRun.objects.filter(created_at__lte=run.created_at, pk__lte=run.pk).order_by(
            "-created_at", "-id"
        )[:HISTORY_RUNS]
    )[::-1]
    checks = {(c.run_id, c.name): c for c in DriftCheck.objects.filter(run__in=runs)}
    names = list(drift.CHECKS)
    strength = np.full((len(names), len(runs)), np.nan)
    drifted = np.zeros_like(strength, dtype=bool)
    for j, r in enumerate(runs):
        for i, name in enumerate(names):
            c = checks.get((r.pk, name))
            if c is not None and c.p_value is not None:
                strength[i, j] = min(-np.log10(max(c.p_value, 1e-300)), 12)
                drifted[i, j] = c.verdict == drift.DRIFT
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(
        strength, aspect="auto", cmap="Oranges", vmin=0, vmax=12, interpolation="nearest"
    )
    ys, xs = np.nonzero(drifted)
    ax.scatter(xs, ys, marker="x", color="#7a0019", s=40, linewidths=2, label="drift")
    ax.set_yticks(range(len(names)), [drift.CHECKS[n] for n in names], fontsize=7)
    # Label by the end of each run's window: when the mail was received is what matters.
    step = max(1, -(-len(runs) // 8))
    ax.set_xticks(
        range(0, len(runs), step),
        [f"#{r.pk}\n{(r.window_end or r.created_at):%d %b %H:%M}" for r in runs[::step]],
        fontsize=6.5,
    )
    ax.set_xlabel("run, and when the last email of its window arrived", fontsize=7.5)
    ax.set_title("Evidence of drift per check (−log10 p); × = over its threshold", fontsize=9)
    fig.colorbar(image, ax=ax, shrink=0.8, label="−log10 p (capped at 12)")
    return fig


def _shares(counts: list[int] | None) -> np.ndarray | None:
    if counts is None:
        return None
    arr = np.asarray(counts, dtype=float)
    return arr / max(arr.sum(), 1.0)


def _intents(summary: dict) -> Figure:
    labels = summary["labels"]
    now, prior, before = (
        _shares(summary["intents"]),
        np.asarray(summary["prior"]),
        _shares(summary.get("previous_intents")),
    )
    order = np.argsort(-np.abs(now - prior))[:TOP_INTENTS][::-1]
    y = np.arange(len(order))
    fig = Figure(figsize=(7, 4.4), layout="constrained")
    ax = fig.add_subplot()
    height = 0.27
    ax.barh(y + height, prior[order] * 100, height, label="training data", color="#9aa5b1")
    if before is not None:
        ax.barh(y, before[order] * 100, height, label="previous window", color="#f0b27a")
    ax.barh(y - height, now[order] * 100, height, label="this window", color="#c0392b")
    ax.set_yticks(y, [labels[i] for i in order], fontsize=7.5)
    ax.set_xlabel("share of emails (%)")
    ax.set_title("Predicted intents that moved the most against the training data", fontsize=9)
    ax.legend(fontsize=7.5, loc="lower right")
    return fig


def _inputs(summary: dict) -> Figure:
    fig = Figure(figsize=(9, 3.0), layout="constrained")
    conf_ax, len_ax, share_ax = fig.subplots(1, 3)
    bins = np.asarray(summary["confidence_bins"])
    centres, width = (bins[:-1] + bins[1:]) / 2, bins[1] - bins[0]
    for counts, label, colour in (
        (summary["reference_confidence"], "validation", "#9aa5b1"),
        (summary["confidence"], "this window", "#c0392b"),
    ):
        if counts:
            conf_ax.bar(centres, _shares(counts) * 100, width, alpha=0.6, label=label, color=colour)
    conf_ax.set_xlabel("model confidence")
    conf_ax.set_ylabel("% of emails")
    conf_ax.legend(fontsize=7)
    edges = summary["length_bins"]
    ticks = [
        f"{int(a)}+" if i == len(edges) - 1 else f"{int(a)}–{int(edges[i + 1]) - 1}"
        for i, a in enumerate(edges)
    ]
    x = np.arange(len(edges))
    len_ax.bar(
        x - 0.2,
        _shares(summary["reference_length"]) * 100,
        0.4,
        label="validation",
        color="#9aa5b1",
    )
    len_ax.bar(x + 0.2, _shares(summary["length"]) * 100, 0.4, label="this window", color="#c0392b")
    len_ax.set_xticks(x, ticks, rotation=60, fontsize=6.5)
    len_ax.set_xlabel("words per email")
    n = max(sum(summary["intents"]), 1)
    ref_values = [(summary.get("reference_unknown_share") or 0) * 100, 0.0]
    now_values = [
        (summary.get("unknown_share") or 0) * 100,
        summary.get("not_english", 0) / n * 100,
    ]
    x = np.arange(2)
    share_ax.bar(x - 0.2, ref_values, 0.4, label="validation", color="#9aa5b1")
    share_ax.bar(x + 0.2, now_values, 0.4, label="this window", color="#c0392b")
    share_ax.set_xticks(x, ["unknown words", "not English"], fontsize=8)
    share_ax.set_ylabel("%")
    share_ax.legend(fontsize=7)
    return fig
