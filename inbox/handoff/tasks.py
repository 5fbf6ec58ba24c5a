"""The outbox drain as a Celery task (queue ``maintenance``)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from inbox.handoff import outbox

logger = logging.getLogger(__name__)

FOLLOW_UP_KEY = "cleaninbox:handoff:follow-up"


@shared_task(ignore_result=True)
def deliver_outbox(follow_up: bool = False) -> dict:
    """Send what is due in the outbox. Woken after each commit that queued deliveries,
    by beat every CLEANINBOX_HANDOFF_SWEEP_INTERVAL (the safety net), and by itself when
    a retry falls due sooner than the next beat run."""
    if follow_up:
        cache.delete(FOLLOW_UP_KEY)  # this is the scheduled one: the next may be scheduled
    summary = outbox.deliver_due()
    if summary.next_due is not None:
        _follow_up((summary.next_due - timezone.now()).total_seconds())
    return summary.as_dict()


def _follow_up(seconds: float) -> None:
    """Schedule one drain for when the next retry is due, unless beat comes first or one
    is already scheduled (a cache key: many drains never stack up many follow-ups)."""
    if seconds >= settings.CLEANINBOX_HANDOFF_SWEEP_INTERVAL:
        return
    countdown = max(seconds, 0.0) + 0.05
    if cache.add(FOLLOW_UP_KEY, 1, timeout=int(countdown) + 30):
        deliver_outbox.apply_async(kwargs={"follow_up": True}, countdown=countdown)
