"""Periodic inbox work (Celery beat)."""

from __future__ import annotations

from celery import shared_task

from inbox import services


@shared_task(ignore_result=True)
def sweep_pending() -> int:
    """Re-queue emails still pending after CLEANINBOX_SWEEP_AFTER_SECONDS."""
    return services.sweep_pending()
