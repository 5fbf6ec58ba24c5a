"""Counts behind the folders and the overview."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from inbox import stats
from inbox.models import Correction, Email
from inbox.tests.factories import EmailFactory
from mlops.models import ModelVersion

pytestmark = pytest.mark.django_db


def test_folder_counts_count_only_routed_emails_per_intent():
    EmailFactory(intent="card_arrival", status=Email.Status.CLASSIFIED)
    EmailFactory(intent="card_arrival", status=Email.Status.NEEDS_REVIEW)
    EmailFactory(status=Email.Status.PENDING)
    counts = stats.folder_counts()
    assert counts.intent("card_arrival") == 1
    assert counts.status(Email.Status.NEEDS_REVIEW) == 1
    assert counts.total == 3
    assert counts.family("Cards") == 1 and counts.family("Top-ups") == 0


def test_daily_volume_buckets_by_local_day_and_groups_families(settings):
    settings.TIME_ZONE = "Europe/London"
    today = timezone.localdate()
    noon = timezone.make_aware(datetime.combine(today, datetime.min.time())) + timedelta(hours=12)
    EmailFactory(intent="card_arrival", received_at=noon)
    EmailFactory(intent="card_arrival", received_at=noon - timedelta(days=1))
    EmailFactory(intent="atm_support", received_at=noon - timedelta(days=13))
    EmailFactory(intent="", received_at=noon)
    EmailFactory(intent="atm_support", received_at=noon - timedelta(days=14))  # outside
    volume = stats.daily_volume(14, today=today)
    assert volume.days[0] == today - timedelta(days=13) and volume.days[-1] == today
    assert volume.by_intent["card_arrival"][-2:] == [1, 1]
    assert volume.by_intent["atm_support"][0] == 1
    assert volume.total == 4
    assert volume.ranked()[0] == ("card_arrival", 2)
    families = volume.by_family()
    assert list(families) == ["Cards", "Cash & ATM", ""]
    assert families[""][-1] == 1


def test_routing_uses_each_versions_threshold_and_the_setting_overrides_it(settings):
    ModelVersion.objects.create(version="strict", kind="tfidf", threshold=0.9)
    now = timezone.now()
    for conf in (0.95, 0.85, 0.6):
        EmailFactory(confidence=conf, model_version="strict", classified_at=now)
    EmailFactory(confidence=0.6, model_version="unknown", classified_at=now)  # default 0.5
    EmailFactory(confidence=0.99, model_version="strict", classified_at=now - timedelta(days=20))
    result = stats.routing(since=now - timedelta(days=14))
    assert (result.auto_routed, result.to_review) == (2, 2)
    assert result.auto_share == 0.5
    settings.CLEANINBOX_REVIEW_THRESHOLD = 0.5
    assert stats.routing(since=now - timedelta(days=14)).auto_routed == 4


def test_agreement_ignores_corrections_of_emails_the_model_never_saw():
    email = EmailFactory()
    Correction.objects.create(email=email, new_intent="atm_support", model_intent="atm_support")
    Correction.objects.create(email=email, new_intent="card_arrival", model_intent="atm_support")
    Correction.objects.create(email=email, new_intent="card_arrival", model_intent="")
    result = stats.agreement()
    assert (result.corrections, result.agreed, result.rate) == (2, 1, 0.5)
    assert stats.agreement(since=timezone.now() + timedelta(seconds=1)).rate is None
