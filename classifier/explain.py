"""Why the model chose a label: word occlusion and the nearest training examples.

Two questions, answered with nothing but the model's own ``logits`` (so every kind works:
TF-IDF, ONNX fp32/int8 without torch, the torch transformer):

- **Which words weighed most?** Occlusion: the text is scored once as it is and once
  without each word (or, for a long text, each span of consecutive words), all in ONE
  batched call. A word's weight is how much the chosen label's log-odds drop when it is
  left out (log-odds, not probability: at 99.9% confidence every word moves the
  probability by a fraction of a point, which ranks the same but hides the sizes); a
  negative weight means the label got *more* likely without it. This is
  exact for what it measures (no gradients, no approximation of the served int8 graph),
  at the price of ``n + 1`` forward passes, bounded by ``max_occlusions``.
- **Which training examples does the model see alike?** Nearest neighbours in the model's
  score space: each training query is represented by its centred logit vector (softmax
  ignores a common shift, so the centring removes the one meaningless direction), unit
  length; similarity is the cosine. Two texts are neighbours when the model scores all 77
  intents alike for them. Cheaper than a sentence-embedding index (77 floats a query, no
  second graph output, no change to exported artifacts), and it is the space the label is
  read from; neighbours with another label show the model near a border.

No Django here: callers pass the model, the text and, for neighbours, a ``NeighbourIndex``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from classifier.artifact import Classifier, softmax

# A word: letters/digits with inner apostrophes, hyphens or dots ("don't", "top-up", "3.50"),
# or one other visible character (punctuation and symbols, which can weigh too: "?", "£").
_WORD = re.compile(r"\w+(?:['’.\-]\w+)*|[^\w\s]", re.UNICODE)
INDEX_FORMAT = 1


@dataclass(frozen=True)
class Bounds:
    """What one explanation may cost: characters read and texts sent to the model."""

    max_chars: int = 2000
    max_occlusions: int = 48
    neighbours: int = 5


@dataclass
class Piece:
    """A stretch of the explained text: a word (or span), or the text between words."""

    text: str
    weight: float | None = None  # drop of the label's log-odds without it; None: not occluded
    without: float | None = None  # the label's probability without it
    rank: int | None = None  # 1 = weighed most for the label


@dataclass
class Neighbour:
    text: str
    label: str
    similarity: float
    agrees: bool


@dataclass
class Explanation:
    """The answer, JSON-ready through ``to_dict``."""

    label: str
    probability: float
    pieces: list[Piece]
    top_words: list[dict[str, Any]]
    neighbours: list[Neighbour] | None
    occlusions: int
    words: int
    span_words: int  # words per occluded span (1: word by word)
    truncated_chars: int  # characters past max_chars, not explained
    unread_from: int | None  # char offset past which the model does not read (token limit)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def words(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of every word of ``text``."""
    return [m.span() for m in _WORD.finditer(text)]


def reading_limit(model: Classifier, text: str) -> int | None:
    """The character offset past which ``model`` reads nothing (its token limit), or None
    when it reads the whole text. Known for models with a ``tokenizers`` tokenizer."""
    tokenizer = getattr(model, "tokenizer", None)
    encode = getattr(tokenizer, "encode", None)
    if encode is None or not hasattr(tokenizer, "truncation"):
        return None
    encoding = encode(text)
    if not getattr(encoding, "overflowing", None):
        return None
    ends = [end for start, end in encoding.offsets if end > start]
    return max(ends) if ends else 0


def spans(offsets: Sequence[tuple[int, int]], max_occlusions: int) -> list[tuple[int, int]]:
    """Group word offsets into at most ``max_occlusions`` spans of consecutive words."""
    if not offsets:
        return []
    size = -(-len(offsets) // max(1, max_occlusions))  # ceiling division
    return [
        (offsets[i][0], offsets[min(i + size, len(offsets)) - 1][1])
        for i in range(0, len(offsets), size)
    ]


def without(text: str, start: int, end: int) -> str:
    """``text`` with [start, end) left out and the whitespace around it collapsed to one."""
    left, right = text[:start].rstrip(), text[end:].lstrip()
    return f"{left} {right}" if left and right else left or right


def explain(
    model: Classifier,
    text: str,
    index: NeighbourIndex | None = None,
    bounds: Bounds = Bounds(),  # noqa: B008 - frozen, shared on purpose
) -> Explanation:
    """Occlusion weights for the label ``model`` gives ``text``, and its nearest training
    examples from ``index`` (None: neighbours not available). One batched model call."""
    notes: list[str] = []
    truncated = max(0, len(text) - bounds.max_chars)
    text = text[: bounds.max_chars]
    limit = reading_limit(model, text)
    offsets = words(text)
    readable = [(s, e) for s, e in offsets if limit is None or e <= limit]
    occluded = spans(readable, bounds.max_occlusions)
    variants = [text, *(without(text, s, e) for s, e in occluded)]
    scaled = np.asarray(model.logits(variants), dtype=np.float64) / model.temperature
    probs = softmax(scaled)
    chosen = int(probs[0].argmax())
    base = float(probs[0, chosen])
    weights = log_odds(base) - log_odds(probs[1:, chosen])
    pieces = _pieces(text, occluded, weights, probs[1:, chosen])
    top = sorted(
        (p for p in pieces if p.weight is not None), key=lambda p: p.weight or 0.0, reverse=True
    )
    for rank, piece in enumerate(top, start=1):
        piece.rank = rank
    span_words = -(-len(readable) // max(1, bounds.max_occlusions)) if readable else 1
    if span_words > 1:
        notes.append(f"long text: left out {span_words} words at a time")
    if truncated:
        notes.append(f"only the first {bounds.max_chars} characters are explained")
    if limit is not None:
        notes.append("the model reads no further than the highlighted part (its token limit)")
    neighbours = None
    if index is not None:
        labels = model.labels
        neighbours = index.nearest(scaled[0], bounds.neighbours, labels[chosen])
    return Explanation(
        label=model.labels[chosen],
        probability=base,
        pieces=pieces,
        top_words=[
            {"text": p.text, "weight": p.weight, "without": p.without}
            for p in top[:5]
            if (p.weight or 0.0) > 0
        ],
        neighbours=neighbours,
        occlusions=len(occluded),
        words=len(offsets),
        span_words=span_words,
        truncated_chars=truncated,
        unread_from=limit,
        notes=notes,
    )


def log_odds(p: float | np.ndarray) -> np.ndarray:
    """``log(p / (1 - p))``, clipped so that 0 and 1 stay finite."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def _pieces(
    text: str, occluded: list[tuple[int, int]], weights: np.ndarray, without: np.ndarray
) -> list[Piece]:
    pieces: list[Piece] = []
    cursor = 0
    for (start, end), weight, p in zip(occluded, weights, without, strict=True):
        if start > cursor:
            pieces.append(Piece(text[cursor:start]))
        pieces.append(Piece(text[start:end], weight=float(weight), without=float(p)))
        cursor = end
    if cursor < len(text):
        pieces.append(Piece(text[cursor:]))
    return pieces


def score_vectors(logits: np.ndarray) -> np.ndarray:
    """Centred, unit-length rows: the model's score space in which neighbours are sought."""
    centred = np.asarray(logits, dtype=np.float32)
    centred = centred - centred.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return centred / np.maximum(norms, 1e-12)


class NeighbourIndex:
    """The training queries of one model version in its score space (77 floats a query,
    about 3 MB for BANKING77's 9,000), with their texts and labels."""

    def __init__(self, vectors: np.ndarray, texts: Sequence[str], labels: Sequence[str]) -> None:
        if not len(vectors) == len(texts) == len(labels):
            raise ValueError("vectors, texts and labels must have one row per example")
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.texts = list(texts)
        self.labels = list(labels)

    @classmethod
    def build(
        cls, model: Classifier, texts: Sequence[str], labels: Sequence[str], batch: int = 512
    ) -> NeighbourIndex:
        """Score every training text once with ``model`` (in batches, to bound memory)."""
        parts = [
            score_vectors(np.asarray(model.logits(list(texts[i : i + batch])), dtype=np.float64))
            for i in range(0, len(texts), batch)
        ]
        vectors = np.concatenate(parts) if parts else np.zeros((0, len(model.labels)), np.float32)
        return cls(vectors, texts, labels)

    def nearest(self, logits: np.ndarray, k: int, label: str) -> list[Neighbour]:
        """The ``k`` training examples most similar to one text's ``logits``."""
        if not len(self.texts) or k <= 0:
            return []
        query = score_vectors(np.asarray(logits, dtype=np.float64)[None, :])[0]
        sims = self.vectors @ query
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        return [
            Neighbour(self.texts[i], self.labels[i], float(sims[i]), self.labels[i] == label)
            for i in top
        ]

    def save(self, path: Path, version: str) -> Path:
        """Write the index to ``path`` (.npz) atomically; returns ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp.npz")
        np.savez_compressed(
            tmp,
            vectors=self.vectors,
            texts=np.array(self.texts, dtype=object).astype(str),
            labels=np.array(self.labels).astype(str),
            version=np.array(version),
            format=np.array(INDEX_FORMAT),
        )
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path, version: str) -> NeighbourIndex | None:
        """The index saved for ``version`` at ``path``, or None if absent, of another version
        or another format (then it is rebuilt)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if int(data["format"]) != INDEX_FORMAT or str(data["version"]) != version:
                    return None
                return cls(data["vectors"], data["texts"].tolist(), data["labels"].tolist())
        except (OSError, KeyError, ValueError):
            return None
