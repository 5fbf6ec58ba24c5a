"""Scores over seeds: one training run's accuracy is one draw; a recipe is its mean and sd.

BANKING77's validation split has 1,001 queries and its test split 3,080, so one query is
0.1 and 0.03 points: two seeds of one recipe differ by a few tenths, as much as many
recipe changes. Compare recipes by the mean over at least three seeds, with the sample
standard deviation beside it, and choose on validation.

No Django here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Headline keys worth aggregating (mlops.evaluation.EvaluationReport.headline()). On
# validation the routing figures are at the threshold chosen there; on test only those at
# that same threshold count (test's own "recommended" threshold would be chosen on test).
VALIDATION_KEYS = ("accuracy", "macro_f1", "ece", "nll", "coverage", "routed_error")
TEST_KEYS = ("accuracy", "macro_f1", "ece", "nll", "at_threshold_coverage", "at_threshold_error")
KEYS = VALIDATION_KEYS


@dataclass(frozen=True)
class Spread:
    """Mean and sample standard deviation (ddof 1; 0.0 for a single value) of n values."""

    mean: float
    sd: float
    n: int

    def format(self, scale: float = 100.0, digits: int = 2) -> str:
        """``94.12 ± 0.21`` (percent by default), with ``(n=3)``."""
        return f"{self.mean * scale:.{digits}f} ± {self.sd * scale:.{digits}f} (n={self.n})"


def spread(values: Iterable[float]) -> Spread:
    """Mean and sample sd of ``values``; ``ValueError`` when there are none."""
    xs = [float(v) for v in values]
    if not xs:
        raise ValueError("no values to aggregate")
    mean = sum(xs) / len(xs)
    if len(xs) == 1:
        return Spread(mean, 0.0, 1)
    var = sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)
    return Spread(mean, math.sqrt(var), len(xs))


def aggregate(
    headlines: Sequence[Mapping[str, Any]], keys: Sequence[str] = KEYS
) -> dict[str, Spread]:
    """``Spread`` per key over the runs' metric headlines (runs lacking a key are skipped)."""
    out = {}
    for key in keys:
        values = [h[key] for h in headlines if h.get(key) is not None]
        if values:
            out[key] = spread(values)
    return out


def format_table(split: str, spreads: Mapping[str, Spread]) -> str:
    """One line per metric, e.g. for ``evaluate_model --over-seeds``."""
    names = {
        "accuracy": "accuracy %",
        "macro_f1": "macro-F1 ×100",
        "ece": "ECE ×100",
        "nll": "NLL ×100",
        "coverage": "auto-routed %",
        "routed_error": "error among auto-routed %",
        "at_threshold_coverage": "auto-routed %",
        "at_threshold_error": "error among auto-routed %",
    }
    lines = [f"{split}, mean ± sd over runs:"]
    lines += [f"  {names.get(k, k):<26} {s.format()}" for k, s in spreads.items()]
    return "\n".join(lines)
