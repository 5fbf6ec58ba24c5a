"""After training: make the fastest version that is as good serve (``make model``'s last step).

The torch model is what training produces; the workers should run its ONNX export. For the
active transformer version this exports an fp32 and an int8 copy (or reuses them when they
exist), then promotes:

- the int8 copy when its validation accuracy is within PROMOTE_TOLERANCE (0.2 points) of
  the source's *and* its auto-routed error at the serving threshold stays within the
  error target (validation) — about 2.5× faster again than fp32;
- else the fp32 copy when it is as good on validation (same accuracy, to rounding);
- else nothing: the torch version keeps serving, and the reason is given.

Serving ONNX means the workers import neither torch nor transformers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops import registry
from mlops.models import ModelVersion

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServingChoice:
    """What ``serve_fastest`` decided; ``promoted`` is None when nothing changed."""

    source: str
    promoted: str | None
    reason: str


def choose(source: dict[str, Any], fp32: dict[str, Any], int8: dict[str, Any] | None,
           source_accuracy: float | None = None) -> tuple[str | None, str]:  # fmt: skip
    """Pick "int8", "fp32" or None from the exports' metadata; returns (choice, reason)."""
    from mlops.export import PROMOTE_TOLERANCE, as_good_as_source

    if int8 is not None and as_good_as_source(int8, source_accuracy, PROMOTE_TOLERANCE):
        validation = (int8.get("metrics") or {}).get("validation") or {}
        error, target = validation.get("at_threshold_error"), validation.get("target_error")
        if error is not None and target is not None and error <= target + 1e-12:
            return "int8", (
                f"int8 is within {PROMOTE_TOLERANCE * 100:.1f} points of the source on "
                f"validation and routes with {error:.2%} error (target {target:.1%})"
            )
        int8_note = f"int8 routes with {_pct(error)} error, over the {_pct(target)} target"
    elif int8 is not None:
        int8_note = f"int8 is more than {PROMOTE_TOLERANCE * 100:.1f} points below the source"
    else:
        int8_note = "no int8 export"
    if as_good_as_source(fp32, source_accuracy, tolerance=0.0):
        return "fp32", f"fp32 is as good as the source on validation ({int8_note})"
    return None, f"neither export is as good as the source on validation ({int8_note})"


def _pct(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2%}"


def serve_fastest(version: str | None, model_dir: Path, data_dir: Path) -> ServingChoice:
    """Export ``version`` (default: the active one) to ONNX fp32 and int8 and promote the
    fastest export that is as good (see the module docstring)."""
    from mlops import lifecycle

    source = registry.get(version) if version else registry.active()
    if source is None:
        return ServingChoice("", None, "no active model version")
    if source.kind != "transformer":
        return ServingChoice(source.version, None, f"{source.version} is a {source.kind} model; only transformers export")  # fmt: skip
    row, reason = export_variants(source, model_dir, data_dir)
    if row is None:
        return ServingChoice(source.version, None, reason)
    lifecycle.promote(row.version)
    logger.info("ONNX export serves", extra={"model_version": row.version, "reason": reason})
    return ServingChoice(source.version, row.version, reason)


def export_variants(
    source: ModelVersion, model_dir: Path, data_dir: Path
) -> tuple[ModelVersion | None, str]:
    """Export a transformer version to ONNX fp32 and int8 (or reuse the exports) and pick
    the one that would serve; returns (its row or None, why). Promotes nothing."""
    from mlops import export  # torch and onnx: only when exporting

    rows = {}
    for quantize in (False, True):
        rows[quantize] = _exported(source, quantize, model_dir, data_dir, export)
    picked, reason = choose(
        source.metadata, rows[False].metadata, rows[True].metadata, source.validation_accuracy
    )
    return (None if picked is None else rows[picked == "int8"]), reason


def _exported(source: ModelVersion, quantize: bool, model_dir: Path, data_dir: Path, export) -> ModelVersion:  # fmt: skip
    name = f"{source.version}-onnx" + ("-int8" if quantize else "")
    existing = ModelVersion.objects.filter(version=name).first()
    if existing is not None:
        return existing
    folder = Path(model_dir) / name
    if not folder.exists():
        folder = export.export_onnx(
            registry.local_path(source), model_dir, quantize, data_dir=data_dir
        )
    return registry.register(folder)
