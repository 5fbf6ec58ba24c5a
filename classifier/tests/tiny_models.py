"""A tiny transformer version over the 77 intents, for the ONNX export tests.

Built from ``mlops.tests.tiny_transformer``'s random 2-layer BERT and the real label list,
with a fitted-looking temperature and threshold, and the data manifest of the small
BANKING77 slice it pretends to be trained on (so the exporter accepts that slice's
validation split). Untrained: these tests check that exporting preserves a model, not
that the model is good.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoModel, AutoTokenizer

from classifier import artifact
from classifier.transformer import PooledClassifier, save_model
from mlops import data

TEMPERATURE = 1.5
THRESHOLD = 0.4


def write_tiny_version(base: Path, data_dir: Path, dest: Path) -> Path:
    """A transformer version at ``dest`` (its folder name is the version)."""
    labels = data.load_labels(data_dir)
    torch.manual_seed(1)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = PooledClassifier(AutoModel.from_pretrained(base), len(labels), pooling="mean")
    metadata = {
        "version": dest.name,
        "kind": "transformer",
        "labels": labels,
        "temperature": TEMPERATURE,
        "threshold": THRESHOLD,
        "transformer": {"pooling": "mean", "max_length": 64},
        "data_manifest_sha256": data.read_manifest(data_dir)["manifest_sha256"],
    }
    return artifact.write_artifact(dest, metadata, lambda tmp: save_model(model, tokenizer, tmp))
