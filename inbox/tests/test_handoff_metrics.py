"""The hand-off's metrics: outbox backlog, oldest age and failed rows at scrape time;
sent/retrying/failed attempts counted where they happen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from cleaninbox.monitoring.collectors import COLLECTOR
from inbox.handoff import outbox
from inbox.handoff.models import Delivery, WebhookEndpoint
from inbox.models import Email
from inbox.tests.factories import EmailFactory
from inbox.tests.handoff_servers import WebhookReceiver
from tests.monitoring.test_metrics_endpoint import samples

pytestmark = pytest.mark.django_db
SECRET = "whsec_c2VjcmV0"


@pytest.fixture(autouse=True)
def _fresh_figures(settings):
    settings.CLEANINBOX_METRICS_TOKEN = ""
    COLLECTOR.forget()
    yield
    COLLECTOR.forget()


def row(status: str, kind: str = "webhook", url: str = "http://127.0.0.1:9/", **fields):
    endpoint, _ = WebhookEndpoint.objects.get_or_create(
        name="h", defaults={"url": url, "secret": SECRET}
    )
    email = EmailFactory(status=Email.Status.CLASSIFIED, intent="card_arrival")
    return Delivery.objects.create(
        email=email, kind=kind, event="email.routed", endpoint=endpoint, destination=url,
        payload={"type": "email.routed", "data": {}}, status=status,
        next_attempt_at=timezone.now(), **fields,
    )  # fmt: skip


def test_the_outbox_backlog_its_oldest_row_and_failed_rows_are_scraped(client):
    row("pending", queued_at=timezone.now() - timedelta(minutes=10))
    row("pending", kind="email")
    row("failed", kind="email")
    row("sent")
    got = samples(client.get("/metrics"))
    assert got[("cleaninbox_outbox_pending", (("kind", "webhook"),))] == 1
    assert got[("cleaninbox_outbox_pending", (("kind", "email"),))] == 1
    assert got[("cleaninbox_outbox_failed", (("kind", "email"),))] == 1
    assert got[("cleaninbox_outbox_failed", (("kind", "webhook"),))] == 0
    assert 590 < got[("cleaninbox_outbox_oldest_pending_age_seconds", ())] < 700


def test_an_empty_outbox_reads_zero(client):
    got = samples(client.get("/metrics"))
    assert got[("cleaninbox_outbox_oldest_pending_age_seconds", ())] == 0
    assert got[("cleaninbox_outbox_pending", (("kind", "webhook"),))] == 0


def test_attempts_are_counted_by_outcome(settings):
    def count(outcome: str) -> float:
        labels = {"kind": "webhook", "outcome": outcome}
        return REGISTRY.get_sample_value("cleaninbox_deliveries_total", labels) or 0.0

    settings.CLEANINBOX_HANDOFF_MAX_ATTEMPTS = 2
    receiver = WebhookReceiver(secret=SECRET).start()
    try:
        before = {o: count(o) for o in ("sent", "retrying", "failed")}
        receiver.behaviour = lambda request: 500
        failing = row("pending", url=receiver.url)
        outbox.deliver_due()  # attempt 1: retrying
        Delivery.objects.update(next_attempt_at=timezone.now())
        outbox.deliver_due()  # attempt 2: failed
        receiver.behaviour = None
        outbox.retry([failing])
        outbox.deliver_due()  # sent
    finally:
        receiver.stop()
    assert {o: count(o) - before[o] for o in before} == {"sent": 1, "retrying": 1, "failed": 1}
