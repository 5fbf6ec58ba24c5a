"""On-demand "why this intent": the one place that explains an email and keeps the answer.

Never on the classification path: an explanation is computed when an agent opens the
panel (or a client asks the API), with the model the workers serve (``runtime``), and
stored per (email, model version), so the second look costs one indexed query. The
occlusion batch and the neighbour search live in ``classifier.explain`` (no Django).

Neighbours need the version's training-set index (its score vectors, built once per
version by ``mlops.explain_index`` in a maintenance task, ~3 MB on disk and in memory;
one version's index is kept per process). Until it exists the words are shown alone,
the index is queued for building, and nothing is cached, so the next look has both.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction

from classifier import explain, runtime
from classifier.artifact import Classifier
from cleaninbox import metrics
from inbox.models import Email, Explanation, ExplanationFlag

logger = logging.getLogger(__name__)

BUILD_TASK = "mlops.tasks.build_explanation_index"
# One build request per version per this many seconds, across processes (Redis cache).
BUILD_REQUEST_TTL = 600
MAX_REASON = 1000

_lock = threading.Lock()
_index: tuple[str, explain.NeighbourIndex] | None = None


@dataclass
class Result:
    """What the panel and the API show. ``status``: ok | no_model | not_classified."""

    status: str
    detail: str = ""
    model_version: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    cached: bool = False
    compute_ms: float | None = None
    neighbours_ready: bool = False
    flags: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


NO_MODEL = (
    "No model is serving right now, so there is nothing to explain. Emails wait as pending "
    "until a model is promoted (see the README, The model)."
)
NOT_CLASSIFIED = "The model has not given this email an intent, so there is nothing to explain."


def bounds() -> explain.Bounds:
    return explain.Bounds(
        max_chars=settings.CLEANINBOX_EXPLAIN_MAX_CHARS,
        max_occlusions=settings.CLEANINBOX_EXPLAIN_MAX_OCCLUSIONS,
        neighbours=settings.CLEANINBOX_EXPLAIN_NEIGHBOURS,
    )


def explanation_for(email: Email) -> Result:
    """The explanation of ``email``'s label by the serving model: cached, or computed now."""
    if not email.predicted_intent:
        metrics.EXPLANATIONS.labels("not_classified").inc()
        return Result("not_classified", NOT_CLASSIFIED)
    model = runtime.active_classifier()
    if model is None:
        metrics.EXPLANATIONS.labels("no_model").inc()
        return Result("no_model", NO_MODEL)
    flags = ExplanationFlag.objects.filter(email=email, model_version=model.version).count()
    row = Explanation.objects.filter(email=email, model_version=model.version).first()
    if row is not None:
        metrics.EXPLANATIONS.labels("cached").inc()
        return Result(
            "ok", model_version=row.model_version, payload=row.payload, cached=True,
            compute_ms=row.compute_ms, neighbours_ready=True, flags=flags,
        )  # fmt: skip
    index = neighbour_index(model)
    started = time.perf_counter()
    answer = explain.explain(model, email.classifier_text, index, bounds())
    elapsed = time.perf_counter() - started
    metrics.EXPLANATIONS.labels("computed").inc()
    metrics.EXPLANATION_SECONDS.labels(model.kind).observe(elapsed)
    payload = answer.to_dict()
    compute_ms = round(elapsed * 1000, 1)
    if index is not None:
        _store(email, model.version, payload, compute_ms)
    logger.info(
        "email explained",
        extra={"email_id": email.pk, "model_version": model.version, "ms": compute_ms,
               "occlusions": answer.occlusions, "neighbours": index is not None},
    )  # fmt: skip
    return Result(
        "ok", model_version=model.version, payload=payload, compute_ms=compute_ms,
        neighbours_ready=index is not None, flags=flags,
    )  # fmt: skip


def _store(email: Email, version: str, payload: dict[str, Any], compute_ms: float) -> None:
    # Two agents opening the panel at once both compute; the first write wins, quietly.
    try:
        with transaction.atomic():
            Explanation.objects.create(
                email=email, model_version=version, payload=payload, compute_ms=compute_ms
            )
    except IntegrityError:
        pass


def index_path(version: str) -> Path:
    """Where the training-set index of ``version`` is kept (a version is a folder name)."""
    return Path(settings.CLEANINBOX_EXPLAIN_INDEX_DIR) / f"{Path(version).name}.npz"


def neighbour_index(model: Classifier) -> explain.NeighbourIndex | None:
    """The serving version's index, loaded once per process; None (and a build queued) when
    it has not been built yet."""
    global _index
    with _lock:
        if _index is not None and _index[0] == model.version:
            return _index[1]
    loaded = explain.NeighbourIndex.load(index_path(model.version), model.version)
    if loaded is None:
        request_index(model.version)
        return None
    with _lock:
        _index = (model.version, loaded)  # the previous version's index is dropped
    return loaded


def request_index(version: str) -> None:
    """Queue the index build for ``version`` (at most once per BUILD_REQUEST_TTL), from a
    background thread: a request never waits on the broker (as inbox.nudge)."""
    key = f"explain-index-requested:{version}"
    if not cache.add(key, 1, BUILD_REQUEST_TTL):
        return
    threading.Thread(target=_send_build, args=(version, key), daemon=True).start()


def _send_build(version: str, key: str) -> None:
    from cleaninbox.celery import app

    try:
        app.send_task(BUILD_TASK, args=[version])
    except Exception:  # a broker outage: the next look asks again
        logger.warning("could not queue the explanation index build", exc_info=True)
        cache.delete(key)


def forget() -> None:
    """Drop the cached index (tests; after an index file was replaced)."""
    global _index
    with _lock:
        _index = None


def flag(email: Email, user, model_version: str, reason: str = "") -> ExplanationFlag:
    """Record that the explanation of ``email`` by ``model_version`` misleads."""
    # PostgreSQL text cannot hold NUL; a form post can carry one.
    model_version, reason = (value.replace("\x00", "") for value in (model_version, reason))
    row = ExplanationFlag.objects.create(
        email=email, user=user, model_version=model_version[:128], reason=reason[:MAX_REASON]
    )
    metrics.EXPLANATION_FLAGS.labels(row.model_version).inc()
    logger.info(
        "explanation flagged", extra={"email_id": email.pk, "model_version": row.model_version}
    )
    return row
