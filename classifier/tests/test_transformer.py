"""classifier.transformer: artifacts built from a tiny BERT, loaded and used for real."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from classifier import artifact
from classifier.artifact import UnusableModel
from classifier.transformer import (
    HEAD_FILE,
    PooledClassifier,
    TransformerClassifier,
    resolve_base_model,
    save_model,
)
from mlops.tests.tiny_transformer import build_tiny_base

LABELS = ["card_arrival", "card_linking", "exchange_rate", "reverted_card_payment?"]
TEXTS = [
    "Where is my card?",
    "hi",
    "I was charged the wrong exchange rate when I paid in euros on holiday last week, why?",
    "How do I link my new card to the app",
    "",
]


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    return build_tiny_base(tmp_path_factory.mktemp("tiny-bert"))


def write_tiny_artifact(base: Path, dest: Path, pooling: str = "mean") -> Path:
    torch.manual_seed(1)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = PooledClassifier(AutoModel.from_pretrained(base), len(LABELS), pooling=pooling)
    metadata = {
        "version": dest.name,
        "kind": "transformer",
        "labels": LABELS,
        "temperature": 1.5,
        "transformer": {"pooling": pooling, "max_length": 64},
    }
    return artifact.write_artifact(dest, metadata, lambda tmp: save_model(model, tokenizer, tmp))


@pytest.fixture(scope="module")
def tiny_artifact(tiny_base, tmp_path_factory) -> Path:
    return write_tiny_artifact(tiny_base, tmp_path_factory.mktemp("models") / "tiny-1")


@pytest.fixture
def broken_copy(tiny_artifact, tmp_path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(tiny_artifact, copy)
    return copy


def test_it_predicts_calibrated_probabilities_in_label_order(tiny_artifact):
    model = artifact.load(tiny_artifact, expected_labels=LABELS)

    probs = model.predict_proba(TEXTS)
    predictions = model.predict(TEXTS, k=3)

    assert isinstance(model, TransformerClassifier)
    assert model.labels == LABELS
    assert probs.shape == (len(TEXTS), len(LABELS))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    logits = model.logits(TEXTS)
    np.testing.assert_allclose(probs, artifact.softmax(logits / 1.5), atol=1e-6)
    for row, prediction in zip(probs, predictions, strict=True):
        assert prediction.label == LABELS[int(row.argmax())]
        assert [p for _, p in prediction.top_k] == sorted(row, reverse=True)[:3]


def test_batching_and_padding_do_not_change_the_scores(tiny_artifact):
    model = artifact.load(tiny_artifact)
    model.batch_size = 2  # forces several length-sorted, differently padded batches

    together = model.logits(TEXTS)
    one_by_one = np.vstack([model.logits([text]) for text in TEXTS])

    np.testing.assert_allclose(together, one_by_one, atol=1e-5)


def test_an_empty_batch_gives_an_empty_matrix(tiny_artifact):
    assert artifact.load(tiny_artifact).logits([]).shape == (0, len(LABELS))


def test_cls_pooling_is_recorded_and_used(tiny_base, tmp_path):
    model = artifact.load(write_tiny_artifact(tiny_base, tmp_path / "cls", pooling="cls"))
    encoded = model.tokenizer(["Where is my card?"], return_tensors="pt")

    with torch.inference_mode():
        hidden = model.model.encoder(**encoded).last_hidden_state
        pooled = model.model.pool(encoded["input_ids"], encoded["attention_mask"])

    assert model.model.pooling == "cls"
    torch.testing.assert_close(pooled, hidden[:, 0])


def test_it_uses_the_configured_number_of_threads(tiny_artifact):
    model = artifact.load(tiny_artifact)
    model.num_threads = 1
    before = torch.get_num_threads()
    try:
        model.logits(TEXTS)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_a_label_count_that_does_not_match_the_head_is_unusable(broken_copy):
    meta_path = broken_copy / artifact.METADATA_FILE
    meta = json.loads(meta_path.read_text())
    meta["labels"] = LABELS[:3]
    meta_path.write_text(json.dumps(meta))

    with pytest.raises(UnusableModel, match="3 labels"):
        artifact.load(broken_copy)


def test_corrupt_weights_are_unusable(broken_copy):
    weights = broken_copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])

    with pytest.raises(UnusableModel, match="checksum"):
        artifact.load(broken_copy)
    # Even when checksums are skipped, a truncated file is refused, not half-loaded.
    with pytest.raises(UnusableModel):
        artifact.load(broken_copy, verify=False)


def test_a_missing_head_is_unusable(broken_copy):
    (broken_copy / HEAD_FILE).unlink()

    with pytest.raises(UnusableModel, match=HEAD_FILE):
        artifact.load(broken_copy)


def test_encoder_weights_that_do_not_fit_the_config_are_unusable(broken_copy):
    config_path = broken_copy / "config.json"
    config = json.loads(config_path.read_text())
    config["num_hidden_layers"] = 3  # the weights hold 2 layers
    config_path.write_text(json.dumps(config))

    with pytest.raises(UnusableModel):
        artifact.load(broken_copy, verify=False)


def test_the_packaged_minilm_resolves_to_a_local_folder():
    folder = Path(resolve_base_model("packaged:all-MiniLM-L6-v2"))

    assert (folder / "config.json").is_file()
    assert (folder / "model.safetensors").is_file()
    assert resolve_base_model("huawei-noah/TinyBERT_General_4L_312D") == (
        "huawei-noah/TinyBERT_General_4L_312D"
    )
    with pytest.raises(ValueError, match="unknown packaged model"):
        resolve_base_model("packaged:gpt-9")
