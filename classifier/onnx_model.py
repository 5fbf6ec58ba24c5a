"""The fine-tuned transformer exported to ONNX and run with onnxruntime: no torch at all.

An artifact folder holds ``model.onnx`` (inputs ``input_ids`` and ``attention_mask``, int64,
any batch size and length; output ``logits``) and the fast tokenizer's ``tokenizer.json``.
``metadata["transformer"]`` keeps the source model's ``max_length``; ``metadata["onnx"]``
records the padding id, the opset and whether the weights are int8-quantised. The
versions are written by ``mlops.export`` from a transformer version.

A worker that serves this kind imports neither torch nor transformers, only
``onnxruntime`` and ``tokenizers``: a smaller process that starts faster. Inference
batches texts sorted by length, padded only to the longest text of each batch, exactly as
``classifier.transformer`` does, so both kinds give the same logits. No Django here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from classifier.artifact import Classifier, UnusableModel

ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "logits"
# The same knob as the torch model: threads per worker process. Unset means one, which is
# also the setting's default: two processes on two cores must not each take both.
THREADS_ENV = "CLEANINBOX_TORCH_THREADS"
# Texts per onnxruntime call. Measured on MiniLM, one thread: 8 gave about twice the
# throughput of 64 for a batch of 32 emails (padding, and large activations falling out
# of cache), and more than 1 at a time (per-call overhead).
BATCH_SIZE = 8


def session_options(num_threads: int = 1) -> ort.SessionOptions:
    """onnxruntime options for one worker: ``num_threads`` for each op, one op at a time,
    every graph optimisation on, and idle threads that sleep instead of spinning."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Spinning threads steal the cores other processes (web, a second worker) need; the
    # same lesson as OMP_WAIT_POLICY=PASSIVE in mlops.training.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # warnings about unused initialisers are noise here
    return options


def open_session(path: Path, num_threads: int = 1) -> ort.InferenceSession:
    """A CPU session for the ONNX graph at ``path``; raises ``UnusableModel`` if the file
    is not a graph with the inputs and output this module feeds and reads."""
    try:
        session = ort.InferenceSession(
            str(path), session_options(num_threads), providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own exception types for bad files
        raise UnusableModel(f"cannot read the ONNX graph {path}: {exc}") from exc
    inputs = tuple(i.name for i in session.get_inputs())
    outputs = tuple(o.name for o in session.get_outputs())
    if sorted(inputs) != sorted(INPUT_NAMES) or OUTPUT_NAME not in outputs:
        raise UnusableModel(
            f"ONNX graph {path} takes {inputs} and gives {outputs}; "
            f"expected {INPUT_NAMES} -> {OUTPUT_NAME!r}"
        )
    return session


def load_tokenizer(path: Path, max_length: int) -> Tokenizer:
    """The fast tokenizer from ``tokenizer.json``, truncating like the torch model does and
    never padding (batches are padded to their own longest text)."""
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length)
    tokenizer.no_padding()
    return tokenizer


def pad_batch(token_ids: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """int64 input ids and attention mask, padded to the longest sequence of this batch."""
    width = max(len(ids) for ids in token_ids)
    input_ids = np.full((len(token_ids), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(token_ids), width), dtype=np.int64)
    for row, ids in enumerate(token_ids):
        input_ids[row, : len(ids)] = ids
        mask[row, : len(ids)] = 1
    return input_ids, mask


class OnnxClassifier(Classifier):
    """An exported transformer served by onnxruntime, loaded once and reused."""

    kind = "onnx"

    def __init__(
        self,
        path: Path,
        metadata: dict[str, Any],
        tokenizer: Tokenizer,
        session: ort.InferenceSession,
        *,
        pad_id: int,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        super().__init__(path, metadata)
        self.tokenizer = tokenizer
        self.session = session
        self.pad_id = pad_id
        self.batch_size = batch_size

    @classmethod
    def open(
        cls, path: Path, metadata: dict[str, Any], num_threads: int | None = None
    ) -> OnnxClassifier:
        """Load the files in ``path`` described by ``metadata`` (also used by the exporter
        before the version is written). ``num_threads`` defaults to CLEANINBOX_TORCH_THREADS,
        else one."""
        path = Path(path)
        settings = metadata.get("transformer") or {}
        onnx_meta = metadata.get("onnx") or {}
        if "pad_token_id" not in onnx_meta:
            raise UnusableModel(f"ONNX artifact at {path} records no pad_token_id")
        if num_threads is None:
            num_threads = int(os.environ.get(THREADS_ENV) or 1)
        tokenizer = load_tokenizer(path / TOKENIZER_FILE, int(settings.get("max_length", 64)))
        session = open_session(path / ONNX_FILE, num_threads)
        return cls(path, metadata, tokenizer, session, pad_id=int(onnx_meta["pad_token_id"]))

    @classmethod
    def _load(cls, path: Path, metadata: dict[str, Any]) -> OnnxClassifier:
        return cls.open(path, metadata)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text, with [CLS]/[SEP], truncated to max_length, unpadded."""
        return [encoding.ids for encoding in self.tokenizer.encode_batch(list(texts))]

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Raw scores (n, n_labels); empty input gives an empty (0, n_labels) array."""
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        token_ids = self.token_ids(texts)
        order = np.argsort([len(ids) for ids in token_ids], kind="stable")
        out: np.ndarray | None = None
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            input_ids, mask = pad_batch([token_ids[i] for i in rows], self.pad_id)
            feed = {"input_ids": input_ids, "attention_mask": mask}
            scores = self.session.run([OUTPUT_NAME], feed)[0]
            if out is None:
                # Sized by the graph, not the metadata: artifact.load compares the two.
                out = np.zeros((len(texts), scores.shape[1]), dtype=np.float32)
            out[rows] = scores
        return out
