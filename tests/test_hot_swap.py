"""Promotion reaches a running process without a restart; a broken model leaves emails pending."""

from __future__ import annotations

import pytest

from classifier import runtime, services
from inbox.models import Email
from inbox.tests.factories import EmailFactory
from mlops import lifecycle, registry
from mlops.models import ModelVersion
from mlops.tests.artifacts import copy_version, corrupt

pytestmark = pytest.mark.django_db


def card_email() -> Email:
    return EmailFactory(subject="", body_text="My new card still has not arrived, where is it?")


def test_promoting_another_version_swaps_the_model_in_the_same_process(
    active_model, baseline_artifact, settings
):
    assert runtime.active_classifier().version == active_model.version  # loaded and cached
    registry.register(copy_version(baseline_artifact, settings.CLEANINBOX_MODEL_DIR, "second"))

    lifecycle.promote("second")

    assert runtime.active_classifier().version == "second"
    email = card_email()
    assert services.classify_emails([email.pk]) == 1
    email.refresh_from_db()
    assert (email.model_version, email.intent) == ("second", "card_arrival")


def test_an_unusable_active_model_leaves_emails_pending_until_a_good_one_serves(
    active_model, baseline_artifact, settings
):
    broken = registry.register(
        copy_version(baseline_artifact, settings.CLEANINBOX_MODEL_DIR, "broken")
    )
    corrupt(registry.local_path(broken))
    # Files damaged after promotion (promotion itself refuses a corrupt artifact).
    ModelVersion.objects.filter(pk=active_model.pk).update(stage=ModelVersion.Stage.ARCHIVED)
    ModelVersion.objects.filter(pk=broken.pk).update(stage=ModelVersion.Stage.PRODUCTION)
    email = card_email()

    assert runtime.active_classifier() is None
    assert services.classify_emails([email.pk]) == 0
    email.refresh_from_db()
    assert (email.status, email.intent, email.model_version) == (Email.Status.PENDING, "", "")

    lifecycle.promote(active_model.version)
    assert services.classify_emails([email.pk]) == 1
    email.refresh_from_db()
    assert email.status in (Email.Status.CLASSIFIED, Email.Status.NEEDS_REVIEW)
    assert (email.intent, email.model_version) == ("card_arrival", active_model.version)
