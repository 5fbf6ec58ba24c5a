"""Shadow answers beside production's (a real worker, the real batch path), the Models page,
lineage in list_models and the admin, and the automatic rollback."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from classifier import services as classifier_services
from inbox import services
from inbox.models import Email
from inbox.tests.factories import EmailFactory, email_payload
from mlops import lineage, promotion, registry, shadow
from mlops.models import CandidateState, ModelEvent, ShadowPrediction
from mlops.tests.artifacts import copy_version, corrupt
from mlops.tests.test_gates import offline
from tests.helpers import wait_for

CARD = "My new card still has not arrived, where is it?"


@pytest.fixture
def in_shadow(active_model, baseline_artifact, settings) -> CandidateState:
    """A candidate (a copy of the production baseline, with a lineage block) in shadow."""
    path = copy_version(baseline_artifact, settings.CLEANINBOX_MODEL_DIR, "cand")
    lineage.attach(path, lineage.build(
        data_manifest_sha256="abc123", correction_ids=[7, 3], email_ids=[70, 30],
        dropped={"dropped_in_test": 1}, parent=active_model.version, config={"name": "minilm"},
        retrain_run=None, trigger="beat",
    ))  # fmt: skip
    return shadow.start(registry.register(path))


def test_a_worker_answers_live_mail_in_shadow_after_production_labels_it(
    in_shadow, celery_worker, api_client, active_model
):
    ids = [
        api_client.post("/api/emails/", email_payload(i, body_text=CARD), format="json").json()[
            "id"
        ]
        for i in range(3)
    ]
    answers = ShadowPrediction.objects.filter(model_version="cand", email_id__in=ids)
    assert wait_for(lambda: answers.count() == 3, timeout=60)
    for answer in answers.select_related("email"):
        # Production's label was written first (the shadow is asked after its commit).
        assert answer.email.model_version == active_model.version
        assert answer.created_at > answer.email.classified_at
        assert (answer.intent, answer.production_intent) == ("card_arrival", "card_arrival")
    report = shadow.report("cand")
    assert (report["answered"], report["agreement"], report["corrected"]) == (3, 1.0, 0)


@pytest.mark.django_db
def test_a_broken_shadow_model_never_stops_production(in_shadow, active_model):
    corrupt(registry.local_path(in_shadow.version))
    email = EmailFactory(subject="", body_text=CARD)
    assert classifier_services.classify_emails([email.pk]) == 1
    assert shadow.predict_pending() == 0
    email.refresh_from_db()
    assert (email.intent, email.model_version) == ("card_arrival", active_model.version)


@pytest.mark.django_db
def test_lineage_shows_in_list_models_and_the_admin(in_shadow, active_model, client, staff):
    out = StringIO()
    call_command("list_models", stdout=out)
    line = next(x for x in out.getvalue().splitlines() if x.startswith("cand "))
    parent, n_corrections, _commit, verdict = line.split()[-4:]
    assert (parent, n_corrections, verdict) == (active_model.version, "2", "pending")
    out = StringIO()
    call_command("list_models", "--lineage", "cand", stdout=out)
    assert "    corrections: 2 (3, 7)" in out.getvalue()
    assert "        dropped: 1 in test" in out.getvalue()
    client.force_login(staff)
    page = client.get(reverse("admin:mlops_modelversion_change", args=[in_shadow.version.pk]))
    assert b"<b>parent version</b>: " in page.content and b"abc123" in page.content


@pytest.mark.django_db
def test_the_models_page_and_overview_show_the_candidate_its_gates_and_shadow(
    in_shadow, client, agent, staff
):
    in_shadow.offline = offline()  # measured on test: every test gate passes
    services.record_correction(EmailFactory(), "card_arrival", staff)
    promotion.check(in_shadow)  # waits: no corrected live mail in shadow yet
    client.force_login(agent)
    page = client.get(reverse("models:page")).content.decode()
    assert 'data-version="cand" data-verdict="pending"' in page
    assert "waiting for 100 more corrected emails in shadow" in page
    assert "Not worse on test beyond noise (McNemar, same queries)" in page
    assert "<code>CLEANINBOX_GATE_MAX_INTENT_DROP</code>" in page
    overview = client.get(reverse("inbox:overview")).content.decode()
    assert 'id="shadow-summary">In shadow: <strong>cand</strong>' in overview


@pytest.fixture
def promoted_by_the_loop(in_shadow, active_model, settings):
    """``cand`` promoted by the loop (its gates forced open), replacing the baseline."""
    settings.CLEANINBOX_ROLLBACK_MIN_REVIEWED = 4
    registry.promote("cand")
    ModelEvent.objects.create(kind="promoted", version="cand", previous=active_model.version)
    return registry.get("cand")


def classified_by_cand(n: int, **fields) -> list[Email]:
    emails = [EmailFactory(subject="", body_text=CARD) for _ in range(n)]
    classifier_services.classify_emails([e.pk for e in emails])
    Email.objects.filter(pk__in=[e.pk for e in emails]).update(**fields)
    return emails


@pytest.mark.django_db
def test_a_newly_promoted_version_agents_overrule_is_rolled_back_once(
    promoted_by_the_loop, active_model, staff
):
    emails = classified_by_cand(4)
    for email in emails[:3]:
        services.record_correction(email, "card_linking", staff)
    assert promotion.watch_production() is None  # 3 reviews: not enough to judge
    services.record_correction(emails[3], "card_linking", staff)
    event = promotion.watch_production()
    assert (event.kind, event.version, event.previous) == (
        "rolled_back",
        "cand",
        active_model.version,
    )
    assert event.reason.startswith(
        "live accuracy 0.0% on 4 reviewed emails (95% upper bound 49.0%)"
    )
    assert registry.active().version == active_model.version
    assert promotion.watch_production() is None  # the restored version is not watched


@pytest.mark.django_db
def test_a_review_rate_over_the_limit_rolls_back_and_a_good_version_stays(
    promoted_by_the_loop, active_model, staff, settings
):
    emails = classified_by_cand(4)
    for email in emails:
        services.record_correction(email, "card_arrival", staff)  # agents agree
    assert promotion.watch_production() is None
    classified_by_cand(6, routing_reason="low_confidence", status="needs_review")
    event = promotion.watch_production()
    assert event.reason == "60% of 10 emails went to review, over 50%"
