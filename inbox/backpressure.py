"""Backpressure: refuse new mail while the classification backlog is over its limit.

The backlog is the number of emails waiting for classification (``pending`` rows; the
database is the queue). Above CLEANINBOX_MAX_BACKLOG, ingestion stores nothing and says
when to come back (``Retry-After``): the API answers 503, IMAP polling skips a round and
leaves the mail on the server, imports wait and retry. Nothing accepted is ever dropped;
what is refused was never accepted, and the sender is told so.

Counting the backlog is one indexed count, cached per process for
CLEANINBOX_BACKLOG_CACHE_SECONDS so it costs nothing per request.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from cleaninbox import metrics
from inbox.models import Email

_lock = threading.Lock()
_cached: tuple[float, int] | None = None


@dataclass
class Backlogged(Exception):
    """Ingestion refused: ``backlog`` emails wait, the limit is ``limit``."""

    backlog: int
    limit: int
    retry_after: int

    def __str__(self) -> str:
        return (
            f"{self.backlog} emails are waiting for classification (limit {self.limit}); "
            f"try again in {self.retry_after} s"
        )


def backlog(fresh: bool = False) -> int:
    """Emails waiting for classification (cached briefly unless ``fresh``)."""
    global _cached
    now = time.monotonic()
    with _lock:
        if not fresh and _cached and now - _cached[0] < settings.CLEANINBOX_BACKLOG_CACHE_SECONDS:
            return _cached[1]
    # Counting stops just past the limit: above it the exact figure does not matter.
    cap = settings.CLEANINBOX_MAX_BACKLOG + 1
    count = Email.objects.filter(status=Email.Status.PENDING).values("pk")[:cap].count()
    with _lock:
        _cached = (now, count)
    return count


def check() -> None:
    """Raise :class:`Backlogged` when the backlog is at or over CLEANINBOX_MAX_BACKLOG."""
    limit = settings.CLEANINBOX_MAX_BACKLOG
    if not limit:  # 0 turns backpressure off
        return
    waiting = backlog()
    if waiting >= limit:
        metrics.INGEST_REFUSED.labels("backlog").inc()
        raise Backlogged(waiting, limit, settings.CLEANINBOX_BACKLOG_RETRY_AFTER)


def forget() -> None:
    """Drop the cached count (tests)."""
    global _cached
    with _lock:
        _cached = None
