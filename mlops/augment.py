"""Perturbed copies of training queries for distillation (TinyBERT's data augmentation).

A teacher's soft targets on the queries it was trained on are nearly one-hot: it has
learnt them, so there is little "dark knowledge" left to pass on. On texts it has never
seen, close to the real ones, its probabilities say which intents a query resembles. So
the student is also trained on copies of each training query with some words swapped for
neighbours, some dropped and two neighbouring words exchanged (EDA-style edits, Wei & Zou
2019), labelled by the teacher alone (Jiao et al. 2020, "TinyBERT", section 3.2).

Replacement words come from the encoder's own word embeddings (TinyBERT used GloVe and
BERT's masked-LM head; neither is at hand offline): the nearest single-token words by
cosine similarity, among the words the training queries use, so substitutes stay in the
bank's vocabulary ("card" -> "cards", "transfer" -> "payment").

Deterministic for a given seed and input. No Django, no torch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

_TOKEN = re.compile(r"[A-Za-z]+|[0-9]+|[^\sA-Za-z0-9]+")
_WORD = re.compile(r"[a-z]{2,}")

# Per-word chances of each edit, and of exchanging one pair of neighbouring words.
P_SUBSTITUTE = 0.15
P_DELETE = 0.1
P_SWAP = 0.3
NEIGHBOURS = 8


def neighbour_table(
    texts: Sequence[str],
    vocab: Mapping[str, int],
    embeddings: np.ndarray,
    k: int = NEIGHBOURS,
) -> dict[str, list[str]]:
    """For each word of ``texts`` that is one token of ``vocab``, its ``k`` nearest such
    words by cosine similarity of their rows of ``embeddings`` (vocab id -> vector)."""
    words = sorted({w for text in texts for w in _WORD.findall(text.lower()) if w in vocab})
    if len(words) < 2:
        return {}
    vectors = np.asarray(embeddings, dtype=np.float32)[[vocab[w] for w in words]]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
    k = min(k, len(words) - 1)
    table: dict[str, list[str]] = {}
    for start in range(0, len(words), 1024):
        sims = vectors[start : start + 1024] @ vectors.T
        for row, i in enumerate(range(start, min(start + 1024, len(words)))):
            sims[row, i] = -np.inf
        nearest = np.argpartition(-sims, k, axis=1)[:, :k]
        for row, idx in enumerate(nearest):
            order = idx[np.argsort(-sims[row, idx])]
            table[words[start + row]] = [words[j] for j in order]
    return table


def perturb(text: str, table: Mapping[str, Sequence[str]], rng: np.random.Generator) -> str:
    """One edited copy of ``text``: words replaced by neighbours, dropped, or exchanged
    with the next word; never empty (the text itself when it has nothing to edit)."""
    tokens = _TOKEN.findall(text)
    out: list[str] = []
    for token in tokens:
        roll = rng.random()
        choices = table.get(token.lower())
        if choices and roll < P_SUBSTITUTE:
            out.append(choices[rng.integers(len(choices))])
        elif roll > 1 - P_DELETE and len(tokens) > 2:
            continue
        else:
            out.append(token)
    if len(out) > 2 and rng.random() < P_SWAP:
        i = int(rng.integers(len(out) - 1))
        out[i], out[i + 1] = out[i + 1], out[i]
    return " ".join(out) if out else text


def augment(
    texts: Sequence[str],
    copies: int,
    table: Mapping[str, Sequence[str]],
    seed: int = 0,
) -> tuple[list[str], np.ndarray]:
    """``copies`` edited copies of every text, each differing from its original where an
    edit is possible (a few tries), and the index of each copy's original."""
    rng = np.random.default_rng(seed)
    out: list[str] = []
    source: list[int] = []
    for i, text in enumerate(texts):
        for _ in range(copies):
            candidate = text
            for _try in range(5):
                candidate = perturb(text, table, rng)
                if candidate.lower() != " ".join(_TOKEN.findall(text)).lower():
                    break
            out.append(candidate)
            source.append(i)
    return out, np.asarray(source, dtype=np.int64)
