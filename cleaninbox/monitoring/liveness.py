"""When periodic tasks last ran, and whether the model in production can serve.

A periodic task's last run is recorded twice: in a gauge (the worker's exporter, for
Prometheus) and in Redis, where the web app's readiness check and its scrape-time
collectors can read it whichever process ran the task.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from django.core.cache import cache

from cleaninbox import metrics

logger = logging.getLogger(__name__)

SWEEP = "sweep_pending"
HEARTBEAT = "heartbeat"
_KEY = "cleaninbox:task_last_run:{}"


def record_run(task: str, queue: str | None = None) -> float:
    """Note that ``task`` just finished (and, for a heartbeat, which queue delivered it)."""
    now = time.time()
    metrics.TASK_LAST_RUN.labels(task).set(now)
    if queue:
        metrics.WORKER_HEARTBEAT.labels(queue).set(now)
    cache.set(_KEY.format(task), now, timeout=None)  # a Redis outage is ignored by the cache
    return now


def last_run(task: str) -> float | None:
    """When ``task`` last ran (epoch seconds), as recorded in Redis; None if never."""
    value = cache.get(_KEY.format(task))
    return float(value) if value is not None else None


_usable_lock = threading.Lock()
_usable: dict[tuple[str, str], tuple[float, bool]] = {}
USABLE_TTL = 60.0


def model_usable(row) -> bool:
    """Whether the registered version's artifact is there and fits the 77 intents.

    Reads the metadata and checks the recorded files exist (not their checksums, and
    without loading the weights: a probe every few seconds must stay cheap); the answer is
    kept for a minute per version and path.
    """
    from classifier import artifact
    from inbox import intents
    from mlops import registry

    path = registry.local_path(row)
    key = (row.version, str(path))
    with _usable_lock:
        hit = _usable.get(key)
        if hit is not None and time.monotonic() - hit[0] < USABLE_TTL:
            return hit[1]
    try:
        meta = artifact.read_metadata(path)
        files = meta.get("files") or {}
        ok = (
            meta["labels"] == list(intents.LABELS)
            and bool(files)
            and all((Path(path) / name).is_file() for name in files)
        )
    except artifact.UnusableModel as exc:
        logger.warning("model not usable", extra={"model_version": row.version, "error": str(exc)})
        ok = False
    with _usable_lock:
        _usable[key] = (time.monotonic(), ok)
    return ok


def forget() -> None:
    with _usable_lock:
        _usable.clear()
