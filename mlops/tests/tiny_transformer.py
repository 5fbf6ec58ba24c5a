"""Builders for the transformer tests: a tiny BERT and a small slice of real BANKING77.

The tiny model is a randomly initialised 2-layer, 32-wide BERT saved as a local folder
with all-MiniLM-L6-v2's tokenizer, so training and loading go through exactly the code
path a Hub model such as TinyBERT takes, in seconds instead of minutes.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertConfig, BertModel

from classifier.transformer import resolve_base_model
from mlops import data
from mlops.config import PACKAGED_MINILM

SHARED = Path(os.environ.get("CLEANINBOX_DATA_SOURCE") or "/work/shared/data/banking77")


def build_tiny_base(dest: Path, seed: int = 0, layers: int = 2) -> Path:
    """Save a random ``layers``-layer BERT (hidden 32, 2 heads) plus MiniLM's tokenizer."""
    tokenizer = AutoTokenizer.from_pretrained(resolve_base_model(PACKAGED_MINILM))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(dest)
    tokenizer.save_pretrained(dest)
    return dest


def write_small_banking77(
    dest: Path, train_per_label: int = 6, test_per_label: int = 2, val_fraction: float = 0.2
) -> Path:
    """Prepare (with ``mlops.data.prepare``) the first rows of each intent of real BANKING77."""
    raw = data.fetch(str(SHARED), progress=False)
    source = dest.parent / f"{dest.name}-source"
    source.mkdir(parents=True)
    for name, frame, n in (
        ("train.csv", raw.train, train_per_label),
        ("test.csv", raw.test, test_per_label),
    ):
        rows = frame.groupby("label", sort=False).head(n)
        with (source / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["text", "category"])
            writer.writerows(rows[["text", "label"]].itertuples(index=False))
    data.prepare(str(source), dest, val_fraction=val_fraction, seed=42, progress=False)
    return dest
