"""/metrics on the web app: who may read it, and the figures read at scrape time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from cleaninbox.monitoring.collectors import COLLECTOR
from inbox.models import Email
from inbox.tests.factories import EmailFactory
from mlops.models import ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_figures(settings):
    settings.CLEANINBOX_METRICS_TOKEN = ""
    COLLECTOR.forget()
    yield
    COLLECTOR.forget()


def samples(response) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of an exposition body."""
    out = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_loopback_reads_metrics_without_a_token(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"cleaninbox_emails{" in response.content


def test_another_address_is_refused(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 403
    assert b"cleaninbox_" not in response.content


def test_a_configured_network_is_allowed(client, settings):
    settings.CLEANINBOX_METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8", "10.20.0.0/16"]
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.21.3.4").status_code == 403


def test_with_a_token_only_the_right_bearer_gets_in_from_outside(client, settings):
    settings.CLEANINBOX_METRICS_TOKEN = "s3cret-scrape-token"
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    refused = client.get("/metrics", **outside)
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope", **outside)
    assert wrong.status_code == 401
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token", **outside)
    assert ok.status_code == 200


def test_status_family_backlog_and_model_figures(client):
    ModelVersion.objects.create(
        version="v7", kind="tfidf", stage=ModelVersion.Stage.PRODUCTION,
        promoted_at=timezone.now() - timedelta(hours=2), threshold=0.5,
    )  # fmt: skip
    EmailFactory.create_batch(3)  # pending
    old = EmailFactory()
    Email.objects.filter(pk=old.pk).update(ingested_at=timezone.now() - timedelta(minutes=10))
    now = timezone.now()
    for intent, conf in (("card_arrival", 0.9), ("atm_support", 0.2)):
        EmailFactory(
            intent=intent, predicted_intent=intent, confidence=conf, model_version="v7",
            classified_at=now,
            status=Email.Status.CLASSIFIED if conf >= 0.5 else Email.Status.NEEDS_REVIEW,
        )  # fmt: skip
    got = samples(client.get("/metrics"))
    assert got[("cleaninbox_emails", (("status", "pending"),))] == 4
    assert got[("cleaninbox_emails", (("status", "classified"),))] == 1
    assert got[("cleaninbox_emails", (("status", "needs_review"),))] == 1
    assert got[("cleaninbox_emails_by_family", (("family", "Cards"),))] == 1
    assert got[("cleaninbox_emails_by_family", (("family", "Cash & ATM"),))] == 1
    assert got[("cleaninbox_emails_pending", ())] == 4
    assert 590 < got[("cleaninbox_oldest_pending_age_seconds", ())] < 700
    assert got[("cleaninbox_review_share", (("window", "1h"),))] == 0.5
    assert got[("cleaninbox_model_info", (("kind", "tfidf"), ("version", "v7")))] == 1
    # Registered without files: the registry names it, but it cannot serve.
    assert got[("cleaninbox_model_available", ())] == 0
    assert got[("cleaninbox_live_classified_emails", (("intent", "card_arrival"), ("model_version", "v7")))] == 1  # fmt: skip


def test_queue_lengths_come_from_the_broker(client, settings):
    from cleaninbox.celery import app

    app.control.purge()
    with app.connection_for_write() as conn:
        # Nudges that other tests' ingestion sent may still sit in classify: empty it too.
        for name in ("maintenance", "classify"):
            conn.default_channel.queue_declare(name)
            conn.default_channel.queue_purge(name)
        producer = conn.Producer()
        for _ in range(3):
            producer.publish({"x": 1}, routing_key="maintenance", declare=[_queue("maintenance")])
    try:
        got = samples(client.get("/metrics"))
        assert got[("cleaninbox_queue_length", (("queue", "maintenance"),))] == 3
        assert ("cleaninbox_queue_length", (("queue", "classify"),)) in got
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge("maintenance")


def _queue(name):
    from kombu import Queue

    return Queue(name, routing_key=name)


def test_a_correction_is_counted_once_committed(client, agent, django_capture_on_commit_callbacks):
    from inbox.services import record_correction

    email = EmailFactory(
        intent="card_arrival", predicted_intent="card_arrival", confidence=0.4,
        model_version="v9", status=Email.Status.NEEDS_REVIEW, classified_at=timezone.now(),
    )  # fmt: skip
    key = (
        "cleaninbox_corrections_total",
        (("agreed", "false"), ("model_intent", "card_arrival"), ("model_version", "v9")),
    )
    before = samples(client.get("/metrics")).get(key, 0)
    with django_capture_on_commit_callbacks(execute=True):
        record_correction(email, "card_delivery_estimate", agent)
    assert samples(client.get("/metrics"))[key] == before + 1


def test_live_accuracy_is_exported_with_its_interval(client):
    now = timezone.now()
    for final in ("card_arrival", "card_arrival", "card_arrival", "atm_support", None):
        EmailFactory(
            intent=final or "card_arrival", predicted_intent="card_arrival", confidence=0.9,
            model_version="v3", classified_at=now, corrected_at=now if final else None,
            status=Email.Status.CLASSIFIED,
        )  # fmt: skip
    got = samples(client.get("/metrics"))
    ratio = {
        bound: got[("cleaninbox_live_agreement_ratio", (("bound", bound), ("model_version", "v3")))]
        for bound in ("estimate", "lower", "upper")
    }
    assert ratio["estimate"] == 0.75
    assert ratio["lower"] < 0.75 < ratio["upper"]
    assert got[("cleaninbox_live_reviewed_share", (("model_version", "v3"),))] == 0.8
    labels = (("intent", "card_arrival"), ("model_version", "v3"))
    assert got[("cleaninbox_live_reviewed_emails", labels)] == 4
    assert got[("cleaninbox_live_agreed_emails", labels)] == 3
