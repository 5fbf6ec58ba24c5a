"""Where one classified email goes: the routing decision, in one small function.

The batch path (``classifier.services``) asks :func:`decide` once per row and writes
whatever it answers; reasons for setting mail aside or sending it to an agent are added
here, not in the batch code. Inputs stay simple: the email row as the worker claimed it,
the model's prediction and the review threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from classifier.artifact import Prediction

CLASSIFIED = "classified"
NEEDS_REVIEW = "needs_review"
SET_ASIDE = "set_aside"


@dataclass(frozen=True)
class Decision:
    """The status to write and why (``Email.routing_reason``; empty when auto-routed)."""

    status: str
    reason: str = ""


def decide(email: Any, prediction: Prediction, threshold: float) -> Decision:
    """Route one email on the model's answer: auto-route when the model is at least
    ``threshold`` sure, else an agent reviews it (the guess is kept for them)."""
    if prediction.confidence >= threshold:
        return Decision(CLASSIFIED)
    return Decision(NEEDS_REVIEW, "low_confidence")
