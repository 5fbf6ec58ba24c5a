"""Drain the outbox: claim due rows, send them, record the outcome, schedule retries.

Rows are claimed in small batches with ``SELECT … FOR UPDATE SKIP LOCKED`` and held by a
lease (``claimed_until``) rather than a transaction, so no database transaction stays
open during an HTTP request or an SMTP conversation, two workers never send the same row
at once, and a worker killed mid-send gives its rows back when the lease runs out. A row
is counted as attempted when it is claimed: a row that kills every worker that tries it
still runs out of attempts.

Delivery is at least once: a worker killed after the receiver answered but before the
row was marked sent sends it again, with the same ``webhook-id``, which is what
receivers de-duplicate on.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from cleaninbox import metrics
from inbox.handoff import senders
from inbox.handoff.models import Delivery

logger = logging.getLogger(__name__)


@dataclass
class DrainSummary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    next_due: datetime | None = None
    ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        due = self.next_due.isoformat() if self.next_due else None
        return {
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "next_due": due,
        }


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: doubling from
    CLEANINBOX_HANDOFF_RETRY_BASE_SECONDS up to CLEANINBOX_HANDOFF_RETRY_MAX_SECONDS,
    with "equal jitter" (half fixed, half random) so receivers that come back are not hit
    by every row at the same second."""
    base = settings.CLEANINBOX_HANDOFF_RETRY_BASE_SECONDS
    ceiling = settings.CLEANINBOX_HANDOFF_RETRY_MAX_SECONDS
    delay = min(ceiling, base * 2 ** max(attempts - 1, 0))
    return delay / 2 + (rng or random).uniform(0, delay / 2)


def claim(limit: int | None = None) -> list[Delivery]:
    """Take up to ``limit`` due rows under a lease of CLEANINBOX_HANDOFF_LEASE_SECONDS."""
    limit = limit or settings.CLEANINBOX_HANDOFF_BATCH
    now = timezone.now()
    until = now + timedelta(seconds=settings.CLEANINBOX_HANDOFF_LEASE_SECONDS)
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        Delivery.objects.filter(pk__in=ids).update(
            claimed_until=until, attempts=F("attempts") + 1, last_attempt_at=now
        )
    return list(Delivery.objects.filter(pk__in=ids).select_related("endpoint").order_by("id"))


def attempt(row: Delivery, summary: DrainSummary) -> senders.SendError | None:
    """Send one claimed row and record what happened (only while the lease is ours);
    returns the error of a failed send."""
    started = time.perf_counter()
    try:
        code = senders.send(row)
    except senders.SendError as exc:
        _failed(row, str(exc), exc.status_code, summary)
        return exc
    except SoftTimeLimitExceeded:
        raise  # the task's time is up: the lease hands the row back
    except Exception as exc:  # a bug or an odd payload must not stop the drain
        logger.exception("hand-off crashed", extra={"delivery_id": row.pk})
        _failed(row, f"{type(exc).__name__}: {exc}"[:500], None, summary)
        return senders.SendError(str(exc), status_code=0)  # answered (by us): not "down"
    else:
        _finish(row, summary, "sent", status=Delivery.Status.SENT, sent_at=timezone.now(),
                last_error="", last_status_code=code)  # fmt: skip
    finally:
        metrics.DELIVERY_SECONDS.labels(row.kind).observe(time.perf_counter() - started)
    return None


def _failed(row: Delivery, error: str, code: int | None, summary: DrainSummary) -> None:
    now = timezone.now()
    too_old = now - row.queued_at > timedelta(seconds=settings.CLEANINBOX_HANDOFF_MAX_AGE_SECONDS)
    if row.attempts >= settings.CLEANINBOX_HANDOFF_MAX_ATTEMPTS or too_old:
        _finish(row, summary, "failed", status=Delivery.Status.FAILED,
                last_error=error, last_status_code=code)  # fmt: skip
        logger.warning(
            "hand-off failed for good",
            extra={"delivery_id": row.pk, "email_id": row.email_id, "attempts": row.attempts,
                   "error": error},
        )  # fmt: skip
        return
    due = now + timedelta(seconds=backoff(row.attempts))
    _finish(row, summary, "retrying", next_attempt_at=due, last_error=error, last_status_code=code)
    logger.info(
        "hand-off will be retried",
        extra={"delivery_id": row.pk, "attempts": row.attempts, "due": due.isoformat(),
               "error": error},
    )  # fmt: skip


def _finish(row: Delivery, summary: DrainSummary, outcome: str, **changes) -> None:
    # Only if the lease is still ours: a row whose lease ran out mid-send (a very slow
    # receiver) may already be someone else's, and its outcome is theirs to write.
    ours = Delivery.objects.filter(pk=row.pk, claimed_until=row.claimed_until)
    if not ours.update(claimed_until=None, destination=row.destination, **changes):
        logger.warning("hand-off lease lost before its outcome was written",
                       extra={"delivery_id": row.pk})  # fmt: skip
        return
    setattr(summary, outcome, getattr(summary, outcome) + 1)
    summary.ids.append(row.pk)
    metrics.DELIVERIES.labels(row.kind, outcome).inc()


def deliver_due(budget_seconds: float | None = None) -> DrainSummary:
    """Send due rows, batch after batch, until none is due or ``budget_seconds``
    (CLEANINBOX_HANDOFF_DRAIN_SECONDS) is spent; ``next_due`` says when the next pending
    row falls due (for a follow-up drain).

    A destination that refused a connection or timed out in this run is not tried again
    in it: its other rows are rescheduled with the same error, so one dead receiver with
    a backlog costs one timeout per run, not one per row, and other destinations go on.
    Rows claimed when the budget runs out are handed back untried.
    """
    budget = settings.CLEANINBOX_HANDOFF_DRAIN_SECONDS if budget_seconds is None else budget_seconds
    deadline = time.monotonic() + budget
    summary = DrainSummary()
    down: dict[tuple, str] = {}
    while time.monotonic() < deadline:
        rows = claim()
        if not rows:
            break
        for index, row in enumerate(rows):
            if time.monotonic() >= deadline:
                release(rows[index:])
                break
            if _where(row) in down:
                _failed(row, f"not tried: {down[_where(row)]}", None, summary)
                continue
            error = attempt(row, summary)
            if error is not None and error.status_code is None:  # no answer at all
                down[_where(row)] = str(error)
    summary.next_due = next_due()
    return summary


def _where(row: Delivery) -> tuple:
    if row.kind == Delivery.Kind.WEBHOOK:
        return ("webhook", row.endpoint_id)
    return ("email", settings.EMAIL_HOST, settings.EMAIL_PORT)


def release(rows: list[Delivery]) -> None:
    """Hand claimed rows back untried: their attempt does not count."""
    for row in rows:
        Delivery.objects.filter(pk=row.pk, claimed_until=row.claimed_until).update(
            claimed_until=None, attempts=F("attempts") - 1
        )


def next_due() -> datetime | None:
    """When the next pending row can be tried: the earliest due time of the rows nobody
    holds, or the earliest end of a lease someone does."""
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    found = Delivery.objects.filter(status=Delivery.Status.PENDING).aggregate(
        due=Min("next_attempt_at", filter=free), lease=Min("claimed_until", filter=~free)
    )
    times = [t for t in found.values() if t]
    return max(min(times), now) if times else None


def retry(rows) -> int:
    """Send failed rows again (a person asked): due now, with a fresh set of attempts."""
    count = 0
    with transaction.atomic():
        count = (
            Delivery.objects.filter(pk__in=[r.pk for r in rows], status=Delivery.Status.FAILED)
            .update(status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now(),
                    queued_at=timezone.now(), claimed_until=None)
        )  # fmt: skip
        if count:
            from inbox.handoff.receivers import request_drain

            transaction.on_commit(request_drain)
    return count
