"""The drift checks on streams of mail: quiet on mail like the training data, loud on shifts.

A real TF-IDF model trained on the prepared BANKING77 train split reads the streams (see
drift_streams.py for how they are drawn). The permutation test uses 500 permutations here
to keep the run short; benchmarks/drift_detection.py measures 100 windows with the default.
"""

from __future__ import annotations

import numpy as np
import pytest

from classifier import artifact
from mlops import drift
from mlops.tests import drift_streams as ds

FAST = {"permutations": 500}


@pytest.fixture(scope="module")
def model(baseline_artifact):
    return artifact.load(baseline_artifact)


@pytest.fixture(scope="module")
def reference(model, banking77_dir):
    return ds.build_reference(model, banking77_dir)


@pytest.fixture(scope="module")
def pools(model, banking77_dir):
    return ds.test_pools(model, banking77_dir)


@pytest.fixture(scope="module")
def scorer(model):
    return ds.Scorer(model)


def test_mail_like_the_training_data_raises_no_alarm_in_20_windows(scorer, reference, pools):
    result = ds.false_alarms(scorer, reference, pools, windows=20, size=500, seed=7, **FAST)

    # The family-wise rate is 0.5% per window; 20 windows would see one false alarm in ten
    # runs of this test on average, so one is tolerated and two would be a broken check.
    assert result.alarms <= 1, result.by_check


@pytest.mark.parametrize("kind", ds.SHIFTS)
def test_each_shift_is_detected_within_1000_emails_of_its_start(kind, scorer, reference, pools):
    found = ds.detection(
        scorer,
        reference,
        pools,
        kind,
        size=500,
        prefix=1000,
        step=100,
        horizon=1000,
        seed=3,
        **FAST,
    )

    assert found.alarms_before == 0
    assert found.delay is not None and found.delay <= 1000, found


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("few_intents", "intent_mix"),
        ("another_language", "unknown_words"),
        ("off_topic", "confidence"),
        ("longer", "text_length"),
    ],
)
def test_a_window_of_shifted_mail_names_the_check_that_sees_it(
    kind, expected, scorer, reference, pools
):
    rng = np.random.default_rng(11)
    window = scorer.window(ds.shifted(kind, pools, 300, rng))

    result = drift.evaluate(window, reference, **FAST)

    assert expected in result.drifted
    check = next(c for c in result.checks if c.name == expected)
    assert check.p_value < check.threshold and check.verdict == drift.DRIFT


def test_holm_rejects_step_by_step_and_stops_at_the_first_that_fails():
    results = [
        drift.CheckResult(name, 0.0, p)
        for name, p in zip("abcd", [0.001, 0.02, 0.0001, 0.5], strict=True)
    ]

    decided = {c.name: c for c in drift.holm(results, alpha=0.01)}

    # sorted: c 0.0001 < 0.01/4 ✓, a 0.001 < 0.01/3 ✓, b 0.02 ≥ 0.01/2 ✗ (and d after it)
    assert [decided[n].verdict for n in "abcd"] == ["drift", "ok", "drift", "ok"]
    assert decided["c"].threshold == pytest.approx(0.0025)
    assert decided["b"].threshold == pytest.approx(0.005)


def test_a_window_too_small_says_so_instead_of_guessing(scorer, reference, pools):
    window = scorer.window(ds.in_distribution(pools, 20, np.random.default_rng(0)))

    result = drift.evaluate(window, reference, **FAST)

    assert not result.alarm
    assert {c.verdict for c in result.checks} == {drift.INSUFFICIENT}


def test_the_window_before_is_compared_when_there_is_one(scorer, reference, pools):
    rng = np.random.default_rng(5)
    before = scorer.window(ds.in_distribution(pools, 400, rng))
    now = scorer.window(ds.shifted("few_intents", pools, 400, rng))

    checks = {c.name: c for c in drift.evaluate(now, reference, before, **FAST).checks}

    assert checks["intent_mix_previous"].verdict == drift.DRIFT
    assert checks["intent_mix_previous"].detail["previous"] == 400


def test_a_window_needs_one_probability_row_per_text():
    with pytest.raises(ValueError, match="probability array"):
        drift.Window(["one", "two"], np.ones((3, 77)) / 77)


def test_ingest_and_classification_never_load_the_drift_code():
    """Drift runs off the hot path: a worker importing every task module (as Celery's
    autodiscovery does) and the ingest and classification services loads none of it."""
    import subprocess
    import sys

    code = (
        "import django, sys; django.setup(); "
        "from cleaninbox.celery import app; app.loader.import_default_modules(); "
        "import inbox.services, classifier.services, classifier.tasks, mlops.tasks; "
        "loaded = sorted(m for m in sys.modules if m.startswith('mlops.drift')); "
        "print(repr(loaded))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )

    assert out.stdout.strip().splitlines()[-1] == "[]"
