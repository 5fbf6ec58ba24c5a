"""Model artifacts: the on-disk format every classifier version shares.

A model version is a folder holding the model's own files plus ``metadata.json``: the
ordered label list, the calibration temperature, the recommended threshold, metrics,
training config, data-manifest hash, library versions, git commit, a format version
and the sha256 of every file. Folders are written under a temporary name and renamed,
so a half-written version is never visible.

This module knows nothing of Django or of any cloud: it can be used from a notebook.
"""

from __future__ import annotations

import abc
import errno
import hashlib
import importlib
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

FORMAT_VERSION = 1
METADATA_FILE = "metadata.json"

# kind -> module that registers it; imported lazily so that loading a TF-IDF model does
# not pull torch into the process.
KIND_MODULES = {
    "tfidf": "classifier.baseline",
    "transformer": "classifier.transformer",
    "onnx": "classifier.onnx_model",
}
_KINDS: dict[str, type[Classifier]] = {}

_TRACKED_LIBRARIES = (
    "torch",
    "transformers",
    "tokenizers",
    "scikit-learn",
    "numpy",
    "onnx",
    "onnxruntime",
)


class ArtifactWriteError(OSError):
    """A model version could not be written: the disk is full or the folder not writable.

    Raised instead of the bare OSError so commands, the admin and tasks can say which
    folder and why (and leave no half-written version behind)."""


# Faults of the storage, not of the code: no space, no quota, no permission, read-only.
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}


def _storage_error(exc: OSError, folder: Path) -> OSError:
    if exc.errno not in _STORAGE_ERRNOS:
        return exc
    return ArtifactWriteError(
        exc.errno,
        f"cannot write the model version under {folder}: {exc.strerror or exc}. "
        "Free space or fix the folder's permissions (CLEANINBOX_MODEL_DIR), then retry.",
    )


class UnusableModel(Exception):
    """The artifact is missing, corrupt or incompatible; callers keep emails pending."""


@dataclass(frozen=True)
class Prediction:
    """One text's answer: the top label, its probability and the top-k alternatives.

    ``energy`` is ``-T·logsumexp(logits / T)``: high when no intent's score stands out, the
    out-of-scope signal classifier.routing uses.
    """

    label: str
    confidence: float
    top_k: list[tuple[str, float]]
    energy: float | None = None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def energy(scaled_logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """``-T·logsumexp(z)`` per row of temperature-scaled logits ``z`` (Liu et al., 2020)."""
    top = scaled_logits.max(axis=1)
    lse = top + np.log(np.exp(scaled_logits - top[:, None]).sum(axis=1))
    return -temperature * lse


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class Classifier(abc.ABC):
    """A loaded model version. Subclasses register a ``kind`` and implement ``logits``."""

    kind: ClassVar[str]

    def __init__(self, path: Path, metadata: dict[str, Any]) -> None:
        self.path = Path(path)
        self.metadata = metadata

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "kind", None):
            _KINDS[cls.kind] = cls

    @property
    def labels(self) -> list[str]:
        return list(self.metadata["labels"])

    @property
    def version(self) -> str:
        return str(self.metadata["version"])

    @property
    def temperature(self) -> float:
        return float(self.metadata.get("temperature") or 1.0)

    @property
    def threshold(self) -> float | None:
        value = self.metadata.get("threshold")
        return None if value is None else float(value)

    @classmethod
    @abc.abstractmethod
    def _load(cls, path: Path, metadata: dict[str, Any]) -> Classifier:
        """Read the kind's own files from ``path``; raise on anything unreadable."""

    @abc.abstractmethod
    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Uncalibrated scores, shape (len(texts), len(labels))."""

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities: softmax of the logits divided by the temperature."""
        if not texts:
            return np.zeros((0, len(self.labels)))
        return softmax(np.asarray(self.logits(texts), dtype=np.float64) / self.temperature)

    def predict(self, texts: Sequence[str], k: int = 3) -> list[Prediction]:
        """The top label, the top-k alternatives and the energy score for each text."""
        if not texts:
            return []
        scaled = np.asarray(self.logits(texts), dtype=np.float64) / self.temperature
        probs = softmax(scaled)
        energies = energy(scaled, self.temperature)
        labels = self.labels
        out = []
        for row, row_energy in zip(probs, energies, strict=True):
            order = np.argsort(-row)[:k]
            top = [(labels[i], float(row[i])) for i in order]
            out.append(
                Prediction(
                    label=top[0][0], confidence=top[0][1], top_k=top, energy=float(row_energy)
                )
            )
        return out


def library_versions() -> dict[str, str]:
    versions = {}
    for name in _TRACKED_LIBRARIES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return versions


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def write_artifact(
    dest: Path, metadata: dict[str, Any], write_files: Callable[[Path], None]
) -> Path:
    """Write a model version to ``dest`` atomically and return ``dest``.

    ``write_files(tmp)`` writes the kind's own files; this adds ``metadata.json`` with the
    checksums of every file, then renames the temporary folder into place.
    """
    dest = Path(dest)
    if dest.exists():
        raise FileExistsError(f"model version folder already exists: {dest}")
    for key in ("version", "kind", "labels"):
        if key not in metadata:
            raise ValueError(f"artifact metadata needs {key!r}")
    tmp = dest.parent / f".tmp-{dest.name}-{uuid.uuid4().hex[:8]}"
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
    except OSError as exc:
        raise _storage_error(exc, dest.parent) from exc
    try:
        write_files(tmp)
        meta = {
            "temperature": 1.0,
            "threshold": None,
            "metrics": {},
            **metadata,
            "format_version": FORMAT_VERSION,
            "created_at": metadata.get("created_at") or datetime.now(UTC).isoformat(),
            "libraries": library_versions(),
            "git_commit": metadata.get("git_commit") or git_commit(),
        }
        meta["files"] = {
            str(p.relative_to(tmp)): sha256_file(p)
            for p in sorted(tmp.rglob("*"))
            if p.is_file() and p.name != METADATA_FILE
        }
        _write_json_atomic(tmp / METADATA_FILE, meta)
        tmp.rename(dest)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _storage_error(exc, dest.parent) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def update_metadata(path: Path, **changes: Any) -> dict[str, Any]:
    """Merge ``changes`` into a version's metadata (e.g. test metrics after evaluation)."""
    meta = read_metadata(path)
    meta.update(changes)
    try:
        _write_json_atomic(Path(path) / METADATA_FILE, meta)
    except OSError as exc:
        raise _storage_error(exc, Path(path)) from exc
    return meta


def _write_json_atomic(target: Path, data: dict[str, Any]) -> None:
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk must not keep the partial file
        raise


def read_metadata(path: Path) -> dict[str, Any]:
    """The version's metadata, or ``UnusableModel`` saying what is wrong with it."""
    meta_path = Path(path) / METADATA_FILE
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UnusableModel(f"no model artifact at {path} (missing {METADATA_FILE})") from exc
    except (OSError, ValueError) as exc:
        raise UnusableModel(f"unreadable {meta_path}: {exc}") from exc
    if not isinstance(meta, dict):
        raise UnusableModel(f"{meta_path} does not hold an object")
    if meta.get("format_version") != FORMAT_VERSION:
        raise UnusableModel(
            f"artifact format {meta.get('format_version')!r} at {path}; "
            f"this code reads format {FORMAT_VERSION}"
        )
    labels = meta.get("labels")
    if not isinstance(labels, list) or len(set(labels)) != len(labels) or not labels:
        raise UnusableModel(f"artifact at {path} has no valid label list")
    return meta


def verify_checksums(path: Path, metadata: dict[str, Any] | None = None) -> None:
    """Raise ``UnusableModel`` when a recorded file is missing or its sha256 differs."""
    path = Path(path)
    meta = metadata if metadata is not None else read_metadata(path)
    files = meta.get("files") or {}
    if not files:
        raise UnusableModel(f"artifact at {path} records no files")
    for name, expected in files.items():
        file_path = path / name
        if not file_path.is_file():
            raise UnusableModel(f"artifact at {path} is missing {name}")
        if sha256_file(file_path) != expected:
            raise UnusableModel(f"checksum mismatch for {name} in {path}")


def load(
    path: Path,
    *,
    expected_labels: Sequence[str] | None = None,
    verify: bool = True,
) -> Classifier:
    """Load a model version, or raise ``UnusableModel``; never returns a half-usable model."""
    path = Path(path)
    meta = read_metadata(path)
    if expected_labels is not None and list(expected_labels) != meta["labels"]:
        raise UnusableModel(
            f"artifact at {path} has {len(meta['labels'])} labels in its own order; "
            f"expected the {len(expected_labels)} configured intents"
        )
    if verify:
        verify_checksums(path, meta)
    kind = meta.get("kind")
    module = KIND_MODULES.get(kind)
    if module is None:
        raise UnusableModel(f"unknown model kind {kind!r} at {path}")
    importlib.import_module(module)
    try:
        model = _KINDS[kind]._load(path, meta)
    except UnusableModel:
        raise
    except Exception as exc:  # any loader failure means the artifact cannot serve
        raise UnusableModel(f"cannot load {kind} model at {path}: {exc}") from exc
    n_labels = np.asarray(model.logits(["probe"])).shape[1]
    if n_labels != len(meta["labels"]):
        raise UnusableModel(
            f"model at {path} outputs {n_labels} scores for {len(meta['labels'])} labels"
        )
    return model
