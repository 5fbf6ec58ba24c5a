"""Celery tasks for classification: thin wrappers over classifier.services."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError, InterfaceError

from classifier import services


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(DatabaseError, InterfaceError, ConnectionError, TimeoutError),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
)
def classify_emails(self, email_ids: list[int]) -> int:
    """Classify emails by primary key; emails that are gone or done are skipped."""
    try:
        return services.classify_emails(email_ids)
    except Exception as exc:
        if self.request.retries >= self.max_retries or not isinstance(
            exc, DatabaseError | InterfaceError | ConnectionError | TimeoutError
        ):
            services.mark_failed(email_ids, f"{type(exc).__name__}: {exc}")
        raise
