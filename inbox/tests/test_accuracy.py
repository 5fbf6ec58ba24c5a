"""Live accuracy: agreement of reviewed emails per model version, intent and week, with
the share looked at and a 95% interval; shown on the overview and exported."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox import accuracy
from inbox.models import Email
from inbox.tests.factories import EmailFactory
from mlops.models import ModelVersion

pytestmark = pytest.mark.django_db


def classified(version="v1", intent="card_arrival", confidence=0.9, final=None, days_ago=0):
    """An email the model classified; ``final`` set means an agent reviewed it."""
    when = timezone.now() - timedelta(days=days_ago)
    return EmailFactory(
        intent=final or intent, predicted_intent=intent, confidence=confidence,
        model_version=version, classified_at=when,
        corrected_at=when if final else None,
        status=Email.Status.CLASSIFIED if confidence >= 0.5 else Email.Status.NEEDS_REVIEW,
    )  # fmt: skip


def test_the_wilson_interval_is_wide_for_few_reviews_and_narrow_for_many():
    few = accuracy.Rate(classified=20, reviewed=4, agreed=4)
    many = accuracy.Rate(classified=2000, reviewed=400, agreed=400)
    assert few.agreement == many.agreement == 1.0
    assert few.interval[0] == pytest.approx(0.510, abs=0.005)  # 4/4 is not "100%, surely"
    assert many.interval[0] > 0.99
    assert accuracy.Rate(10, 0, 0).interval is None
    assert accuracy.Rate(10, 0, 0).agreement is None
    assert accuracy.Rate(10, 4, 3).reviewed_share == 0.4


def test_per_version_intent_and_routing_split():
    ModelVersion.objects.create(version="v1", kind="tfidf", threshold=0.5)
    for _ in range(3):
        classified(final="card_arrival")  # routed, reviewed, agreed
    classified(final="card_delivery_estimate")  # routed, reviewed, corrected
    classified(confidence=0.3, final="atm_support", intent="card_swallowed")  # review queue
    classified()  # routed, never looked at
    classified(version="v2", intent="atm_support")
    classified(days_ago=40, final="atm_support")  # outside the 30-day window

    by_version = {a.version: a for a in accuracy.live_accuracy(days=30)}
    v1 = by_version["v1"]
    assert (v1.overall.classified, v1.overall.reviewed, v1.overall.agreed) == (6, 5, 3)
    assert v1.overall.reviewed_share == pytest.approx(5 / 6)
    assert (v1.routed.reviewed, v1.routed.agreed) == (4, 3)
    assert (v1.to_review.reviewed, v1.to_review.agreed) == (1, 0)
    assert v1.by_intent["card_arrival"] == accuracy.Rate(5, 4, 3)
    assert v1.by_intent["card_swallowed"] == accuracy.Rate(1, 1, 0)
    assert v1.intents_worst_first()[0][0] == "card_swallowed"
    assert sum(r.classified for r in v1.by_week.values()) == 6
    assert by_version["v2"].overall == accuracy.Rate(1, 0, 0)


def test_the_overview_shows_live_accuracy_with_its_interval(client, agent):
    client.force_login(agent)
    ModelVersion.objects.create(
        version="v1", kind="tfidf", stage=ModelVersion.Stage.PRODUCTION,
        promoted_at=timezone.now(), threshold=0.5,
    )  # fmt: skip
    for _ in range(3):
        classified(final="card_arrival")
    classified(final="card_delivery_estimate")
    html = client.get(reverse("inbox:overview")).content.decode()
    assert 'id="live-accuracy"' in html
    assert "in production" in html
    assert "75%" in html  # 3 of 4 reviewed agree
    assert "few reviews" in html  # 4 reviews: the interval is wide and the page says so
    assert 'class="ci"' in html
    assert "Card arrival" in html  # the intent table


def test_the_overview_without_classified_mail(client, agent):
    client.force_login(agent)
    html = client.get(reverse("inbox:overview")).content.decode()
    assert "Nothing classified in the last 14 days." in html  # the page's period
