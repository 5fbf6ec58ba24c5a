"""The one place that decides drift: does recent mail still look like what the model learnt?

A *window* of recent emails (their texts, the production model's probabilities for them and
what the pipeline said about their language) is compared with a *reference* built from the
data the production model was trained on (the training split's intent prior and vocabulary,
and the validation split as the model saw it) and with the window before it. Each check
answers with a score on its own scale, a p-value, the threshold that p-value had to beat and
a plain verdict:

============================  ======================================================  =========================
check                         what it compares                                         test
============================  ======================================================  =========================
``intent_mix``                predicted intents vs the training prior                   chi-square goodness of fit
``intent_mix_previous``       predicted intents vs the previous window                  chi-square, 2×K table
``confidence``                the model's confidence vs validation                      two-sample Kolmogorov–Smirnov
``model_outputs``             the 77 probabilities (black-box shift detection)          KS per class, Bonferroni
``text_features``             hashed word and character n-grams (TF-IDF)                MMD, permutation test
``text_length``               words per email vs validation                             two-sample Kolmogorov–Smirnov
``unknown_words``             share of words never seen in training                     Mann–Whitney U, one-sided
``non_english``               share flagged not English (pipeline or vocabulary)        Fisher's exact, one-sided
``review_rate``               share under the review threshold vs validation            Fisher's exact, one-sided
============================  ======================================================  =========================

Nine tests per window would raise a false alarm in most windows at p < 0.05 each, so the
family is controlled with Holm's step-down procedure at ``alpha`` (0.005 by default: at most
one false alarm in 200 windows, whatever the dependence between the checks).

**Why not Evidently.** The original system used Evidently. Evidently 0.7.23 installs beside
our pins (pandas 2.3, numpy 2.4) and runs, but it does not fit: its verdicts are per column
at a fixed p < 0.05 (or a fixed distance / 95% bootstrap quantile for embeddings, with no
p-value to combine), with no family-wise control, so we would re-do the decision ourselves
and only use it to call scipy; and it brings 27 packages (about 340 MB, among them a web
server, plotly, statsmodels and nltk) and a 6 s import into every worker image. The tests
here are one scipy call each, plus a permutation MMD in numpy.

**Why these representations.** The serving workers run ONNX without torch, so nothing here
needs sentence embeddings from torch: the model's own probability vectors are the learnt
representation (Lipton et al. 2018, "black-box shift detection"; Rabanser et al. 2019 found
KS on them with Bonferroni the strongest single detector), and hashed TF-IDF n-grams see the
raw text (a new language or topic) whatever the model does with it. *Unknown words* are
counted against the training split's own vocabulary: a WordPiece tokenizer almost never
emits ``[UNK]`` (it splits any word into pieces), so its unknown-token rate stays near zero
even for Turkish mail, while the share of words the training data never contained rises.

No Django here: ``mlops.drift_runs`` builds windows from the database and stores results;
tests and ``benchmarks/drift_detection.py`` call :func:`evaluate` on arrays.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

DEFAULT_ALPHA = 0.005
MIN_EMAILS = 50  # below this a window is too small to say anything
PERMUTATIONS = 2000
MAX_REFERENCE_TEXTS = 1000  # the MMD's reference sample (its cost grows with the square)
NON_ENGLISH_MIN_WORDS = 3
NON_ENGLISH_UNKNOWN_SHARE = 0.5

CHECKS: dict[str, str] = {
    "intent_mix": "Mix of predicted intents against the training data",
    "intent_mix_previous": "Mix of predicted intents against the previous window",
    "confidence": "The model's confidence against validation",
    "model_outputs": "The model's 77 probabilities against validation",
    "text_features": "Words and character n-grams against validation",
    "text_length": "Email length (words) against validation",
    "unknown_words": "Share of words never seen in training",
    "non_english": "Share of mail not in English",
    "review_rate": "Share sent to review against validation",
}

OK, DRIFT, INSUFFICIENT = "ok", "drift", "insufficient data"
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)

_HASHER = HashingVectorizer(
    analyzer="char_wb", ngram_range=(3, 5), n_features=2**18, alternate_sign=False, norm=None
)
_WORD_HASHER = HashingVectorizer(
    ngram_range=(1, 2),
    n_features=2**18,
    alternate_sign=False,
    norm=None,
    token_pattern=r"(?u)\b\w+\b",
)


def words(text: str) -> list[str]:
    """Lower-cased words (letters only): what length and vocabulary checks count."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class Reference:
    """What the production model was trained on, as the checks need it."""

    labels: list[str]
    prior: np.ndarray  # training share of each label, in label order
    vocabulary: frozenset[str]  # words of the training split
    texts: list[str]  # validation texts
    probabilities: np.ndarray  # the model's probabilities on them, (n, len(labels))
    threshold: float  # the review threshold the routing rule applies

    def window(self) -> Window:
        """The validation split seen as a window (a language signal from vocabulary alone)."""
        return Window(texts=self.texts, probabilities=self.probabilities)


@dataclass
class Window:
    """Recent emails: their texts, the model's probabilities and the pipeline's language flag."""

    texts: Sequence[str]
    probabilities: np.ndarray
    flagged_not_english: np.ndarray | None = None  # bool per email, from routing_reason
    sent_to_review: np.ndarray | None = None  # bool per email routed to review for other reasons

    def __post_init__(self) -> None:
        self.probabilities = np.asarray(self.probabilities, dtype=np.float64)
        if self.probabilities.ndim != 2 or len(self.probabilities) != len(self.texts):
            raise ValueError(
                f"{len(self.texts)} texts need a (n, labels) probability array, "
                f"got shape {self.probabilities.shape}"
            )

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class CheckResult:
    """One check on one window."""

    name: str
    score: float | None
    p_value: float | None
    verdict: str = OK
    threshold: float | None = None  # the level p had to fall under (Holm-adjusted)
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return CHECKS.get(self.name, self.name)


@dataclass(frozen=True)
class Evaluation:
    """All checks on one window, decided together."""

    checks: list[CheckResult]
    alpha: float
    summary: dict[str, Any]

    @property
    def alarm(self) -> bool:
        return any(c.verdict == DRIFT for c in self.checks)

    @property
    def drifted(self) -> list[str]:
        return [c.name for c in self.checks if c.verdict == DRIFT]


# --- the decision ------------------------------------------------------------------------


def evaluate(
    window: Window,
    reference: Reference,
    previous: Window | None = None,
    *,
    alpha: float = DEFAULT_ALPHA,
    permutations: int = PERMUTATIONS,
    seed: int = 0,
) -> Evaluation:
    """Run every check on ``window`` and decide them together (Holm at ``alpha``)."""
    rng = np.random.default_rng(seed)
    ref_window = reference.window()
    features = _Features(window, reference)
    ref_features = _Features(ref_window, reference)
    raw = [
        intent_mix(window, reference),
        intent_mix_previous(window, previous),
        confidence(window, ref_window),
        model_outputs(window, ref_window),
        text_features(window, ref_window, permutations=permutations, rng=rng),
        text_length(features, ref_features),
        unknown_words(features, ref_features),
        non_english(features, ref_features),
        review_rate(window, ref_window, reference.threshold),
    ]
    checks = holm(raw, alpha)
    return Evaluation(
        checks=checks, alpha=alpha, summary=summarise(window, reference, previous, features)
    )


def holm(results: list[CheckResult], alpha: float) -> list[CheckResult]:
    """Holm's step-down: the k-th smallest of m p-values must be under alpha/(m-k+1), and
    testing stops at the first that is not. Checks without a p-value do not count in m."""
    tested = sorted(
        (r for r in results if r.p_value is not None and r.verdict != INSUFFICIENT),
        key=lambda r: r.p_value,
    )
    m = len(tested)
    decided: dict[str, CheckResult] = {}
    rejecting = True
    for k, result in enumerate(tested):
        level = alpha / (m - k)
        rejecting = rejecting and result.p_value < level
        decided[result.name] = CheckResult(
            result.name,
            result.score,
            result.p_value,
            DRIFT if rejecting else OK,
            level,
            result.detail,
        )
    return [decided.get(r.name, r) for r in results]


# --- the checks --------------------------------------------------------------------------


def _too_small(name: str, n: int, detail: dict | None = None) -> CheckResult | None:
    if n < MIN_EMAILS:
        return CheckResult(name, None, None, INSUFFICIENT, None, {"n": n, **(detail or {})})
    return None


def psi(current: np.ndarray, expected: np.ndarray, eps: float = 1e-4) -> float:
    """Population stability index between two share vectors (0 = same; > 0.2 is the
    industry's "significant shift" rule of thumb for ~10 bins, larger for 77 intents)."""
    p = np.clip(current / max(current.sum(), 1e-12), eps, None)
    q = np.clip(expected / max(expected.sum(), 1e-12), eps, None)
    return float(np.sum((p - q) * np.log(p / q)))


def intent_mix(window: Window, reference: Reference) -> CheckResult:
    n = len(window)
    if small := _too_small("intent_mix", n):
        return small
    counts = np.bincount(window.probabilities.argmax(axis=1), minlength=len(reference.labels))
    expected = reference.prior * n
    statistic, p = stats.chisquare(counts, expected)
    return CheckResult(
        "intent_mix", psi(counts.astype(float), reference.prior), float(p),
        detail={"chi2": float(statistic), "dof": len(counts) - 1, "n": n},
    )  # fmt: skip


def intent_mix_previous(window: Window, previous: Window | None) -> CheckResult:
    n_prev = 0 if previous is None else len(previous)
    if small := _too_small("intent_mix_previous", min(len(window), n_prev), {"previous": n_prev}):
        return small
    k = window.probabilities.shape[1]
    now = np.bincount(window.probabilities.argmax(axis=1), minlength=k)
    before = np.bincount(previous.probabilities.argmax(axis=1), minlength=k)
    seen = (now + before) > 0
    table = np.vstack([now[seen], before[seen]])
    statistic, p, dof, _ = stats.chi2_contingency(table, correction=False)
    return CheckResult(
        "intent_mix_previous", psi(now.astype(float), before.astype(float)), float(p),
        detail={"chi2": float(statistic), "dof": int(dof), "n": len(window), "previous": n_prev},
    )  # fmt: skip


def confidence(window: Window, ref: Window) -> CheckResult:
    if small := _too_small("confidence", len(window)):
        return small
    now, before = window.probabilities.max(axis=1), ref.probabilities.max(axis=1)
    result = stats.ks_2samp(now, before)
    return CheckResult(
        "confidence", float(result.statistic), float(result.pvalue),
        detail={"median": float(np.median(now)), "reference_median": float(np.median(before))},
    )  # fmt: skip


def model_outputs(window: Window, ref: Window) -> CheckResult:
    """Black-box shift detection: a KS test per class probability, Bonferroni over classes."""
    if small := _too_small("model_outputs", len(window)):
        return small
    k = window.probabilities.shape[1]
    result = stats.ks_2samp(window.probabilities, ref.probabilities, axis=0)
    worst = int(np.argmin(result.pvalue))
    return CheckResult(
        "model_outputs", float(np.max(result.statistic)), float(min(1.0, result.pvalue[worst] * k)),
        detail={"worst_class": worst},
    )  # fmt: skip


def text_features(
    window: Window, ref: Window, *, permutations: int, rng: np.random.Generator
) -> CheckResult:
    """Maximum mean discrepancy with a linear kernel on L2-normalised TF-IDF-like hashed
    n-grams (the squared distance between the two mean vectors), p-value by permutation.
    Exact duplicates are dropped on both sides first: repeated one-line emails would make
    a window look unlike any sample of distinct texts."""
    now = _distinct(window.texts)
    before = _distinct(ref.texts)
    if small := _too_small("text_features", len(now)):
        return small
    if len(before) > MAX_REFERENCE_TEXTS:
        before = [
            before[i] for i in sorted(rng.choice(len(before), MAX_REFERENCE_TEXTS, replace=False))
        ]
    x = text_matrix([*now, *before])
    gram = (x @ x.T).toarray().astype(np.float32)
    n, m = len(now), len(before)
    weights = np.empty((permutations + 1, n + m), dtype=np.float32)
    base = np.concatenate([np.full(n, 1.0 / n), np.full(m, -1.0 / m)]).astype(np.float32)
    weights[0] = base
    for b in range(1, permutations + 1):
        weights[b] = base[rng.permutation(n + m)]
    mmd2 = np.einsum("bi,bi->b", weights @ gram, weights)
    p = (1 + np.sum(mmd2[1:] >= mmd2[0])) / (permutations + 1)
    return CheckResult(
        "text_features", float(mmd2[0]), float(p),
        detail={"n_distinct": n, "reference": m, "permutations": permutations},
    )  # fmt: skip


def text_matrix(texts: Sequence[str]):
    """Word 1–2-grams and character 3–5-grams, hashed (no vocabulary to fit or store),
    sublinear counts, each row L2-normalised."""
    word = _WORD_HASHER.transform(texts)
    char = _HASHER.transform(texts)
    for part in (word, char):
        part.data = 1.0 + np.log(part.data)
    from scipy.sparse import hstack

    return normalize(hstack([normalize(word), normalize(char)]).tocsr())


class _Features:
    """Per-email counts the length, vocabulary and language checks share."""

    def __init__(self, window: Window, reference: Reference) -> None:
        tokens = [words(t) for t in window.texts]
        vocab = reference.vocabulary
        self.n = len(tokens)
        self.lengths = np.array([len(t) for t in tokens], dtype=np.float64)
        unknown = np.array([sum(w not in vocab for w in t) for t in tokens], dtype=np.float64)
        self.unknown_share = np.divide(
            unknown, self.lengths, out=np.zeros_like(unknown), where=self.lengths > 0
        )
        self.looks_foreign = (self.lengths >= NON_ENGLISH_MIN_WORDS) & (
            self.unknown_share >= NON_ENGLISH_UNKNOWN_SHARE
        )
        flagged = window.flagged_not_english
        self.not_english = self.looks_foreign | (
            np.asarray(flagged, bool) if flagged is not None else False
        )


def text_length(now: _Features, before: _Features) -> CheckResult:
    if small := _too_small("text_length", now.n):
        return small
    result = stats.ks_2samp(now.lengths, before.lengths)
    return CheckResult(
        "text_length", float(result.statistic), float(result.pvalue),
        detail={"median": float(np.median(now.lengths)), "reference_median": float(np.median(before.lengths))},
    )  # fmt: skip


def unknown_words(now: _Features, before: _Features) -> CheckResult:
    if small := _too_small("unknown_words", now.n):
        return small
    result = stats.mannwhitneyu(now.unknown_share, before.unknown_share, alternative="greater")
    return CheckResult(
        "unknown_words", float(now.unknown_share.mean()), float(result.pvalue),
        detail={"reference": float(before.unknown_share.mean())},
    )  # fmt: skip


def non_english(now: _Features, before: _Features) -> CheckResult:
    return _proportion("non_english", now.not_english, before.not_english)


def review_rate(window: Window, ref: Window, threshold: float) -> CheckResult:
    below = window.probabilities.max(axis=1) < threshold
    if window.sent_to_review is not None:
        below = below | np.asarray(window.sent_to_review, bool)
    return _proportion("review_rate", below, ref.probabilities.max(axis=1) < threshold)


def _proportion(name: str, now: np.ndarray, before: np.ndarray) -> CheckResult:
    """One-sided Fisher's exact test: is the share higher in the window than in reference?
    Exact, so a reference share of zero does not turn one flagged email into an alarm."""
    if small := _too_small(name, len(now)):
        return small
    a, b = int(now.sum()), int(before.sum())
    table = [[a, len(now) - a], [b, len(before) - b]]
    p = stats.fisher_exact(table, alternative="greater").pvalue
    return CheckResult(
        name, a / len(now), float(p), detail={"count": a, "reference": b / max(len(before), 1)}
    )


def _distinct(texts: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(" ".join(t.lower().split()) for t in texts if t.strip()))


# --- what the plots and the page show ----------------------------------------------------

CONFIDENCE_BINS = np.linspace(0.0, 1.0, 21)
LENGTH_BINS = np.array([0, 3, 5, 8, 10, 12, 15, 20, 25, 30, 40, 60, 100, 1e9])


def summarise(
    window: Window, reference: Reference, previous: Window | None, features: _Features
) -> dict[str, Any]:
    """Counts and histograms small enough to store with a run and re-plot later."""
    k = len(reference.labels)
    ref = reference.window()
    ref_features = _Features(ref, reference)

    def hist(values: np.ndarray, bins: np.ndarray) -> list[int]:
        return np.histogram(values, bins=bins)[0].astype(int).tolist()

    now_intents = (
        np.bincount(window.probabilities.argmax(axis=1), minlength=k)
        if len(window)
        else np.zeros(k)
    )
    prev_intents = (
        np.bincount(previous.probabilities.argmax(axis=1), minlength=k)
        if previous and len(previous)
        else None
    )
    return {
        "labels": list(reference.labels),
        "intents": np.asarray(now_intents).astype(int).tolist(),
        "previous_intents": None if prev_intents is None else prev_intents.astype(int).tolist(),
        "prior": reference.prior.round(6).tolist(),
        "confidence_bins": CONFIDENCE_BINS.tolist(),
        "confidence": hist(window.probabilities.max(axis=1), CONFIDENCE_BINS)
        if len(window)
        else [],
        "reference_confidence": hist(ref.probabilities.max(axis=1), CONFIDENCE_BINS),
        "length_bins": LENGTH_BINS[:-1].tolist(),
        "length": hist(features.lengths, LENGTH_BINS),
        "reference_length": hist(ref_features.lengths, LENGTH_BINS),
        "unknown_share": float(features.unknown_share.mean()) if features.n else None,
        "reference_unknown_share": float(ref_features.unknown_share.mean()),
        "not_english": int(np.sum(features.not_english)),
    }


def training_prior(labels: Sequence[str], train_labels: Sequence[str]) -> np.ndarray:
    """Share of each label in the training split, in ``labels`` order (never exactly 0)."""
    counts = Counter(train_labels)
    prior = np.array([counts.get(label, 0) for label in labels], dtype=np.float64) + 0.5
    return prior / prior.sum()


def vocabulary(texts: Sequence[str]) -> frozenset[str]:
    return frozenset(w for t in texts for w in words(t))
