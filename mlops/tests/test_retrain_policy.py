"""The retraining policy (when), its data step (what), and its lock (one at a time)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from inbox import services
from inbox.models import Email
from inbox.tests.factories import EmailFactory
from mlops import data, registry, retrain
from mlops.models import CandidateState, DriftRun, ModelVersion, RetrainRun

pytestmark = pytest.mark.django_db


def corrections(n: int, staff, texts: list[str] | None = None) -> list[Email]:
    emails = []
    for i in range(n):
        email = EmailFactory(subject="", body_text=texts[i] if texts else f"where is my card {i}")
        services.record_correction(email, "card_arrival", staff)
        emails.append(email)
    return emails


def test_enough_new_corrections_call_for_a_retrain(active_model, staff, settings):
    settings.CLEANINBOX_RETRAIN_MIN_CORRECTIONS = 3
    corrections(2, staff)
    assert retrain.decide().due is False
    corrections(1, staff)
    decision = retrain.decide()
    assert decision.due and decision.reasons == ["3 new corrections (≥ 3)"]


def test_corrections_older_than_the_last_cycle_do_not_count_twice(active_model, staff, settings):
    settings.CLEANINBOX_RETRAIN_MIN_CORRECTIONS = 2
    corrections(2, staff)
    RetrainRun.objects.create(status=RetrainRun.Status.SUCCEEDED)
    assert retrain.decide().due is False


def test_a_drift_alarm_since_the_production_version_calls_for_a_retrain(active_model, settings):
    settings.CLEANINBOX_RETRAIN_MIN_CORRECTIONS = 1000
    DriftRun.objects.create(alpha=0.005, alarm=True, drifted=["text_features"])
    decision = retrain.decide()
    assert decision.due and decision.reasons[0].startswith("drift alarm (run ")
    settings.CLEANINBOX_RETRAIN_ON_DRIFT = False
    assert retrain.decide().due is False


def test_an_old_production_version_calls_for_a_retrain(active_model, settings):
    settings.CLEANINBOX_RETRAIN_MAX_AGE_DAYS = 30
    assert retrain.decide().due is False
    ModelVersion.objects.filter(pk=active_model.pk).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    assert retrain.decide().reasons == ["production is 31 days old (> 30)"]


def test_nothing_is_retrained_while_a_candidate_waits_for_its_gates(active_model, staff, settings):
    settings.CLEANINBOX_RETRAIN_MIN_CORRECTIONS = 1
    corrections(5, staff)
    CandidateState.objects.create(version=active_model)
    decision = retrain.decide()
    assert not decision.due
    assert decision.reasons == [f"candidate {active_model.version} still waits for its gates"]


def test_the_data_step_drops_corrections_that_repeat_a_test_or_validation_query(
    banking77_dir, staff
):
    test_query = data.load_split(banking77_dir, "test")[0][0]
    val_query = data.load_split(banking77_dir, "validation")[0][0]
    fresh = "My card 4111 1111 1111 1111 never came in the post"
    emails = corrections(3, staff, texts=[test_query.upper(), val_query, fresh])
    kept, dropped = retrain.training_examples(banking77_dir)
    assert dropped == {"dropped_in_test": 1, "dropped_in_validation": 1}
    assert [(e.email_id, e.label) for e in kept] == [(emails[2].pk, "card_arrival")]
    assert "4111" not in kept[0].text  # PII masked before it becomes training data


@pytest.fixture
def other_session():
    """A second PostgreSQL session, as another worker holding the lock would have."""
    params = connection.get_connection_params()
    with psycopg.connect(
        dbname=params["dbname"], user=params.get("user"), host=params.get("host"),
        port=params.get("port"), autocommit=True,
    ) as conn:  # fmt: skip
        yield conn


def test_a_second_cycle_is_refused_while_another_holds_the_lock(
    transactional_db, active_model, other_session
):
    other_session.execute("SELECT pg_advisory_lock(%s)", [retrain.LOCK_KEY])
    with pytest.raises(retrain.Busy):
        retrain.run(force=True)
    with pytest.raises(Exception, match="another retraining cycle is running"):
        call_command("retrain", "--force", "--wait", "0.5", stdout=StringIO())
    assert not RetrainRun.objects.exists()
    other_session.execute("SELECT pg_advisory_unlock(%s)", [retrain.LOCK_KEY])


def test_the_command_waits_out_a_lock_held_briefly(transactional_db, active_model, other_session):
    """Beat's check holds the lock for a moment even when nothing is due; a person's
    `manage.py retrain` arriving then waits for it instead of reporting a running cycle."""
    other_session.execute("SELECT pg_advisory_lock(%s)", [retrain.LOCK_KEY])
    release = threading.Timer(1.0, other_session.execute,
                              ["SELECT pg_advisory_unlock(%s)", [retrain.LOCK_KEY]])  # fmt: skip
    release.start()
    out = StringIO()
    started = time.monotonic()
    try:
        call_command("retrain", stdout=out)
    finally:
        release.join()
    assert time.monotonic() - started >= 1.0
    assert out.getvalue().startswith("Not retrained: nothing calls for a retrain")


def test_a_run_left_running_by_a_dead_worker_is_marked_abandoned(transactional_db, active_model):
    stale = RetrainRun.objects.create(status=RetrainRun.Status.RUNNING, host="dead:1")
    decision, run = retrain.run()  # the policy says no: nothing new, but the lock was free
    assert run is None and not decision.due
    stale.refresh_from_db()
    assert stale.status == "abandoned" and "stopped before finishing" in stale.error


def test_retrain_dry_run_prints_the_decision(active_model, staff, settings):
    settings.CLEANINBOX_RETRAIN_MIN_CORRECTIONS = 1
    corrections(1, staff)
    out = StringIO()
    call_command("retrain", "--dry-run", stdout=out)
    assert out.getvalue().startswith("Retrain due: 1 new corrections (≥ 1)\n")
    assert f"production: {registry.active().version}" in out.getvalue()
