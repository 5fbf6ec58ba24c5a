"""classifier.explain with real models: the TF-IDF baseline trained on BANKING77 and a tiny
BERT exported to ONNX. No Django: the functions take a model and a text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifier import artifact, explain
from mlops import data

ARRIVAL = "I still have not received my new card, it has been two weeks"
SWALLOWED = "The ATM swallowed my card this morning, what should I do?"


@pytest.fixture(scope="module")
def baseline(baseline_artifact):
    return artifact.load(baseline_artifact)


class CountingModel:
    """The real model, counting its calls (a spy, not a stand-in)."""

    def __init__(self, model) -> None:
        self.model = model
        self.calls: list[int] = []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def logits(self, texts):
        self.calls.append(len(texts))
        return self.model.logits(texts)


def probability(model, text: str, label: str) -> float:
    return float(model.predict_proba([text])[0, model.labels.index(label)])


def test_leaving_out_the_top_word_costs_the_label_more_than_leaving_out_the_lowest(baseline):
    answer = explain.explain(baseline, SWALLOWED)
    assert answer.label == "card_swallowed"
    ranked = sorted((p for p in answer.pieces if p.rank), key=lambda p: p.rank)
    top, lowest = ranked[0], ranked[-1]
    # Measured again, outside explain(): the model without each word.
    full = probability(baseline, SWALLOWED, answer.label)
    without_top = probability(baseline, SWALLOWED.replace(top.text, "", 1), answer.label)
    without_lowest = probability(baseline, SWALLOWED.replace(lowest.text, "", 1), answer.label)
    assert full - without_top > full - without_lowest
    assert full - without_top > 0.05
    assert top.without == pytest.approx(without_top, abs=0.02)
    assert top.weight == pytest.approx(explain.log_odds(full) - explain.log_odds(top.without))


def test_the_words_that_name_the_intent_weigh_most(baseline):
    answer = explain.explain(baseline, SWALLOWED)
    assert answer.top_words[0]["text"].lower() in {"swallowed", "atm"}
    declined = explain.explain(baseline, "My card payment was declined at the shop, why?")
    assert declined.label == "declined_card_payment"
    assert declined.top_words[0]["text"] == "declined"


def test_the_text_and_every_occlusion_go_to_the_model_in_one_call(baseline):
    spy = CountingModel(baseline)
    answer = explain.explain(spy, ARRIVAL)
    assert spy.calls == [answer.occlusions + 1]
    assert answer.occlusions == len(explain.words(ARRIVAL)) == answer.words
    # The pieces rebuild the explained text exactly, so the page can highlight in place.
    assert "".join(p.text for p in answer.pieces) == ARRIVAL


def test_a_huge_hostile_text_is_bounded_in_characters_and_model_inputs(baseline):
    hostile = ("card <script>alert(1)</script> ☃ " * 20_000) + "\x00"
    spy = CountingModel(baseline)
    bounds = explain.Bounds(max_chars=2000, max_occlusions=48)
    answer = explain.explain(spy, hostile, bounds=bounds)
    assert spy.calls == [answer.occlusions + 1] and answer.occlusions <= 48
    assert answer.truncated_chars == len(hostile) - 2000
    assert answer.span_words > 1
    assert sum(len(p.text) for p in answer.pieces) == 2000
    assert any("first 2000 characters" in note for note in answer.notes)


def test_an_empty_or_wordless_text_explains_without_occlusions(baseline):
    for text in ("", "   \n "):
        answer = explain.explain(baseline, text)
        assert answer.occlusions == 0 and answer.top_words == []
        assert answer.label in baseline.labels


def test_spans_group_consecutive_words_under_the_bound():
    offsets = explain.words("a b c d e f g")
    assert explain.spans(offsets, 3) == [(0, 5), (6, 11), (12, 13)]
    assert explain.spans(offsets, 100) == offsets
    assert explain.without("where is  my card", 6, 8) == "where my card"


def test_neighbours_come_from_the_training_data_and_say_whether_they_agree(
    baseline, banking77_dir, tmp_path
):
    texts, labels = data.load_split(banking77_dir, "train")
    index = explain.NeighbourIndex.build(baseline, texts[:3000], labels[:3000])
    assert index.vectors.shape == (3000, len(baseline.labels))
    answer = explain.explain(baseline, ARRIVAL, index, explain.Bounds(neighbours=5))
    assert len(answer.neighbours) == 5
    assert all(n.text in texts for n in answer.neighbours)
    sims = [n.similarity for n in answer.neighbours]
    assert sims == sorted(sims, reverse=True)
    assert sum(n.agrees for n in answer.neighbours) >= 4
    assert all(n.agrees == (n.label == "card_arrival") for n in answer.neighbours)

    path = index.save(tmp_path / "v.npz", "v1")
    again = explain.NeighbourIndex.load(path, "v1")
    assert again.texts == index.texts and np.array_equal(again.vectors, index.vectors)
    assert explain.NeighbourIndex.load(path, "another-version") is None
    assert explain.NeighbourIndex.load(tmp_path / "missing.npz", "v1") is None


# --- the serving variant: ONNX through onnxruntime ------------------------------------


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory) -> Path:
    from classifier.tests.tiny_models import write_tiny_version
    from mlops.export import export_onnx
    from mlops.tests.tiny_transformer import SHARED, build_tiny_base, write_small_banking77

    if not SHARED.is_dir():
        pytest.skip("no local BANKING77 folder")
    small = write_small_banking77(tmp_path_factory.mktemp("data") / "banking77")
    base = build_tiny_base(tmp_path_factory.mktemp("tiny-bert"))
    source = write_tiny_version(base, small, tmp_path_factory.mktemp("src") / "tiny-1")
    return export_onnx(source, tmp_path_factory.mktemp("models"), quantize=True, data_dir=small)


def test_onnx_int8_is_explained_within_what_it_reads(tiny_onnx):
    model = artifact.load(tiny_onnx)
    assert model.kind == "onnx"
    short = explain.explain(model, SWALLOWED)
    assert short.unread_from is None and short.occlusions == len(explain.words(SWALLOWED))
    long_text = SWALLOWED + " " + " ".join(f"word{i}" for i in range(200))
    answer = explain.explain(model, long_text)
    # Past its 64 tokens the model reads nothing: those words are not occluded.
    assert answer.unread_from is not None and answer.unread_from < len(long_text)
    assert answer.occlusions < len(explain.words(long_text))
    weighted = [p for p in answer.pieces if p.weight is not None]
    assert long_text.index(weighted[-1].text) < answer.unread_from
    assert any("token limit" in note for note in answer.notes)
