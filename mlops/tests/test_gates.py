"""The promotion gates (mlops.gates): each one refuses what it should and lets pass the rest."""

from __future__ import annotations

import pytest

from inbox import services
from inbox.models import Email
from inbox.tests.factories import EmailFactory
from mlops import gates, registry
from mlops.models import CandidateState, ShadowPrediction
from mlops.tests.artifacts import copy_version

pytestmark = pytest.mark.django_db


def offline(**changes) -> dict:
    base = {
        "n": 200, "candidate_accuracy": 0.90, "production": "prod", "production_accuracy": 0.90,
        "only_production_right": 5, "only_candidate_right": 5,
        "candidate_recall": {"card_arrival": 1.0, "card_linking": 0.8},
        "production_recall": {"card_arrival": 1.0, "card_linking": 0.8},
        "routing": {"threshold": 0.7, "routed": 150, "coverage": 0.75, "error": 0.01, "target_error": 0.02},
        "production_routing": {"threshold": 0.7, "routed": 152, "coverage": 0.76, "error": 0.01, "target_error": 0.02},
        "serving": {"picked": "int8", "reason": "int8 is within 0.2 points"},
    }  # fmt: skip
    return base | changes


def test_mcnemar_refuses_a_candidate_worse_beyond_noise_but_not_a_few_emails_of_noise():
    worse = gates.test_not_worse(offline(only_production_right=20, only_candidate_right=5))
    assert worse.passed is False and worse.detail.startswith("worse on test than prod")
    # 9 against 5 is 1.6 points worse on 250 queries: within noise (p ≈ 0.21).
    noise = gates.test_not_worse(offline(only_production_right=9, only_candidate_right=5))
    assert noise.passed is True
    alone = {k: v for k, v in offline().items() if not k.startswith(("production", "only"))}
    assert gates.test_not_worse(alone).passed is True


def test_one_intent_falling_further_than_the_limit_refuses(settings):
    settings.CLEANINBOX_GATE_MAX_INTENT_DROP = 0.15
    fell = offline(candidate_recall={"card_arrival": 0.8, "card_linking": 0.9})
    result = gates.no_intent_falls(fell)
    assert result.passed is False and result.detail == "card_arrival falls by 20%"
    assert gates.no_intent_falls(offline(candidate_recall={"card_arrival": 0.9, "card_linking": 0.7})).passed  # fmt: skip


def test_routing_error_over_the_promise_refuses_and_routing_nothing_passes(settings):
    settings.CLEANINBOX_GATE_ROUTING_SLACK = 0.005
    over = offline(routing=offline()["routing"] | {"error": 0.03})
    assert gates.routing_promise(over).passed is False
    assert gates.routing_promise(offline(routing=offline()["routing"] | {"error": 0.024})).passed
    assert gates.routing_promise(offline(routing=offline()["routing"] | {"error": None})).passed


def test_a_candidate_that_auto_routes_far_less_than_production_refuses(settings):
    settings.CLEANINBOX_GATE_MAX_COVERAGE_DROP = 0.05
    prod = offline()["routing"] | {"coverage": 0.86}
    shy = gates.routing_share(offline(routing=offline()["routing"] | {"coverage": 0.73}, production_routing=prod))  # fmt: skip
    assert shy.passed is False and shy.detail == "auto-routes 13.0% less of the test split than production"  # fmt: skip
    close = gates.routing_share(offline(routing=offline()["routing"] | {"coverage": 0.82}, production_routing=prod))  # fmt: skip
    assert close.passed is True
    assert gates.routing_share({k: v for k, v in offline().items() if k != "production"}).passed
    # A candidate measured before this gate existed is not waved through.
    old = {k: v for k, v in offline().items() if k != "production_routing"}
    assert gates.routing_share(old).passed is False


def test_an_export_that_does_not_match_its_source_refuses():
    result = gates.serving_parity(offline(serving={"picked": None, "reason": "neither export is as good"}))  # fmt: skip
    assert (result.passed, result.detail) == (False, "neither export is as good")


@pytest.fixture
def candidate(active_model, baseline_artifact, settings):
    row = registry.register(copy_version(baseline_artifact, settings.CLEANINBOX_MODEL_DIR, "cand"))
    return CandidateState.objects.create(version=row, shadow=True, offline=offline())


def shadowed(n: int, candidate_right: int, production_right: int, staff) -> None:
    """n corrected emails the candidate answered in shadow, each model right as many times."""
    for i in range(n):
        email = EmailFactory(status=Email.Status.CLASSIFIED, predicted_intent="card_linking")
        ShadowPrediction.objects.create(
            email=email, model_version="cand", confidence=0.9,
            intent="card_arrival" if i < candidate_right else "card_linking",
            production_intent="card_arrival" if i < production_right else "card_linking",
        )  # fmt: skip
        services.record_correction(email, "card_arrival", staff)


def test_the_shadow_gate_waits_for_its_sample_then_compares_with_production(
    candidate, staff, settings
):
    settings.CLEANINBOX_GATE_MIN_SHADOW = 4
    shadowed(3, candidate_right=3, production_right=1, staff=staff)
    waiting = gates.shadow_accuracy(candidate)
    assert (
        waiting.passed is None and waiting.detail == "waiting for 1 more corrected emails in shadow"
    )
    shadowed(1, candidate_right=0, production_right=1, staff=staff)
    result = gates.shadow_accuracy(candidate)
    assert result.passed is True and result.value == "75.0% vs production 50.0% on 4"


def test_a_candidate_worse_than_production_on_corrected_live_mail_is_refused(
    candidate, staff, settings
):
    settings.CLEANINBOX_GATE_MIN_SHADOW = 4
    shadowed(4, candidate_right=2, production_right=3, staff=staff)
    results = gates.evaluate(candidate)
    verdict, reason = gates.verdict(results)
    assert verdict == "refused"
    assert reason == "shadow_accuracy: 50.0% < production's 75.0%"


def test_offline_measurements_of_the_same_model_pass_every_test_gate(
    active_model, baseline_artifact, banking77_dir, settings
):
    twin = registry.register(copy_version(baseline_artifact, settings.CLEANINBOX_MODEL_DIR, "twin"))
    measured = gates.measure_offline(twin, active_model, banking77_dir, serving=None)
    assert measured["n"] == 3080
    assert measured["only_production_right"] == measured["only_candidate_right"] == 0
    assert measured["candidate_accuracy"] == measured["production_accuracy"] > 0.8
    for gate in (gates.test_not_worse, gates.no_intent_falls, gates.routing_promise, gates.serving_parity, gates.routing_share):  # fmt: skip
        assert gate(measured).passed is True, gate(measured)
