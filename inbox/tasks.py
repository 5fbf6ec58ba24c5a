"""Periodic inbox work (Celery beat)."""

from __future__ import annotations

from celery import shared_task

from cleaninbox import metrics
from cleaninbox.monitoring import liveness
from inbox import services
from inbox.handoff.tasks import deliver_outbox  # noqa: F401  (registers the hand-off's drain)


@shared_task(ignore_result=True)
def sweep_pending() -> int:
    """Nudge the classification workers if emails wait unclaimed longer than
    CLEANINBOX_SWEEP_AFTER_SECONDS (a lost nudge, a dead worker's expired lease)."""
    try:
        return services.sweep_pending()
    finally:
        liveness.record_run(liveness.SWEEP)  # beat liveness: readiness and alerts read it
        metrics.WORKER_HEARTBEAT.labels("maintenance").set_to_current_time()


@shared_task(bind=True, ignore_result=True)
def heartbeat(self) -> None:
    """Sent by beat to each queue: proves beat runs and a worker consumes that queue."""
    queue = (self.request.delivery_info or {}).get("routing_key")
    liveness.record_run(liveness.HEARTBEAT, queue=queue)


# A poll handles one batch (CLEANINBOX_IMAP_BATCH) in seconds; the limits stop a hung
# server from holding a worker, and the lock outlives the hard limit so a killed poll
# frees polling soon after.
IMAP_SOFT_TIME_LIMIT = 120
IMAP_TIME_LIMIT = 150


@shared_task(ignore_result=True, soft_time_limit=IMAP_SOFT_TIME_LIMIT, time_limit=IMAP_TIME_LIMIT)
def poll_imap() -> dict | None:
    """Store new mail from the IMAP mailbox (CLEANINBOX_IMAP_*); never two polls at once."""
    from django.conf import settings

    from inbox import imap

    try:
        if not settings.CLEANINBOX_IMAP_HOST:
            return None
        summary = imap.poll_exclusively(lock_seconds=IMAP_TIME_LIMIT + 30)
        return summary.as_dict() if summary else None
    finally:
        metrics.WORKER_HEARTBEAT.labels("imap").set_to_current_time()
