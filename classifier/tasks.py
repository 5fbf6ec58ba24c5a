"""Celery tasks for classification: thin wrappers over classifier.services.

``classify_pending`` carries no ids: it is a nudge that wakes a worker of the ``classify``
queue to drain whatever waits in the database. Losing one (Redis restarted) loses no
email; running it twice classifies nothing twice.
"""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError, InterfaceError

from classifier import services
from cleaninbox import metrics

TRANSIENT = (DatabaseError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(
    ignore_result=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
)
def classify_pending() -> int:
    """Classify whatever waits (the rows claimed by a worker that dies come back when
    their lease runs out)."""
    try:
        return services.classify_pending()
    finally:
        metrics.WORKER_HEARTBEAT.labels("classify").set_to_current_time()


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
)
def classify_emails(self, email_ids: list[int]) -> int:
    """Classify emails by primary key; emails that are gone or done are skipped.

    Kept for messages queued by an older release; new code sends ``classify_pending``.
    """
    try:
        return services.classify_emails(email_ids)
    except Exception as exc:
        if self.request.retries >= self.max_retries or not isinstance(exc, TRANSIENT):
            services.mark_failed(email_ids, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        metrics.WORKER_HEARTBEAT.labels("classify").set_to_current_time()
