"""Distil a teacher (mlops.teacher: an ensemble of trained versions) into a student.

The student is an ordinary transformer version: the same artifact (encoder folder, head,
checksums, calibrated temperature, routing threshold), so ``export_model`` (ONNX, int8),
``promote_model`` and the workers take it as they take any other. Two shapes:

- the 6-layer MiniLM that serves today, trained on the teacher's soft targets;
- a TinyBERT-sized student (``student_layers: "0,2,4,5"`` or ``"1,3,5"``) cut from
  MiniLM's own layers before training (TinyBERT's task-specific distillation, soft targets
  only), so a TinyBERT-shaped model exists where the TinyBERT checkpoint cannot be had.

The recipe is the default one (LP-FT, the same schedule and early stopping on validation)
with the step loss replaced by Hinton et al.'s

    kd_alpha * T^2 * KL(teacher_T || student_T) + (1 - kd_alpha) * CE(label, smoothed)

where ``_T`` means softened by ``kd_temperature``. An extra example (an agent's correction)
whose label the teacher disagrees with learns from its label only: the agent is the later
and better-informed judge.

No Django here: ``train_model --teacher`` and the benchmark call ``distill``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from classifier.artifact import METADATA_FILE, read_metadata
from classifier.transformer import (
    HEAD_FILE,
    PooledClassifier,
    load_base,
    resolve_base_model,
    tokenize,
)
from mlops import augment, data, teacher
from mlops.config import ExperimentConfig
from mlops.training import (
    Refit,
    _new_version,
    _tracking,
    autocast,
    clean_extra_examples,
    fine_tune,
    finish,
    fit_linear_probe,
    seed_everything,
    torch_threads,
)

logger = logging.getLogger(__name__)

DEFAULT_CACHE_DIR = Path("var") / "teacher-cache"


def select_layers(model: PooledClassifier, layers: Sequence[int]) -> PooledClassifier:
    """Keep only encoder ``layers`` (in the order given) of a BERT-style encoder, in place.

    Embeddings, pooling and head stay; the config's layer count follows, so the saved
    folder loads as an ordinary smaller model.
    """
    blocks = model.encoder.encoder.layer
    if not layers or any(not 0 <= i < len(blocks) for i in layers):
        raise ValueError(f"layers {list(layers)} do not fit an encoder of {len(blocks)} layers")
    kept = torch.nn.ModuleList([blocks[i] for i in layers])
    for new_index, block in enumerate(kept):
        attention = getattr(block.attention, "self", None)
        if attention is not None and hasattr(attention, "layer_idx"):
            attention.layer_idx = new_index
    model.encoder.encoder.layer = kept
    model.encoder.config.num_hidden_layers = len(kept)
    return model


def load_student(
    config: ExperimentConfig, labels: Sequence[str]
) -> tuple[object, PooledClassifier]:
    """Tokenizer and student: ``config.base_model`` (a pretrained encoder or a trained
    version folder, whose head is kept when its labels match) cut to ``config.layers()``."""
    tokenizer, model = load_base(config.base_model, len(labels), config.pooling, config.dropout)
    folder = Path(resolve_base_model(config.base_model))
    trained = (folder / METADATA_FILE).is_file() and (folder / HEAD_FILE).is_file()
    if trained and read_metadata(folder).get("labels") == list(labels):
        model.head.load_state_dict(load_file(str(folder / HEAD_FILE)))
    layers = config.layers()
    if layers is not None:
        select_layers(model, layers)
    return tokenizer, model


def augmented_queries(config: ExperimentConfig, texts: Sequence[str]) -> list[str]:
    """``config.kd_augment`` perturbed copies of each text (mlops.augment), with word
    neighbours from the word embeddings of ``config.base_model``; the same copies for every
    student seed, and for any student of the same base vocabulary and embeddings."""
    tokenizer, model = load_base(config.base_model, 2, config.pooling, config.dropout)
    embeddings = model.encoder.get_input_embeddings().weight.detach().float().numpy()
    table = augment.neighbour_table(texts, tokenizer.get_vocab(), embeddings)
    copies, _ = augment.augment(texts, config.kd_augment, table, seed=config.kd_augment_seed)
    logger.info(
        "augmentation: %d perturbed copies of %d queries (%d words with neighbours)",
        len(copies), len(texts), len(table),
    )  # fmt: skip
    return copies


def hidden_loss(
    student: Sequence[torch.Tensor],
    source: Sequence[torch.Tensor],
    layers: Sequence[int],
    mask: torch.Tensor,
) -> torch.Tensor:
    """TinyBERT's intermediate-layer loss: the mean squared error, over real tokens, between
    the student's layer ``k`` output (``student[k + 1]``; index 0 is the embeddings) and the
    output of the source layer it was cut from (``source[layers[k] + 1]``)."""
    weight = mask.unsqueeze(-1).float()
    denominator = weight.sum() * student[0].shape[-1]
    terms = [
        (((student[k + 1].float() - source[layer + 1].float()) ** 2) * weight).sum() / denominator
        for k, layer in enumerate(layers)
    ]
    return torch.stack(terms).mean()


def kd_loss(
    student_logits: torch.Tensor,
    teacher_logp: torch.Tensor,
    targets: torch.Tensor,
    alpha: float,
    temperature: float,
    label_smoothing: float = 0.0,
    kd_weight: torch.Tensor | None = None,
    hard_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Soft-target KL (scaled by T², Hinton et al.) mixed with hard-label cross-entropy.

    ``teacher_logp`` are log-probabilities (or logits); ``kd_weight`` (0/1 per row) turns
    the soft term off for rows whose teacher should not be followed, ``hard_weight`` the
    hard term for rows without a label of their own (augmented copies).
    """
    student_logits = student_logits.float()
    soft_student = torch.log_softmax(student_logits / temperature, dim=1)
    soft_teacher = torch.log_softmax(teacher_logp.float() / temperature, dim=1)
    kl = (soft_teacher.exp() * (soft_teacher - soft_student)).sum(dim=1)
    if kd_weight is None:
        kd_weight = torch.ones_like(kl)
    soft = (kl * kd_weight).sum() / kd_weight.sum().clamp(min=1.0) * temperature**2
    ce = torch.nn.functional.cross_entropy(
        student_logits, targets, label_smoothing=label_smoothing, reduction="none"
    )
    if hard_weight is None:
        hard_weight = torch.ones_like(ce)
    hard = (ce * hard_weight).sum() / hard_weight.sum().clamp(min=1.0)
    return alpha * soft + (1 - alpha) * hard


def distill(
    config: ExperimentConfig,
    teacher_members: Sequence[Path],
    data_dir: Path,
    model_dir: Path,
    extra_examples: Iterable[tuple[str, str]] = (),
    progress: bool = True,
    cache_dir: Path | None = None,
    refresh_teacher: bool = False,
    refit: Refit | None = None,
) -> Path:
    """Train a student of ``config`` on the soft targets of the ensemble of
    ``teacher_members`` (trained version folders) and write it as a new version folder
    under ``model_dir``; returns its path. Teacher outputs come from ``cache_dir`` when
    present (``refresh_teacher`` recomputes them). With ``refit`` the validation split is
    learnt too, like the train split (mlops.training.Refit)."""
    started = time.monotonic()
    data_dir, model_dir = Path(data_dir), Path(model_dir)
    cache_dir = Path(cache_dir or DEFAULT_CACHE_DIR)
    refit_members = [Path(m).name for m in teacher_members if read_metadata(Path(m)).get("refit")]
    if refit_members and refit is None:
        raise ValueError(
            f"teacher member(s) {', '.join(refit_members)} learnt the validation split (refits): "
            "a student scored on validation would be scored on what its teacher learnt; "
            "distil from held-out members and refit the student (--refit) instead"
        )
    labels = data.load_labels(data_dir)
    texts, y_names = data.load_split(data_dir, "train")
    val_texts, val_names = data.load_split(data_dir, "validation")
    test_texts, _ = data.load_split(data_dir, "test")
    extra, extra_stats = clean_extra_examples(extra_examples, labels, test_texts)
    index = {name: i for i, name in enumerate(labels)}
    if refit is not None:
        texts, y_names = texts + val_texts, y_names + val_names
    with torch_threads(config.num_threads):
        augmented = augmented_queries(config, texts) if config.kd_augment else []
        outputs = teacher.ensemble(
            teacher_members, data_dir, cache_dir, [t for t, _ in extra], refresh_teacher,
            augmented_texts=augmented,
        )  # fmt: skip
    n_base = len(texts)
    texts += [text for text, _ in extra]
    y_names += [label for _, label in extra]
    n_labelled = len(texts)
    texts += augmented
    # Augmented copies have no label of their own: the teacher's top intent stands in
    # (unused, their hard-label weight is 0).
    y = np.concatenate(
        [[index[name] for name in y_names], outputs.augmented.argmax(axis=1)]
    ).astype(np.int64)
    val_y = np.array([index[name] for name in val_names])
    learnt = [outputs.train, outputs.validation] if refit else [outputs.train]
    teacher_logp = torch.from_numpy(np.concatenate([*learnt, outputs.extra, outputs.augmented]))
    # Follow the teacher everywhere except on extra examples it labels otherwise.
    kd_weight = torch.ones(len(texts))
    if extra:
        disagrees = outputs.extra.argmax(axis=1) != y[n_base:n_labelled]
        kd_weight[n_base:n_labelled][torch.from_numpy(disagrees)] = 0.0
    hard_weight = torch.ones(len(texts))
    hard_weight[n_labelled:] = 0.0
    teacher_val_accuracy = None  # not held out when a member learnt validation
    if not refit_members:
        teacher_val_accuracy = float((outputs.validation.argmax(axis=1) == val_y).mean())
        logger.info(
            "teacher of %d member(s): validation accuracy %.4f (%d cached split(s) reused)",
            len(outputs.members), teacher_val_accuracy, outputs.cache_hits,
        )  # fmt: skip
    version = _new_version(config.name, model_dir)
    targets = torch.from_numpy(y).long()

    source, kept_layers = None, config.layers()
    if config.kd_hidden > 0:
        if kept_layers is None:
            raise ValueError("kd_hidden needs student_layers: a student cut from base_model")
        _, source = load_base(config.base_model, len(labels), config.pooling, config.dropout)
        source.eval().requires_grad_(False)

    def step_loss(model, input_ids, mask, rows) -> torch.Tensor:
        hidden_term = 0.0
        with autocast(config.bf16):
            if source is None:
                logits = model(input_ids, mask)
            else:
                logits, hidden = model.forward_with_hidden(input_ids, mask)
                with torch.no_grad():
                    _, target = source.forward_with_hidden(input_ids, mask)
                hidden_term = config.kd_hidden * hidden_loss(hidden, target, kept_layers, mask)
        return hidden_term + kd_loss(
            logits, teacher_logp[rows], targets[rows], config.kd_alpha,
            config.kd_temperature, config.label_smoothing, kd_weight[rows], hard_weight[rows],
        )  # fmt: skip

    with torch_threads(config.num_threads), _tracking(config, version) as run:
        seed_everything(config.seed)
        tokenizer, model = load_student(config, labels)
        if config.freeze_word_embeddings:
            model.encoder.get_input_embeddings().weight.requires_grad_(False)
        pad_id = tokenizer.pad_token_id
        train_ids = tokenize(tokenizer, texts, config.max_length)
        val_ids = tokenize(tokenizer, val_texts, config.max_length)
        scored = (val_ids, val_y) if refit is None else (None, None)
        probe = {}
        if config.linear_probe:
            probe = fit_linear_probe(
                model, train_ids[:n_labelled], y[:n_labelled], pad_id, config, progress, *scored
            )
        history = fine_tune(
            model, train_ids, y, *scored, pad_id, config, run, progress, step_loss,
            stop_after=refit.epochs if refit else None,
        )  # fmt: skip
        path, metadata = finish(
            model, tokenizer, config, version, model_dir, data_dir, labels, val_ids, val_y,
            history, run, started,
            {
                "training_examples": n_labelled,
                "extra_examples": extra_stats,
                "linear_probe": probe,
                "distillation": {
                    "teacher": outputs.describe(),
                    "teacher_val_accuracy": teacher_val_accuracy,
                    "teacher_cache_hits": outputs.cache_hits,
                    "layers": config.layers(),
                    "encoder_layers": model.encoder.config.num_hidden_layers,
                    "parameters": sum(p.numel() for p in model.parameters()),
                    "kd_alpha": config.kd_alpha,
                    "kd_temperature": config.kd_temperature,
                    "augmented_examples": len(augmented),
                    "kd_hidden": config.kd_hidden,
                    "kd_augment_seed": config.kd_augment_seed,
                    "extra_examples_without_soft_targets": int((kd_weight == 0).sum()),
                },
            },
            refit=refit,
        )  # fmt: skip
    logger.info(
        "student distilled",
        extra={
            "model_version": version,
            "val_accuracy": metadata["metrics"]["validation"].get("accuracy"),
            "refit_of": refit.source if refit else None,
            "teacher_val_accuracy": teacher_val_accuracy,
            "seconds": metadata["training_seconds"],
        },
    )
    return path
