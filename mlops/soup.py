"""A model soup: the weights of several fine-tuned versions averaged into one model.

Runs of the default recipe with different seeds start from the same point (the pretrained
encoder and the same linear-probe head) and fine-tune it gently, so they end in one basin
of the loss, where the average of their weights is a better model than any of them
(Wortsman et al. 2022, "Model soups"). Unlike an ensemble it costs nothing at inference:
the soup is one model of the same shape, served, exported to int8 and promoted like any
other version.

``greedy`` is the paper's greedy soup: members in order of validation accuracy, each kept
only if the soup's validation accuracy does not drop with it. Then, as after training
(mlops.training.finish), temperature scaling, the routing threshold and the validation
report on the validation split, and an atomic artifact write.

No Django here: ``manage.py soup_models`` and ``benchmarks/soup.py`` call ``soup``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from classifier import artifact
from classifier.transformer import batched_logits, tokenize
from mlops import data
from mlops.config import from_dict
from mlops.training import _new_version, finish, torch_threads

logger = logging.getLogger(__name__)


def average(states: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of state dicts of one architecture (integer buffers such as
    position ids are taken from the first)."""
    check_same_shape(states)
    first = states[0]
    out = {}
    for key, tensor in first.items():
        if tensor.is_floating_point():
            out[key] = (sum(s[key].double() for s in states) / len(states)).to(tensor.dtype)
        else:
            out[key] = tensor.clone()
    return out


def check_same_shape(states: Sequence[dict[str, torch.Tensor]]) -> None:
    """``ValueError`` unless every state dict has the first one's keys and shapes."""
    first = states[0]
    for i, state in enumerate(states[1:], start=2):
        if state.keys() != first.keys() or any(state[k].shape != first[k].shape for k in first):
            raise ValueError(f"soup member {i} has another architecture than member 1")


def soup(
    members: Sequence[Path],
    data_dir: Path,
    model_dir: Path,
    name: str = "soup",
    greedy: bool = False,
    num_threads: int = 2,
) -> Path:
    """Average the weights of ``members`` (trained transformer versions of one
    architecture and label set) into a new version folder under ``model_dir``."""
    started = time.monotonic()
    if len(members) < 2:
        raise ValueError("a soup needs at least two members")
    data_dir, model_dir = Path(data_dir), Path(model_dir)
    labels = data.load_labels(data_dir)
    val_texts, val_names = data.load_split(data_dir, "validation")
    index = {label: i for i, label in enumerate(labels)}
    val_y = np.array([index[n] for n in val_names])
    with torch_threads(num_threads):
        loaded = [artifact.load(Path(p), expected_labels=labels) for p in members]
        if any(m.kind != "transformer" for m in loaded):
            raise ValueError("only transformer versions can be averaged")
        refits = [
            Path(p).name for p, m in zip(members, loaded, strict=True) if m.metadata.get("refit")
        ]
        if refits:
            raise ValueError(
                f"{', '.join(refits)} learnt the validation split (refit): a soup is weighed "
                "and calibrated on validation; average the held-out runs instead"
            )
        base = loaded[0]
        config = dataclasses.replace(from_dict(base.metadata["config"]), name=name)
        val_ids = tokenize(base.tokenizer, val_texts, config.max_length)
        pad_id = base.tokenizer.pad_token_id
        states = [{k: v.detach().clone() for k, v in m.model.state_dict().items()} for m in loaded]
        check_same_shape(states)  # before anything is scored

        def accuracy(state: dict[str, torch.Tensor]) -> float:
            base.model.load_state_dict(state)
            logits = batched_logits(base.model, val_ids, pad_id, config.eval_batch_size)
            return float((logits.argmax(axis=1) == val_y).mean())

        scores = [accuracy(s) for s in states]
        order = sorted(range(len(states)), key=lambda i: -scores[i])
        if greedy:
            kept, best = [order[0]], scores[order[0]]
            for i in order[1:]:
                trial = accuracy(average([states[j] for j in kept + [i]]))
                if trial >= best:
                    kept, best = kept + [i], trial
        else:
            kept = order
        base.model.load_state_dict(average([states[i] for i in kept]))
        names = [Path(m).name for m in members]
        version = _new_version(name, model_dir)
        path, metadata = finish(
            base.model, base.tokenizer, config, version, model_dir, data_dir, labels,
            val_ids, val_y, [], None, started,
            {
                "soup": {
                    "kind": "greedy" if greedy else "uniform",
                    "members": names,
                    "kept": [names[i] for i in sorted(kept)],
                    "member_val_accuracy": dict(zip(names, scores, strict=True)),
                },
                "training_examples": base.metadata.get("training_examples"),
            },
        )  # fmt: skip
    logger.info(
        "soup of %d/%d member(s): validation accuracy %.4f (members %s)",
        len(kept), len(states), metadata["metrics"]["validation"]["accuracy"], ", ".join(f"{s:.4f}" for s in scores),
    )  # fmt: skip
    return path
