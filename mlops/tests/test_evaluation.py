"""mlops.evaluation: metrics, calibration and routing on probability matrices with known answers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mlops import evaluation as ev
from mlops.data import BANKING77_LABELS


def one_hot(indices: list[int], k: int) -> np.ndarray:
    return np.eye(k)[indices]


def with_confidence(predicted: list[int], confidence: list[float], k: int) -> np.ndarray:
    """Rows whose top class is ``predicted`` with probability ``confidence``, rest spread evenly."""
    probs = np.empty((len(predicted), k))
    for row, (top, conf) in enumerate(zip(predicted, confidence, strict=True)):
        probs[row] = (1 - conf) / (k - 1)
        probs[row, top] = conf
    return probs


def test_a_perfect_classifier_scores_perfectly() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 77, size=500).tolist()

    report = ev.evaluate(BANKING77_LABELS, y, one_hot(y, 77))

    assert report.accuracy == report.macro_f1 == 1.0
    assert report.ece == pytest.approx(0.0, abs=1e-9)
    assert report.nll == pytest.approx(0.0, abs=1e-9)
    assert report.brier == pytest.approx(0.0, abs=1e-12)
    assert report.confusions == []
    assert report.recommended == ev.OperatingPoint(
        threshold=0.0, coverage=1.0, error=0.0, routed=500
    )


def test_known_confusions_are_counted_and_named_both_ways() -> None:
    labels = ["a", "b", "c"]
    truth = ["a"] * 5 + ["b"] * 4 + ["c"] * 3
    predicted = [0, 0, 1, 1, 1] + [1, 1, 1, 0] + [2, 0, 0]

    report = ev.evaluate(labels, truth, one_hot(predicted, 3))

    assert report.confusions == [
        ev.Confusion("a", "b", count=3, reverse_count=1),
        ev.Confusion("c", "a", count=2, reverse_count=0),
        ev.Confusion("b", "a", count=1, reverse_count=3),
    ]
    assert report.confusion_matrix == [[2, 3, 0], [1, 3, 0], [2, 0, 1]]
    assert report.accuracy == pytest.approx(6 / 12)
    a, b, c = report.per_intent
    assert (a.label, a.precision, a.recall, a.support) == ("a", pytest.approx(2 / 5), 2 / 5, 5)
    assert (b.precision, b.recall, b.support) == (pytest.approx(3 / 6), 3 / 4, 4)
    assert (c.precision, c.recall, c.f1) == (1.0, pytest.approx(1 / 3), pytest.approx(0.5))
    assert b.f1 == pytest.approx(0.6)
    assert report.macro_f1 == pytest.approx((0.4 + 0.6 + 0.5) / 3)


def test_true_labels_may_be_names_or_indices() -> None:
    labels = ["a", "b", "c"]
    probs = with_confidence([0, 1, 2, 1], [0.6, 0.7, 0.8, 0.9], 3)

    by_name = ev.evaluate(labels, ["a", "b", "c", "c"], probs)
    by_index = ev.evaluate(labels, [0, 1, 2, 2], probs)

    assert by_name == by_index


def test_overconfidence_shows_up_as_ece() -> None:
    # Always 80% sure, right 60% of the time: ECE is the 20-point gap.
    probs = with_confidence([0] * 10, [0.8] * 10, 4)
    truth = [0] * 6 + [1] * 4

    report = ev.evaluate(["w", "x", "y", "z"], truth, probs)

    assert report.ece == pytest.approx(0.2)
    (filled,) = [b for b in report.reliability if b.count]
    assert (filled.count, filled.confidence, filled.accuracy) == (10, pytest.approx(0.8), 0.6)
    assert filled.lower < 0.8 <= filled.upper
    assert len(report.reliability) == ev.ECE_BINS == 15


def test_nll_and_brier_on_a_coin_flip() -> None:
    report = ev.evaluate(["heads", "tails"], ["heads", "tails"], np.full((2, 2), 0.5))

    assert report.nll == pytest.approx(math.log(2))
    assert report.brier == pytest.approx(0.5)


def test_the_recommended_threshold_keeps_the_target_with_high_probability() -> None:
    # 1,000 emails: 990 right at 0.95, 10 wrong at 0.75. Routing everything has 1% error,
    # within a 2% target on these emails, but 10 errors in 1,000 cannot show with 90%
    # confidence that the true error is within 2% (bound 2.1%); above 0.75 none is wrong.
    confidence = [0.95] * 990 + [0.75] * 10
    truth = [0] * 990 + [1] * 10
    probs = with_confidence([0] * 1000, confidence, 3)

    report = ev.evaluate(["a", "b", "c"], truth, probs, target_error=0.02, threshold=0.9)
    impossible = ev.evaluate(["a", "b", "c"], [1] * 1000, probs, target_error=0.02)

    assert report.recommended == ev.OperatingPoint(0.8, coverage=0.99, error=0.0, routed=990)
    assert report.threshold == 0.8
    assert report.guarantee.delta == 0.1 and report.promised_error == pytest.approx(
        0.00523, abs=1e-4
    )
    assert report.at_threshold == ev.OperatingPoint(0.9, coverage=0.99, error=0.0, routed=990)
    assert "promised: error among auto-routed ≤ 0.52% with probability 90%" in ev.format_summary(
        report
    )
    assert impossible.recommended is None and impossible.guarantee is None
    assert "route everything to agents" in ev.format_summary(impossible)


def test_the_selective_curve_trades_coverage_for_error() -> None:
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(400, 5)) * 3
    truth = [int(rng.choice(5, p=p)) for p in ev.softmax(logits)]

    curve = ev.evaluate(list("abcde"), truth, ev.softmax(logits)).selective

    assert [p.threshold for p in curve] == sorted(p.threshold for p in curve)
    assert curve[0].coverage == 1.0
    coverages = [p.coverage for p in curve]
    assert coverages == sorted(coverages, reverse=True)
    assert all((p.error is None) == (p.routed == 0) for p in curve)
    assert 0.9 in ev.THRESHOLD_GRID and 0.955 in ev.THRESHOLD_GRID and 0.03 in ev.THRESHOLD_GRID


def test_temperature_fitting_recovers_a_known_temperature() -> None:
    rng = np.random.default_rng(2)
    calibrated = rng.normal(size=(8000, 10)) * 2.0
    y = np.array([rng.choice(10, p=p) for p in ev.softmax(calibrated)])
    overconfident = calibrated * 2.5  # what a model trained to zero loss tends to emit

    temperature = ev.fit_temperature(overconfident, y)

    assert temperature == pytest.approx(2.5, rel=0.05)
    labels = [str(i) for i in range(10)]
    raw = ev.evaluate(labels, y, ev.softmax(overconfident))
    scaled = ev.evaluate(labels, y, ev.softmax(overconfident, temperature))
    assert scaled.nll < raw.nll
    assert scaled.ece < raw.ece / 2
    assert scaled.accuracy == raw.accuracy  # scaling never changes the argmax


def test_temperature_fitting_sharpens_separable_logits_within_bounds() -> None:
    # Perfectly separable logits: NLL keeps falling as T shrinks, so only the bound stops it.
    logits = np.eye(3)[[0, 1, 2, 0]] * 5
    temperature = ev.fit_temperature(logits, [0, 1, 2, 0])

    assert ev.TEMPERATURE_BOUNDS[0] <= temperature < 0.5
    with pytest.raises(ValueError, match="need logits"):
        ev.fit_temperature(logits, [0, 1])


@pytest.mark.parametrize(
    ("probs", "truth", "message"),
    [
        (np.array([[2.0, -1.0]]), ["a"], "probability distributions"),
        (np.array([[0.5, 0.5, 0.0]]), ["a"], "shape \\(n, 2\\)"),
        (np.array([[0.5, 0.5]]), ["a", "b"], "2 true labels for 1 probability rows"),
        (np.array([[0.5, 0.5]]), ["zebra"], "not among the model's labels"),
        (np.array([[0.5, 0.5]]), [2], "label indices must lie in"),
    ],
)
def test_it_rejects_inputs_that_are_not_probabilities_over_the_labels(
    probs: np.ndarray, truth: list, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ev.evaluate(["a", "b"], truth, probs)


@pytest.fixture
def banking_report() -> ev.EvaluationReport:
    """A 77-intent report from a noisy, roughly calibrated fake model."""
    rng = np.random.default_rng(3)
    y = np.repeat(np.arange(77), 20)
    logits = rng.normal(size=(len(y), 77))
    logits[np.arange(len(y)), y] += rng.normal(4.0, 1.5, size=len(y))
    return ev.evaluate(BANKING77_LABELS, y, ev.softmax(logits), threshold=0.9)


def test_the_report_survives_a_json_round_trip(banking_report: ev.EvaluationReport) -> None:
    text = json.dumps(banking_report.to_dict(), allow_nan=False)
    back = ev.EvaluationReport.from_dict(json.loads(text))

    assert back == banking_report
    assert len(back.per_intent) == 77 and len(back.confusions) == ev.TOP_CONFUSIONS
    assert back.per_intent[52].label == "reverted_card_payment?"


def test_the_summary_states_the_headline_numbers(banking_report: ev.EvaluationReport) -> None:
    summary = ev.format_summary(banking_report)

    assert f"accuracy {banking_report.accuracy:.1%}" in summary
    assert f"ECE {banking_report.ece:.1%}" in summary
    assert f"recommended threshold {banking_report.threshold:.3f}" in summary
    assert "at given threshold 0.900" in summary
    worst = min(banking_report.per_intent, key=lambda s: s.f1)
    assert worst.label in next(line for line in summary.splitlines() if line.startswith("weakest"))
    first = banking_report.confusions[0]
    assert f"{first.true_label} → {first.predicted_label}: {first.count}" in summary


def assert_png(path: Path, min_size: tuple[int, int]) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.size[0] >= min_size[0] and image.size[1] >= min_size[1]


def test_plots_are_written_as_pngs(banking_report: ev.EvaluationReport, tmp_path: Path) -> None:
    paths = ev.save_plots(banking_report, tmp_path / "plots")

    assert set(paths) == {"confusion_matrix", "reliability", "risk_coverage"}
    assert_png(paths["confusion_matrix"], (2000, 2000))  # 77 readable tick labels need room
    assert_png(paths["reliability"], (600, 600))
    assert_png(paths["risk_coverage"], (600, 400))


def test_plots_cope_without_a_recommended_threshold(tmp_path: Path) -> None:
    report = ev.evaluate(["a", "b"], [1, 1, 0], with_confidence([0, 0, 1], [0.9, 0.6, 0.55], 2))
    assert report.recommended is None

    for path in ev.save_plots(report, tmp_path).values():
        assert_png(path, (300, 300))


def test_the_headline_holds_only_scalars(banking_report: ev.EvaluationReport) -> None:
    headline = banking_report.headline()

    assert headline["accuracy"] == banking_report.accuracy
    assert headline["threshold"] == banking_report.threshold
    assert headline["coverage"] == banking_report.recommended.coverage
    assert headline["at_threshold"] == 0.9
    assert headline["at_threshold_coverage"] == banking_report.at_threshold.coverage
    assert all(v is None or isinstance(v, int | float) for v in headline.values())
    json.dumps(headline, allow_nan=False)
