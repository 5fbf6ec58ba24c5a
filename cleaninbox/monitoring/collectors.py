"""Figures read when Prometheus scrapes the web app: backlog, statuses, families, review
share, the model in production and live accuracy.

They are read from the database and the broker at scrape time rather than kept in gauges
that many web and worker processes would set (and disagree on). A scrape runs a handful of
grouped queries; the result is kept for CLEANINBOX_METRICS_CACHE_SECONDS so several
Prometheus servers or a fast scrape interval do not multiply the load.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cleaninbox import metrics
from cleaninbox.monitoring import liveness

logger = logging.getLogger(__name__)

REVIEW_WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24)}


def _family(name: str) -> GaugeMetricFamily:
    help_text, labels = metrics.SCRAPE_TIME[name]
    return GaugeMetricFamily(name, help_text, labels=list(labels) if labels else None)


def _set(family: GaugeMetricFamily, value: float, *labels: str) -> GaugeMetricFamily:
    family.add_metric(list(labels), value)
    return family


def emails_by_status() -> Iterator[Metric]:
    from inbox import intents
    from inbox.models import Email

    rows = Email.objects.order_by().values("status", "intent").annotate(n=Count("id"))
    by_status = dict.fromkeys(Email.Status.values, 0)
    by_family = dict.fromkeys(intents.FAMILIES, 0)
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["n"]
        fam = intents.family(row["intent"])
        if fam and row["status"] in (Email.Status.CLASSIFIED, Email.Status.NEEDS_REVIEW):
            by_family[fam] += row["n"]
    status = _family("cleaninbox_emails")
    for name, n in by_status.items():
        status.add_metric([name], n)
    yield status
    families = _family("cleaninbox_emails_by_family")
    for name, n in by_family.items():
        families.add_metric([name], n)
    yield families
    yield _set(_family("cleaninbox_emails_pending"), by_status[Email.Status.PENDING])
    oldest = Email.objects.filter(status=Email.Status.PENDING).aggregate(t=Min("ingested_at"))["t"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    yield _set(_family("cleaninbox_oldest_pending_age_seconds"), max(age, 0.0))


def review_share() -> Iterator[Metric]:
    from inbox import stats

    family = _family("cleaninbox_review_share")
    for label, window in REVIEW_WINDOWS.items():
        routing = stats.routing(timezone.now() - window)
        # No classification in the window: 0 rather than a gap, so the alert's `for` holds.
        family.add_metric([label], routing.to_review / routing.total if routing.total else 0.0)
    yield family


def queue_lengths() -> Iterator[Metric]:
    """Messages waiting per queue, asked of the broker through kombu (Redis or AMQP)."""
    from cleaninbox.celery import app

    family = _family("cleaninbox_queue_length")
    queues = [*metrics.QUEUES, app.conf.task_default_queue]
    try:
        with app.connection_for_read() as conn:
            for queue in queues:
                family.add_metric([queue], _queue_length(conn, queue))
    except Exception as exc:  # broker down: no figure rather than a failed scrape
        logger.warning("broker queue lengths unavailable", extra={"error": repr(exc)})
        return
    yield family


def _queue_length(conn, queue: str) -> int:
    # A channel per queue: on AMQP a failed passive declare closes its channel.
    channel = conn.channel()
    try:
        return channel.queue_declare(queue=queue, passive=True).message_count
    except Exception as exc:
        # A queue nobody declared yet holds nothing; a lost connection must surface.
        if "NOT_FOUND" in str(exc) or "no queue" in str(exc).lower():
            return 0
        raise
    finally:
        try:
            channel.close()
        except Exception:  # already closed by the broker
            logger.debug("channel already closed", extra={"queue": queue})


def model_in_production() -> Iterator[Metric]:
    from mlops import registry

    row = registry.active()
    usable = row is not None and liveness.model_usable(row)
    yield _set(_family("cleaninbox_model_available"), 1.0 if usable else 0.0)
    if row is None:
        return
    yield _set(_family("cleaninbox_model_info"), 1.0, row.version, row.kind)
    if row.promoted_at:
        promoted = _family("cleaninbox_model_promoted_timestamp_seconds")
        yield _set(promoted, row.promoted_at.timestamp())
    age = (timezone.now() - row.created_at).total_seconds()
    yield _set(_family("cleaninbox_model_age_seconds"), age)


def sweep_last_run() -> Iterator[Metric]:
    last = liveness.last_run(liveness.SWEEP)
    yield _set(_family("cleaninbox_sweep_last_run_timestamp_seconds"), last or 0.0)


def live_accuracy() -> Iterator[Metric]:
    from inbox import accuracy

    classified = _family("cleaninbox_live_classified_emails")
    reviewed = _family("cleaninbox_live_reviewed_emails")
    agreed = _family("cleaninbox_live_agreed_emails")
    ratio = _family("cleaninbox_live_agreement_ratio")
    share = _family("cleaninbox_live_reviewed_share")
    for acc in accuracy.live_accuracy(settings.CLEANINBOX_LIVE_ACCURACY_DAYS):
        for intent, rate in acc.by_intent.items():
            classified.add_metric([acc.version, intent], rate.classified)
            reviewed.add_metric([acc.version, intent], rate.reviewed)
            agreed.add_metric([acc.version, intent], rate.agreed)
        if acc.overall.reviewed:
            low, high = acc.overall.interval
            ratio.add_metric([acc.version, "estimate"], acc.overall.agreement)
            ratio.add_metric([acc.version, "lower"], low)
            ratio.add_metric([acc.version, "upper"], high)
        share.add_metric([acc.version], acc.overall.reviewed_share or 0.0)
    yield from (classified, reviewed, agreed, ratio, share)


def sla() -> Iterator[Metric]:
    """Open mail and open SLA breaches per team and priority, and late handling in 24 h."""
    from django.db.models import F, Q

    from inbox import stats
    from inbox.models import Email, Priority

    now = timezone.now()
    rows = (
        stats.open_mail()
        .filter(sla_due_at__isnull=False)
        .order_by()
        .values("team__slug", "priority")
        .annotate(n=Count("id"), breached=Count("id", filter=Q(sla_due_at__lt=now)))
    )
    open_ = _family("cleaninbox_sla_open_emails")
    breached = _family("cleaninbox_sla_breached_emails")
    for row in rows:
        labels = [row["team__slug"] or "none", Priority(row["priority"]).name.lower()]
        open_.add_metric(labels, row["n"])
        breached.add_metric(labels, row["breached"])
    yield from (open_, breached)
    oldest = stats.open_mail().filter(sla_due_at__lt=now).aggregate(t=Min("sla_due_at"))["t"]
    age = (now - oldest).total_seconds() if oldest else 0.0
    yield _set(_family("cleaninbox_sla_oldest_breach_seconds"), age)
    handled = (
        Email.objects.filter(
            first_handled_at__gte=now - timedelta(hours=24), sla_due_at__isnull=False
        )
        .order_by()
        .values("team__slug")
        .annotate(n=Count("id"), late=Count("id", filter=Q(first_handled_at__gt=F("sla_due_at"))))
    )
    late = _family("cleaninbox_sla_handled_late_ratio")
    for row in handled:
        late.add_metric([row["team__slug"] or "none"], row["late"] / row["n"])
    yield late


def outbox() -> Iterator[Metric]:
    """The hand-off outbox: rows waiting (by kind), the oldest one's age, rows failed."""
    from inbox.handoff.models import Delivery

    counts = {
        (kind, status): 0 for kind in Delivery.Kind.values for status in Delivery.Status.values
    }
    rows = Delivery.objects.order_by().values_list("kind", "status").annotate(n=Count("id"))
    for kind, status, n in rows:
        counts[(kind, status)] = n
    pending = _family("cleaninbox_outbox_pending")
    failed = _family("cleaninbox_outbox_failed")
    for kind in Delivery.Kind.values:
        pending.add_metric([kind], counts[(kind, Delivery.Status.PENDING)])
        failed.add_metric([kind], counts[(kind, Delivery.Status.FAILED)])
    oldest = Delivery.objects.filter(status=Delivery.Status.PENDING).aggregate(t=Min("queued_at"))
    age = (timezone.now() - oldest["t"]).total_seconds() if oldest["t"] else 0.0
    yield from (pending, failed)
    yield _set(_family("cleaninbox_outbox_oldest_pending_age_seconds"), max(age, 0.0))


def last_rollback() -> Iterator[Metric]:
    from mlops.models import ModelEvent

    event = ModelEvent.objects.filter(kind=ModelEvent.Kind.ROLLED_BACK).first()
    when = event.created_at.timestamp() if event else 0.0
    yield _set(_family("cleaninbox_model_last_rollback_timestamp_seconds"), when)


SOURCES = (
    emails_by_status,
    outbox,
    review_share,
    queue_lengths,
    model_in_production,
    sweep_last_run,
    live_accuracy,
    sla,
    last_rollback,
)

# The sources that read PostgreSQL; after one of them fails, the scrape skips the others.
DATABASE_SOURCES = frozenset(
    {emails_by_status, outbox, review_share, model_in_production, live_accuracy, sla, last_rollback}
)


class InboxCollector(Collector):
    """Runs every source at scrape time; one failing source (say, the broker) leaves the
    others' figures in the scrape instead of failing it."""

    def __init__(self, sources: Iterable = SOURCES) -> None:
        self.sources = tuple(sources)
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def describe(self) -> list[Metric]:
        return []  # collected lazily: registering must not touch the database

    def collect(self) -> Iterator[Metric]:
        ttl = settings.CLEANINBOX_METRICS_CACHE_SECONDS
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= ttl:
                self._cached = (now, self._read())
            yield from self._cached[1]

    def _read(self) -> list[Metric]:
        started = time.perf_counter()
        out: list[Metric] = []
        database_down = False
        for source in self.sources:
            if database_down and source in DATABASE_SOURCES:
                continue  # each would wait out the connect retry again: one is enough
            try:
                out.extend(source())
            except Exception as exc:
                database_down = database_down or isinstance(exc, DatabaseError)
                logger.warning(
                    "metrics source failed", extra={"source": source.__name__, "error": repr(exc)}
                )
        took = time.perf_counter() - started
        out.append(_set(_family("cleaninbox_scrape_collect_seconds"), took))
        return out

    def forget(self) -> None:
        with self._lock:
            self._cached = None


COLLECTOR = InboxCollector()
