"""A teacher for distillation: an ensemble of trained model versions, its outputs cached.

The teacher is the mean of its members' calibrated probabilities (each member's logits
divided by its own validation temperature), handed to the student as log-probabilities.
Averaging several fine-tuned MiniLM seeds is the cheapest teacher that beats one of them:
no new training, only inference.

Each member's logits for a split are cached on disk, keyed by the member's weights (the
checksums in its metadata) and the data folder's manifest, so a second distillation, or a
retrain that only adds agents' corrections, runs no teacher over the 9,000 training
queries again; the few extra texts (corrections) are scored on the fly. A changed data
manifest or a retrained member is a different key: stale logits are never reused.

No Django here.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifier import artifact
from mlops import data

logger = logging.getLogger(__name__)

CACHE_FORMAT = 1


@dataclass(frozen=True)
class TeacherOutputs:
    """The ensemble's log-probabilities per split (rows in the split files' order)."""

    members: list[str]
    train: np.ndarray
    validation: np.ndarray
    extra: np.ndarray  # for extra texts (e.g. corrections), in the order given
    augmented: np.ndarray  # for perturbed copies of the train split, in the order given
    cache_hits: int  # member-split pairs read from the cache rather than computed

    def describe(self) -> dict:
        """What a student's metadata records about its teacher."""
        return {"members": self.members, "kind": "ensemble-mean-probability"}


def member_key(path: Path) -> str:
    """Identity of a member's weights: a hash of its version name and file checksums."""
    meta = artifact.read_metadata(path)
    blob = json.dumps([meta.get("version"), meta.get("files")], sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def texts_sha256(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    return digest.hexdigest()


def member_logits(
    path: Path,
    data_dir: Path,
    split: str,
    cache_dir: Path,
    refresh: bool = False,
    load: Callable[[], Any] | None = None,
) -> tuple[np.ndarray, bool]:
    """A member's raw logits for ``split`` and whether they came from the cache."""
    manifest = data.read_manifest(data_dir)["manifest_sha256"]
    texts, _ = data.load_split(data_dir, split)
    return texts_logits(
        path, texts, f"{manifest[:20]}-{split}", cache_dir, refresh,
        {"manifest_sha256": manifest, "split": split}, load,
    )  # fmt: skip


def texts_logits(
    path: Path,
    texts: Sequence[str],
    stem: str,
    cache_dir: Path,
    refresh: bool = False,
    describe: dict | None = None,
    load: Callable[[], Any] | None = None,
) -> tuple[np.ndarray, bool]:
    """A member's raw logits for ``texts``, cached as ``stem`` under the member's key and
    reused only when the texts are the same; and whether they came from the cache.
    ``load`` gives the member's model when they must be computed (default: load it)."""
    folder = Path(cache_dir) / member_key(path)
    npy, info_file = folder / f"{stem}.npy", folder / f"{stem}.json"
    wanted = {
        "format": CACHE_FORMAT,
        "member": str(path),
        **(describe or {}),
        "n": len(texts),
        "texts_sha256": texts_sha256(texts),
    }
    if not refresh and npy.is_file() and info_file.is_file():
        info = json.loads(info_file.read_text())
        if {k: v for k, v in info.items() if k != "member"} == {
            k: v for k, v in wanted.items() if k != "member"
        }:
            return np.load(npy), True
    model = load() if load is not None else artifact.load(path)
    logits = np.asarray(model.logits(list(texts)), dtype=np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{stem}.{os.getpid()}.npy.tmp"  # two students may score at once
    with tmp.open("wb") as fh:
        np.save(fh, logits)
    tmp.replace(npy)
    info_file.write_text(json.dumps(wanted, indent=2))
    logger.info(
        "teacher member %s: %d logits (%s) computed and cached", path.name, len(texts), stem
    )
    return logits, False


def ensemble(
    members: Sequence[Path],
    data_dir: Path,
    cache_dir: Path,
    extra_texts: Sequence[str] = (),
    refresh: bool = False,
    augmented_texts: Sequence[str] = (),
) -> TeacherOutputs:
    """The members' mean calibrated probabilities on train, validation, ``extra_texts``
    (scored afresh: a few corrections) and ``augmented_texts`` (cached: tens of thousands
    of perturbed queries, mlops.augment), as log-probabilities; labels must be the data
    folder's, in its order."""
    if not members:
        raise ValueError("a teacher needs at least one member")
    labels = data.load_labels(data_dir)
    sums: dict[str, np.ndarray] = {}
    hits = 0
    for path in map(Path, members):
        meta = artifact.read_metadata(path)
        if meta["labels"] != labels:
            raise ValueError(f"teacher member {path} has other labels than {data_dir}")
        temperature = float(meta.get("temperature") or 1.0)
        load = functools.cache(functools.partial(artifact.load, path))  # once, if at all
        outputs = {}
        for split in ("train", "validation"):
            logits, cached = member_logits(path, data_dir, split, cache_dir, refresh, load)
            hits += cached
            outputs[split] = logits
        if extra_texts:
            outputs["extra"] = np.asarray(load().logits(list(extra_texts)), dtype=np.float32)
        else:
            outputs["extra"] = np.zeros((0, len(labels)), dtype=np.float32)
        if augmented_texts:
            stem = f"augmented-{texts_sha256(augmented_texts)[:20]}"
            logits, cached = texts_logits(
                path, augmented_texts, stem, cache_dir, refresh, load=load
            )
            hits += cached
            outputs["augmented"] = logits
        else:
            outputs["augmented"] = np.zeros((0, len(labels)), dtype=np.float32)
        for split, logits in outputs.items():
            probs = _softmax(logits / temperature)
            sums[split] = sums.get(split, 0) + probs
    n = len(members)
    logp = {k: np.log(np.clip(v / n, 1e-12, 1.0)).astype(np.float32) for k, v in sums.items()}
    return TeacherOutputs(
        members=[Path(p).name for p in members],
        train=logp["train"],
        validation=logp["validation"],
        extra=logp["extra"],
        augmented=logp["augmented"],
        cache_hits=hits,
    )


def _softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
