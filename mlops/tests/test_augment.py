"""mlops.augment: perturbed copies of queries for distillation (pure functions, no model)."""

from __future__ import annotations

import numpy as np

from mlops import augment

VOCAB = {w: i for i, w in enumerate(["card", "cards", "lost", "missing", "my", "pin", "the"])}
# Two clusters in a 2-D embedding: card/cards/pin and lost/missing; my/the apart.
EMBEDDINGS = np.array(
    [[1.0, 0.0], [0.98, 0.05], [0.0, 1.0], [0.05, 0.98], [-1.0, 0.1], [0.9, 0.2], [-0.9, -0.5]]
)


def test_neighbours_are_the_nearest_words_the_queries_use():
    table = augment.neighbour_table(["I lost my card", "missing cards"], VOCAB, EMBEDDINGS, k=1)

    assert table["card"] == ["cards"]
    assert table["lost"] == ["missing"]
    assert "pin" not in table  # in the vocabulary, but no query uses it
    assert "i" not in table  # one letter: never replaced


def test_copies_are_deterministic_differ_from_their_original_and_point_back_to_it():
    texts = ["I lost my card yesterday", "where is my card", "card"]
    table = augment.neighbour_table(texts + ["missing cards"], VOCAB, EMBEDDINGS, k=2)

    copies, source = augment.augment(texts, 3, table, seed=7)
    again, _ = augment.augment(texts, 3, table, seed=7)
    other, _ = augment.augment(texts, 3, table, seed=8)

    assert copies == again and copies != other
    assert len(copies) == 9
    assert source.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert all(c.strip() for c in copies)
    assert sum(c.lower() != "i lost my card yesterday" for c in copies[:3]) == 3
    # A one-word text can only be replaced by a neighbour, never dropped.
    assert set(copies[6:]) <= {"card", *table["card"]}


def test_edits_keep_most_words_and_use_only_known_substitutes():
    texts = ["please tell me why my card payment was declined at the shop"] * 200
    table = {"card": ["cards"], "declined": ["refused"]}
    copies, _ = augment.augment(texts, 1, table, seed=0)

    words = set(texts[0].split()) | {"cards", "refused"}
    kept = [len(c.split()) / len(texts[0].split()) for c in copies]
    assert all(set(c.split()) <= words for c in copies)
    assert 0.8 < np.mean(kept) <= 1.0
    assert any("refused" in c for c in copies) and any("cards" in c for c in copies)
