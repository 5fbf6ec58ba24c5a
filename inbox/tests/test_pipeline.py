"""Ingest -> classify -> review: the classifier service, the needs-review path, the sweep
after a broker outage, and the whole path through a real Celery worker on Redis."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from classifier import services as classifier_services
from inbox import nudge, services
from inbox.models import Email
from inbox.tests.factories import EmailFactory, email_payload
from tests.helpers import wait_for

CARD_ARRIVAL = "I still have not received my new card, it has been two weeks"


@pytest.mark.django_db
def test_it_classifies_with_intent_confidence_top3_version_and_time(active_model):
    email = EmailFactory(body_text=CARD_ARRIVAL, subject="")
    email.model_input = ""
    email.save()
    assert classifier_services.classify_emails([email.pk]) == 1
    email.refresh_from_db()
    assert email.intent == email.predicted_intent == "card_arrival"
    assert email.status == Email.Status.CLASSIFIED
    assert email.model_version == active_model.version
    assert email.classified_at is not None
    assert len(email.top_k) == 3
    assert email.top_k[0] == {"intent": "card_arrival", "probability": email.confidence}
    assert (
        email.top_k[0]["probability"]
        >= email.top_k[1]["probability"]
        >= email.top_k[2]["probability"]
    )


@pytest.mark.django_db
def test_a_low_confidence_email_goes_to_needs_review(active_model, settings):
    vague = EmailFactory(subject="", body_text="help with card payment")
    clear = EmailFactory(subject="", body_text=CARD_ARRIVAL)
    for email in (vague, clear):
        email.model_input = ""
        email.save()
    settings.CLEANINBOX_REVIEW_THRESHOLD = 0.6
    classifier_services.classify_emails([vague.pk, clear.pk])
    vague.refresh_from_db()
    clear.refresh_from_db()
    assert vague.confidence < 0.6
    assert vague.status == Email.Status.NEEDS_REVIEW
    assert vague.intent  # the guess is kept for the agent to confirm or fix
    assert vague.routing_reason == "low_confidence"
    assert clear.status == Email.Status.CLASSIFIED


@pytest.mark.django_db
def test_without_the_setting_the_models_recommended_threshold_decides(active_model, settings):
    from classifier import runtime

    settings.CLEANINBOX_REVIEW_THRESHOLD = None
    model = runtime.active_classifier()
    assert model.threshold is not None
    assert runtime.review_threshold(model) == model.threshold


@pytest.mark.django_db
def test_classifying_twice_changes_nothing_and_keeps_corrections(active_model, agent):
    email = EmailFactory(body_text=CARD_ARRIVAL)
    classifier_services.classify_emails([email.pk])
    services.record_correction(email, "card_delivery_estimate", agent)
    assert classifier_services.classify_emails([email.pk]) == 0
    email.refresh_from_db()
    assert email.intent == "card_delivery_estimate"
    assert email.predicted_intent == "card_arrival"


@pytest.mark.django_db
def test_with_no_usable_model_emails_stay_pending():
    email = EmailFactory()
    assert classifier_services.classify_emails([email.pk]) == 0
    email.refresh_from_db()
    assert email.status == Email.Status.PENDING
    assert email.intent == ""


def _switch_broker(app, url: str) -> None:
    # Celery caches its connection pools; dropping the app's references makes the next
    # publish look the pool up again for the new URL (the way Celery does after a fork).
    app.conf.broker_url = url
    app._after_fork()


@pytest.mark.django_db(transaction=True)
def test_an_email_accepted_while_redis_is_unreachable_is_kept_and_swept_later(api_client):
    from cleaninbox.celery import app
    from conftest import purge_queues

    good_broker = app.conf.broker_url
    assert nudge.flush(timeout=30)  # nothing from earlier tests still being published
    failed_before = nudge.nudger().failed
    # A closed loopback port stands for a Redis that is down (the real one keeps serving others).
    _switch_broker(app, "redis://127.0.0.1:1/0")
    try:
        started = time.monotonic()
        response = api_client.post("/api/emails/", email_payload(7), format="json")
        elapsed = time.monotonic() - started
        # The nudge fails on its background thread (and says so in the log), not in the request.
        assert wait_for(lambda: nudge.nudger().failed > failed_before, timeout=30)
    finally:
        _switch_broker(app, good_broker)
    assert response.status_code == 202
    assert elapsed < 2, "ingest must not wait for the broker"
    email = Email.objects.get(pk=response.json()["id"])
    assert email.status == Email.Status.PENDING

    nudge.flush(timeout=15)  # the retries of the failed nudge are over
    purge_queues(app)
    assert services.sweep_pending(older_than=timedelta(hours=1)) == 0  # too recent yet
    Email.objects.filter(pk=email.pk).update(ingested_at=timezone.now() - timedelta(minutes=5))
    assert services.sweep_pending(older_than=timedelta(minutes=1)) == 1

    def queued() -> int:
        with app.connection_for_write() as conn:
            return conn.default_channel.client.llen("classify")

    assert wait_for(lambda: queued() == 1, timeout=10)
    purge_queues(app)


def test_end_to_end_http_ingest_then_a_real_worker_classifies(
    celery_worker, active_model, api_client
):
    response = api_client.post(
        "/api/emails/",
        email_payload(42, subject="card", body_text=f"Hello,\n\n{CARD_ARRIVAL}\n\nThanks,\nJane"),
        format="json",
    )
    assert response.status_code == 202
    url = response.json()["url"]
    assert wait_for(lambda: api_client.get(url).json()["status"] != "pending", timeout=60)
    body = api_client.get(url).json()
    assert body["intent"] == "card_arrival"
    assert body["status"] in ("classified", "needs_review")
    assert body["model_version"] == active_model.version
    assert len(body["top_k"]) == 3
    assert body["classified_at"]


def test_a_batch_is_classified_by_the_worker_in_one_go(celery_worker, active_model, api_client):
    items = [
        email_payload(100, body_text=CARD_ARRIVAL),
        email_payload(101, subject="", body_text="I lost my card, someone may have stolen it"),
    ]
    body = api_client.post("/api/emails/batch/", items, format="json").json()
    ids = [r["id"] for r in body["results"]]
    assert wait_for(lambda: not Email.objects.filter(pk__in=ids, status="pending").exists())
    intents = dict(Email.objects.filter(pk__in=ids).values_list("pk", "intent"))
    assert intents[ids[0]] == "card_arrival"
    assert intents[ids[1]] == "lost_or_stolen_card"
