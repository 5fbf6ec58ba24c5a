"""The serving side: the active model, loaded once per process and swapped on promotion.

Each batch asks the registry which version is active (one indexed query); only when the
answer changes is a model loaded. A version that cannot be loaded is remembered as such,
so a broken artifact costs one failed load, not one per batch.
"""

from __future__ import annotations

import logging
import sys
import threading

from django.conf import settings

from classifier import artifact
from inbox import intents
from mlops import registry

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_loaded: tuple[tuple, artifact.Classifier | None] | None = None


def active_classifier() -> artifact.Classifier | None:
    """The production model, or None when there is no usable one (emails stay pending)."""
    global _loaded
    row = registry.active()
    if row is None:
        return None
    # A re-pulled folder or a re-fitted temperature is a different model to serve.
    key = (row.version, row.local_path, (row.metadata or {}).get("temperature"))
    with _lock:
        if _loaded is not None and _loaded[0] == key:
            return _loaded[1]
        model: artifact.Classifier | None
        try:
            model = artifact.load(registry.local_path(row), expected_labels=intents.LABELS)
            _limit_torch_threads()
        except artifact.UnusableModel as exc:
            logger.error("no usable model", extra={"model_version": row.version, "error": str(exc)})
            model = None
        else:
            logger.info("model loaded", extra={"model_version": row.version, "kind": model.kind})
        _loaded = (key, model)
        return model


def forget() -> None:
    """Drop the cached model (tests, and after a version's files were replaced)."""
    global _loaded
    with _lock:
        _loaded = None


DEFAULT_THRESHOLD = 0.5  # when neither the setting nor the model version names one


def review_threshold(model: artifact.Classifier) -> float:
    """Confidence below which an email goes to needs_review."""
    return threshold_for(model.threshold)


def energy_limit(model: artifact.Classifier) -> float | None:
    """Energy score above which an email is outside the known intents (None: no check).

    Stored with the version (a quantile of in-scope validation scores); a version made
    before it existed routes on confidence alone.
    """
    value = model.metadata.get("energy_limit")
    return None if value is None else float(value)


def threshold_for(version_threshold: float | None) -> float:
    """The routing rule: CLEANINBOX_REVIEW_THRESHOLD, else the version's recommended
    threshold, else 0.5. The overview's statistics apply the same rule."""
    configured = settings.CLEANINBOX_REVIEW_THRESHOLD
    if configured is not None:
        return configured
    return version_threshold if version_threshold is not None else DEFAULT_THRESHOLD


def _limit_torch_threads() -> None:
    # Two torch threads per process on two cores thrash once two processes run. Only when
    # the model brought torch in: TF-IDF and ONNX workers never pay for importing it.
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(settings.CLEANINBOX_TORCH_THREADS)
