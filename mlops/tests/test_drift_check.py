"""`manage.py drift_check`, the scheduled task and the Drift page, on stored mail."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from prometheus_client import REGISTRY

from inbox.models import Email
from mlops import drift_plots
from mlops.models import DriftCheck, DriftRun
from mlops.tests import drift_streams as ds

pytestmark = pytest.mark.django_db


@pytest.fixture
def drift_setup(active_model, banking77_dir, settings):
    settings.CLEANINBOX_DATA_DIR = banking77_dir
    settings.CLEANINBOX_DRIFT_WINDOW = 200
    return active_model


def store(texts: list[str], start=None, **fields) -> list[Email]:
    start = start or timezone.now() - timedelta(hours=2)
    emails = [
        Email(
            message_id=f"<drift-{start.timestamp()}-{i}@customer.example>",
            sender=f"c{i}@mail.example",
            subject="",
            body_text=text,
            model_input=text,
            received_at=start + timedelta(seconds=i),
            **{"status": Email.Status.CLASSIFIED, **fields},
        )
        for i, text in enumerate(texts)
    ]
    return Email.objects.bulk_create(emails)


@pytest.fixture
def pools(baseline_artifact, banking77_dir):
    from classifier import artifact

    return ds.test_pools(artifact.load(baseline_artifact), banking77_dir)


def run(*args) -> str:
    out = StringIO()
    call_command("drift_check", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_stores_a_quiet_run_for_mail_like_the_training_data(drift_setup, pools):
    rng = np.random.default_rng(1)
    store(ds.in_distribution(pools, 200, rng) + ds.in_distribution(pools, 200, rng))

    out = run("--last", "200")

    result = DriftRun.objects.get()
    assert (result.n_emails, result.n_previous, result.alarm) == (200, 200, False)
    assert result.model_version == drift_setup.version
    assert result.checks.count() == 9
    assert "no drift" in out and "intent_mix_previous" in out
    assert REGISTRY.get_sample_value("cleaninbox_drift_alarm", {"check": "confidence"}) == 0.0
    score = result.checks.get(name="text_length").score
    assert REGISTRY.get_sample_value("cleaninbox_drift_score", {"check": "text_length"}) == score
    assert {p.name for p in drift_plots.folder(result.pk).iterdir()} == {
        "history.png", "intents.png", "inputs.png",
    }  # fmt: skip


def test_mail_in_another_language_raises_the_alarm_and_the_gauges(drift_setup, pools):
    rng = np.random.default_rng(2)
    store(ds.in_distribution(pools, 200, rng))
    store(
        ds.shifted("another_language", pools, 200, rng), start=timezone.now() - timedelta(hours=1)
    )

    out = run("--last", "200")

    result = DriftRun.objects.get()
    assert result.alarm and "unknown_words" in result.drifted
    assert "DRIFT in" in out
    assert REGISTRY.get_sample_value("cleaninbox_drift_alarm", {"check": "unknown_words"}) == 1.0


def test_the_pipelines_not_english_flag_counts_and_automatic_mail_is_left_out(drift_setup, pools):
    rng = np.random.default_rng(3)
    store(ds.in_distribution(pools, 150, rng), routing_reason="not_english")
    store(
        ["Out of office until Monday"] * 300,
        routing_reason="auto_reply",
        status=Email.Status.SET_ASIDE,
    )

    run("--last", "500")

    result = DriftRun.objects.get()
    assert result.n_emails == 150
    non_english = result.checks.get(name="non_english")
    assert non_english.detail["count"] == 150 and non_english.verdict == "drift"


def test_a_time_window_is_compared_with_the_span_before_it(drift_setup, pools):
    rng = np.random.default_rng(4)
    now = timezone.now()
    store(ds.in_distribution(pools, 120, rng), start=now - timedelta(days=2))
    store(ds.in_distribution(pools, 80, rng), start=now - timedelta(hours=20))

    since = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    run("--since", since)

    result = DriftRun.objects.get()
    assert (result.n_emails, result.n_previous) == (80, 120)


def test_bad_input_is_a_clear_error_and_stores_nothing(drift_setup):
    with pytest.raises(CommandError, match="not a date"):
        run("--since", "last tuesday")
    with pytest.raises(CommandError, match="positive"):
        run("--last", "0")
    with pytest.raises(CommandError, match="alpha"):
        run("--alpha", "2")
    assert not DriftRun.objects.exists()


def test_without_a_model_in_production_it_says_so(banking77_dir, settings):
    settings.CLEANINBOX_DATA_DIR = banking77_dir
    with pytest.raises(CommandError, match="no model in production"):
        run("--last", "100")


def test_the_beat_task_runs_on_the_maintenance_queue_in_a_real_worker(
    drift_setup, pools, transactional_db
):
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings

    from cleaninbox.celery import app
    from mlops.tasks import check_drift
    from tests.helpers import wait_for

    entry = settings.CELERY_BEAT_SCHEDULE["check-drift"]
    assert entry["task"] == check_drift.name and entry["options"]["queue"] == "maintenance"
    store(ds.in_distribution(pools, 300, np.random.default_rng(5)))
    app.control.purge()
    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=["maintenance"], shutdown_timeout=30
    ):
        check_drift.apply_async(**entry["options"])  # as beat sends it
        assert wait_for(lambda: DriftRun.objects.exists(), timeout=120)
    result = DriftRun.objects.get()
    assert result.trigger == "beat" and result.n_emails == 200
    # Nothing new arrived: the next scheduled run stores nothing; new mail makes it run.
    assert check_drift() is None
    store(["Where is my new card?"] * 60, start=timezone.now())
    assert check_drift() == DriftRun.objects.latest("id").pk != result.pk


def test_agents_see_the_drift_page_with_verdicts_and_plots(drift_setup, pools, client, agent):
    rng = np.random.default_rng(6)
    store(ds.in_distribution(pools, 200, rng))
    store(ds.shifted("few_intents", pools, 200, rng), start=timezone.now() - timedelta(hours=1))
    run("--last", "200")
    result = DriftRun.objects.get()
    client.force_login(agent)

    page = client.get(reverse("mlops:drift"))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="drift-verdict"' in html and ">Drift<" in html
    assert 'data-check="intent_mix" class="is-drift"' in html
    assert reverse("mlops:drift-image", args=[result.pk, "intents"]) in html
    image = client.get(reverse("mlops:drift-image", args=[result.pk, "intents"]))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert client.get(reverse("mlops:drift-image", args=[result.pk, "nope"])).status_code == 404


def test_the_drift_page_is_for_logged_in_users_and_says_when_nothing_ran(client, agent):
    assert client.get(reverse("mlops:drift")).status_code == 302
    client.force_login(agent)
    page = client.get(reverse("mlops:drift"))
    assert page.status_code == 200 and 'id="drift-empty"' in page.content.decode()
    assert DriftCheck.objects.count() == 0


def test_the_page_says_since_when_a_check_drifts(client, agent):
    start = timezone.now() - timedelta(days=3)
    for day, verdict in enumerate(["ok", "ok", "drift", "drift"]):
        run = DriftRun.objects.create(
            alpha=0.005,
            n_emails=500,
            alarm=verdict == "drift",
            window_start=start + timedelta(days=day - 1),
            window_end=start + timedelta(days=day),
        )
        DriftCheck.objects.create(run=run, name="text_length", p_value=0.5, verdict=verdict)
    client.force_login(agent)

    html = client.get(reverse("mlops:drift")).content.decode()

    row = html[html.index('data-check="text_length"') :].split("</tr>")[0]
    quiet_end = timezone.localtime(start + timedelta(days=1))
    assert f"after {quiet_end.day} {quiet_end:%b %H:%M}" in row
    assert f"(run #{run.pk - 1})" in row
