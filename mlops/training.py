"""Fine-tune the transformer on BANKING77 and write it as a model version.

The recipe (LP-FT), chosen on the validation split:

1. Linear probe: the frozen encoder's pooled features of the train split, a logistic
   regression on them, and its weights copied into the linear head. Fine-tuning then
   starts from a good head, so the first updates do not wreck the pretrained features
   (Kumar et al., 2022, "Fine-Tuning can Distort Pretrained Features").
2. Fine-tune everything at a low learning rate (head a little higher), AdamW, linear
   warm-up then cosine decay, label smoothing, batches of similar-length queries padded
   only to their longest member, validation macro-F1 after every epoch, best epoch kept,
   early stopping.
3. Temperature scaling on validation, evaluation on validation (metrics + recommended
   threshold), and an atomic artifact write.

A refit (``Refit``, ``train_model --refit VERSION``) is the final fit of a recipe chosen that
way: the same config and seed trained again on train + validation, for the epochs the
held-out run kept, with that run's calibration, measured on queries it had not learnt.

Seeded end to end (Python, NumPy and torch RNGs, batch order), so the same config and data
give the same model. The test split is read only to drop agents' corrections that
duplicate a test query, which would leak test labels into training.
No Django here: the ``train_model`` command and the Celery task both call ``train``.
"""

from __future__ import annotations

import os

# Idle OpenMP threads sleep instead of spinning. With spinning (the default) two torch
# threads on a machine where other processes also want the two cores made a training step
# 4-5x slower than one thread; asleep they only lose the cores they cannot get. libgomp
# reads this when torch is first imported, hence before the imports below.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import functools  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterable, Iterator, Sequence  # noqa: E402
from contextlib import contextmanager, nullcontext  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from tqdm import tqdm  # noqa: E402

from classifier.artifact import energy, read_metadata, write_artifact  # noqa: E402
from classifier.transformer import (  # noqa: E402
    PooledClassifier,
    TransformerClassifier,
    batched_logits,
    load_base,
    pad_batch,
    save_model,
    tokenize,
)
from mlops import data  # noqa: E402
from mlops.config import ExperimentConfig, apply_overrides, from_dict  # noqa: E402
from mlops.evaluation import evaluate, fit_temperature, softmax  # noqa: E402
from mlops.thresholds import RULE, energy_limit  # noqa: E402

logger = logging.getLogger(__name__)

# Queries are shuffled, cut into pools of this many batches, sorted by length within a
# pool and batched: padding shrinks to almost nothing while batches stay well mixed.
_POOL_BATCHES = 50
_LOG_EVERY_STEPS = 20

# (model, input_ids, attention_mask, batch row indices) -> scalar loss for one step.
LossFn = Callable[[PooledClassifier, torch.Tensor, torch.Tensor, np.ndarray], torch.Tensor]


@dataclass(frozen=True)
class EpochResult:
    """One epoch's mean training loss and validation scores (None in a refit)."""

    epoch: int
    train_loss: float
    val_accuracy: float | None
    val_macro_f1: float | None
    seconds: float


CALIBRATION_KEYS = ("temperature", "threshold", "threshold_rule", "energy_limit")


@dataclass(frozen=True)
class Refit:
    """Train a version again on train + validation: scikit-learn's ``refit`` for a recipe
    chosen on validation, so the served model has learnt every labelled query.

    ``source`` is the version trained with validation held out, on the same config and
    seed. Its best epoch says how long to train (on the same schedule), and its calibration
    (temperature, routing threshold, energy limit) is kept: those were measured on
    queries the source had not learnt, and no split is left to measure the refit on. Its
    validation figures are carried over, marked as the source's.
    """

    source: str
    epochs: int
    calibration: dict[str, Any]
    validation: dict[str, Any]
    config: dict[str, Any]

    @classmethod
    def of(cls, path: Path) -> Refit:
        """The refit of the trained version folder ``path``; ``ValueError`` if it has no
        held-out validation run to refit (a soup, a refit, another kind of model)."""
        meta = read_metadata(path)
        if meta.get("kind") != TransformerClassifier.kind:
            raise ValueError(f"{path.name} is not a transformer version: nothing to refit")
        if meta.get("refit"):
            raise ValueError(f"{path.name} is already a refit (of {meta['refit']['of']})")
        if not meta.get("best_epoch"):
            raise ValueError(f"{path.name} was not trained (a soup?): no best epoch to refit for")
        missing = [k for k in CALIBRATION_KEYS if k not in meta]
        if missing:
            raise ValueError(f"{path.name} lacks {', '.join(missing)}: not a calibrated version")
        return cls(
            source=meta["version"],
            epochs=int(meta["best_epoch"]),
            calibration={k: meta[k] for k in CALIBRATION_KEYS},
            validation=dict(meta.get("metrics", {}).get("validation") or {}),
            config=dict(meta["config"]),
        )

    def experiment(self, overrides: Iterable[str] = ()) -> ExperimentConfig:
        """The source's config (its seed included) with ``key=value`` overrides applied."""
        return apply_overrides(from_dict(self.config), overrides)

    def describe(self) -> dict[str, Any]:
        """What the refit's metadata records (``refit``)."""
        return {
            "of": self.source,
            "epochs": self.epochs,
            "note": "trained on train + validation; validation figures and calibration "
            "are the source's, measured with validation held out",
        }


def train(
    config: ExperimentConfig,
    data_dir: Path,
    model_dir: Path,
    extra_examples: Iterable[tuple[str, str]] = (),
    progress: bool = True,
    refit: Refit | None = None,
) -> Path:
    """Fine-tune ``config.base_model`` on the prepared data in ``data_dir`` and write a new
    version folder under ``model_dir``; returns its path.

    ``extra_examples`` are (text, label) pairs, e.g. agents' corrections, added to the train
    split after dropping any whose normalised text appears in the test split. With
    ``refit`` the validation split is trained on too (see ``Refit``).
    """
    started = time.monotonic()
    data_dir, model_dir = Path(data_dir), Path(model_dir)
    labels = data.load_labels(data_dir)
    texts, y_names = data.load_split(data_dir, "train")
    val_texts, val_names = data.load_split(data_dir, "validation")
    test_texts, _ = data.load_split(data_dir, "test")
    extra, extra_stats = clean_extra_examples(extra_examples, labels, test_texts)
    if refit is not None:
        texts, y_names = texts + val_texts, y_names + val_names
    texts += [text for text, _ in extra]
    y_names += [label for _, label in extra]
    index = {name: i for i, name in enumerate(labels)}
    y = np.array([index[name] for name in y_names])
    val_y = np.array([index[name] for name in val_names])
    version = _new_version(config.name, model_dir)

    with torch_threads(config.num_threads), _tracking(config, version) as run:
        seed_everything(config.seed)
        tokenizer, model = load_base(config.base_model, len(labels), config.pooling, config.dropout)
        if config.freeze_word_embeddings:
            model.encoder.get_input_embeddings().weight.requires_grad_(False)
        pad_id = tokenizer.pad_token_id
        train_ids = tokenize(tokenizer, texts, config.max_length)
        val_ids = tokenize(tokenizer, val_texts, config.max_length)
        scored = (val_ids, val_y) if refit is None else (None, None)
        probe = {}
        if config.linear_probe:
            probe = fit_linear_probe(model, train_ids, y, pad_id, config, progress, *scored)
        history = fine_tune(
            model, train_ids, y, *scored, pad_id, config, run, progress,
            stop_after=refit.epochs if refit else None,
        )  # fmt: skip
        path, metadata = finish(
            model, tokenizer, config, version, model_dir, data_dir, labels, val_ids, val_y,
            history, run, started,
            {"training_examples": len(texts), "extra_examples": extra_stats, "linear_probe": probe},
            refit=refit,
        )  # fmt: skip
    logger.info(
        "transformer trained",
        extra={
            "model_version": version,
            "val_accuracy": metadata["metrics"]["validation"].get("accuracy"),
            "refit_of": refit.source if refit else None,
            "seconds": metadata["training_seconds"],
        },
    )
    return path


def finish(
    model, tokenizer, config: ExperimentConfig, version: str, model_dir: Path, data_dir: Path,
    labels: Sequence[str], val_ids, val_y: np.ndarray, history: Sequence[EpochResult], run,
    started: float, extra_metadata: dict[str, Any], refit: Refit | None = None,
) -> tuple[Path, dict[str, Any]]:  # fmt: skip
    """After fine-tuning (plain or distilled) or averaging (mlops.soup): temperature scaling
    and evaluation on validation (a refit takes its source's instead), the metadata
    (``extra_metadata`` added before the time taken), the atomic artifact write and the
    wandb summary; (path, metadata)."""
    if refit is None:
        val_logits = batched_logits(model, val_ids, tokenizer.pad_token_id, config.eval_batch_size)
        temperature = fit_temperature(val_logits, val_y)
        headline = evaluate(labels, val_y, softmax(val_logits, temperature)).headline()
        calibration = {
            "temperature": temperature,
            "threshold": headline["threshold"],
            "threshold_rule": RULE,
            "energy_limit": energy_limit(energy(val_logits / temperature, temperature)),
        }
        best = max(history, key=lambda r: r.val_macro_f1) if history else None
        best_epoch = best.epoch if best else None  # None: no training (a soup)
    else:
        calibration, headline = dict(refit.calibration), dict(refit.validation)
        best_epoch = history[-1].epoch if history else None
        extra_metadata = {**extra_metadata, "refit": refit.describe()}
    metadata = {
        "version": version,
        "kind": TransformerClassifier.kind,
        "labels": list(labels),
        **calibration,
        "metrics": {"validation": headline},
        "config": config.to_dict(),
        "base_model": config.base_model,
        "transformer": {"pooling": config.pooling, "max_length": config.max_length},
        "data_manifest_sha256": _manifest_sha256(data_dir),
        **extra_metadata,
        "best_epoch": best_epoch,
        "history": [vars(r) for r in history],
        "training_seconds": round(time.monotonic() - started, 1),
    }
    path = write_artifact(
        model_dir / version, metadata, lambda tmp: save_model(model, tokenizer, tmp)
    )
    if run is not None:
        run.summary.update(
            {f"val/{k}": v for k, v in headline.items() if isinstance(v, int | float)}
            | {"temperature": calibration["temperature"],
               "training_seconds": metadata["training_seconds"]}
        )  # fmt: skip
    return path, metadata


def clean_extra_examples(
    examples: Iterable[tuple[str, str]], labels: Sequence[str], test_texts: Sequence[str]
) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """Usable extra (text, label) pairs and counts of what was dropped and why.

    An unknown label is an error (corrections are made against the same intent list); a
    text whose normalised form is a test query is dropped, so test scores stay honest.
    """
    known = set(labels)
    test = {normalise(text) for text in test_texts}
    kept, blank, in_test = [], 0, 0
    for text, label in examples:
        if label not in known:
            raise ValueError(f"extra example labelled {label!r}, which is not a known intent")
        if not normalise(text):
            blank += 1
        elif normalise(text) in test:
            in_test += 1
        else:
            kept.append((text, label))
    return kept, {"used": len(kept), "dropped_in_test": in_test, "dropped_blank": blank}


def normalise(text: str) -> str:
    """Case- and whitespace-insensitive form used to match texts across splits."""
    return " ".join(text.casefold().split())


def seed_everything(seed: int) -> None:
    """Seed every RNG training touches."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run with ``n`` torch threads, then restore the caller's setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def autocast(enabled: bool) -> Any:
    """bfloat16 autocast for training passes (weights and optimizer state stay float32).

    Only on CPUs with native bf16 (AVX512-BF16/AMX): elsewhere it is emulated and slower
    than float32, so the config's ``bf16: true`` quietly means float32 there.
    """
    return (
        torch.autocast("cpu", dtype=torch.bfloat16) if enabled and bf16_native() else nullcontext()
    )


def bf16_native() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


# --- stages -----------------------------------------------------------------------------


@torch.inference_mode()
def pooled_features(
    model: PooledClassifier,
    token_ids: Sequence[Sequence[int]],
    pad_id: int,
    batch_size: int,
    progress: bool = False,
    bf16: bool = False,
) -> np.ndarray:
    """The frozen encoder's pooled vector of every sequence, in input order."""
    model.eval()
    out = np.zeros((len(token_ids), model.head.in_features), dtype=np.float32)
    order = np.argsort([len(ids) for ids in token_ids], kind="stable")
    starts = range(0, len(order), batch_size)
    for start in tqdm(starts, desc="linear probe features", disable=not progress, leave=False):
        rows = order[start : start + batch_size]
        input_ids, mask = pad_batch([token_ids[i] for i in rows], pad_id)
        with autocast(bf16):
            out[rows] = model.pool(input_ids, mask).float().numpy()
    return out


def fit_linear_probe(
    model: PooledClassifier,
    token_ids: Sequence[Sequence[int]],
    y: np.ndarray,
    pad_id: int,
    config: ExperimentConfig,
    progress: bool = True,
    val_ids: Sequence[Sequence[int]] | None = None,
    val_y: np.ndarray | None = None,
) -> dict[str, float]:
    """Fit a logistic regression on frozen pooled features and copy it into the head.

    Returns the probe's own validation scores: the frozen-encoder baseline that
    fine-tuning has to beat.
    """
    # Same precision as fine-tuning will see, so the head starts where training starts.
    features = pooled_features(
        model, token_ids, pad_id, config.eval_batch_size, progress, config.bf16
    )
    probe = LogisticRegression(C=config.linear_probe_c, max_iter=3000, random_state=config.seed)
    probe.fit(features, y)
    weight = np.zeros((model.head.out_features, features.shape[1]), dtype=np.float32)
    # sklearn orders rows by the classes it saw; an intent missing from a tiny train set
    # starts as unlikely as the least likely seen one (a huge negative bias would blow up
    # the label-smoothing term of the loss).
    bias = np.full(model.head.out_features, probe.intercept_.min(), dtype=np.float32)
    weight[probe.classes_] = probe.coef_
    bias[probe.classes_] = probe.intercept_
    with torch.no_grad():
        model.head.weight.copy_(torch.from_numpy(weight))
        model.head.bias.copy_(torch.from_numpy(bias))
    if val_y is None or val_ids is None or not len(val_ids):
        return {}  # nothing held out to score it on (a refit)
    val_features = pooled_features(model, val_ids, pad_id, config.eval_batch_size, bf16=config.bf16)
    predicted = probe.predict(val_features)
    scores = {
        "val_accuracy": float((predicted == val_y).mean()),
        "val_macro_f1": float(f1_score(val_y, predicted, average="macro")),
    }
    logger.info("linear probe: validation accuracy %.4f", scores["val_accuracy"])
    return scores


def fine_tune(
    model: PooledClassifier,
    train_ids: Sequence[Sequence[int]],
    y: np.ndarray,
    val_ids: Sequence[Sequence[int]] | None,
    val_y: np.ndarray | None,
    pad_id: int,
    config: ExperimentConfig,
    run: Any = None,
    progress: bool = True,
    compute_loss: LossFn | None = None,
    stop_after: int | None = None,
) -> list[EpochResult]:
    """Train every unfrozen weight; leaves ``model`` at its best validation epoch (with
    ``ema_decay``, the average of its weights at that epoch).

    ``compute_loss(model, input_ids, mask, rows)`` replaces the default step loss (one
    forward pass, cross-entropy with label smoothing), e.g. with mlops.distill's
    soft-target loss; ``rows`` are the batch's indices into ``train_ids``. Without
    ``val_ids`` (a refit) nothing is scored: the schedule is the config's and training
    stops after ``stop_after`` epochs.
    """
    if val_ids is None and not stop_after:
        raise ValueError("training without validation needs stop_after: the epochs to train")
    rng = np.random.default_rng(config.seed)
    steps_per_epoch = math.ceil(len(train_ids) / config.batch_size)
    total = steps_per_epoch * config.epochs
    optimizer = torch.optim.AdamW(_param_groups(model, config))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(config, total))
    targets = torch.from_numpy(y).long()

    def step_loss(input_ids: torch.Tensor, mask: torch.Tensor, rows: np.ndarray) -> torch.Tensor:
        if compute_loss is not None:
            return compute_loss(model, input_ids, mask, rows)
        if config.rdrop_alpha > 0:
            return rdrop_loss(model, input_ids, mask, targets[rows], config)
        with autocast(config.bf16):
            logits = model(input_ids, mask)
        return torch.nn.functional.cross_entropy(
            logits.float(), targets[rows], label_smoothing=config.label_smoothing
        )

    history: list[EpochResult] = []
    best_state, best_f1, stale = None, -1.0, 0
    # Weights averaged along the run (EMA): scored, kept and returned in place of the last.
    ema = None
    if config.ema_decay > 0:
        # The average spans at most half the run (1 / (1 - decay) steps), so a short run on a
        # small data folder is not left near its start; full BANKING77 runs keep the decay.
        decay = min(config.ema_decay, 1 - 2 / max(total, 4))
        if decay < config.ema_decay:
            logger.info(
                "ema_decay %.6f -> %.4f for a run of %d steps", config.ema_decay, decay, total
            )
        average = torch.optim.swa_utils.get_ema_multi_avg_fn(decay)
        ema = torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=average)
        ema.update_parameters(model)  # the first call copies: the average starts at the start
    scored = model if ema is None else ema.module
    bar = tqdm(total=total, desc="fine-tune", unit="step", disable=not progress)
    step = 0
    for epoch in range(1, min(config.epochs, stop_after or config.epochs) + 1):
        model.train()
        epoch_start, losses = time.monotonic(), []
        for rows in length_bucketed_batches(
            [len(ids) for ids in train_ids], config.batch_size, rng
        ):
            input_ids, mask = pad_batch([train_ids[i] for i in rows], pad_id)
            optimizer.zero_grad(set_to_none=True)
            if config.adv_epsilon > 0:
                batch_loss = functools.partial(step_loss, input_ids, mask, rows)
                loss = adversarial_backward(model, batch_loss, config.adv_epsilon)
            else:
                loss = step_loss(input_ids, mask, rows)
                loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            if ema is not None:
                ema.update_parameters(model)
            step += 1
            losses.append(loss.item())
            bar.update(1)
            if step % _LOG_EVERY_STEPS == 0:
                bar.set_postfix(epoch=epoch, loss=f"{np.mean(losses[-_LOG_EVERY_STEPS:]):.3f}")
                if run is not None:
                    run.log(
                        {"train/loss": loss.item(), "train/lr": scheduler.get_last_lr()[0]},
                        step=step,
                    )
        if val_ids is None:
            history.append(EpochResult(epoch, float(np.mean(losses)), None, None,
                                       round(time.monotonic() - epoch_start, 1)))  # fmt: skip
            logger.info("epoch %d: loss %.4f (refit: not scored)", epoch, history[-1].train_loss)
            continue
        predicted = batched_logits(scored, val_ids, pad_id, config.eval_batch_size).argmax(axis=1)
        result = EpochResult(
            epoch=epoch,
            train_loss=float(np.mean(losses)),
            val_accuracy=float((predicted == val_y).mean()),
            val_macro_f1=float(f1_score(val_y, predicted, average="macro")),
            seconds=round(time.monotonic() - epoch_start, 1),
        )
        history.append(result)
        bar.set_postfix(epoch=epoch, val_f1=f"{result.val_macro_f1:.4f}")
        logger.info(
            "epoch %d: loss %.4f, validation accuracy %.4f, macro-F1 %.4f (%.0f s)",
            epoch, result.train_loss, result.val_accuracy, result.val_macro_f1, result.seconds,
            extra=vars(result),
        )  # fmt: skip
        if ema is not None:  # what the average buys: the same epoch's own weights, scored
            raw = batched_logits(model, val_ids, pad_id, config.eval_batch_size).argmax(axis=1)
            logger.info(
                "epoch %d without the average: validation accuracy %.4f, macro-F1 %.4f",
                epoch, (raw == val_y).mean(), f1_score(val_y, raw, average="macro"),
            )  # fmt: skip
        if run is not None:
            run.log({f"val/{k}": v for k, v in vars(result).items()}, step=step)
        if result.val_macro_f1 > best_f1:
            best_f1, stale = result.val_macro_f1, 0
            best_state = {k: v.detach().clone() for k, v in scored.state_dict().items()}
        else:
            stale += 1
            if stale >= config.early_stopping_patience:
                break
    bar.close()
    if best_state is None and ema is not None:
        best_state = ema.module.state_dict()  # a refit: nothing scored, the average is kept
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history


def adversarial_backward(
    model: PooledClassifier, loss: Callable[[], torch.Tensor], epsilon: float
) -> torch.Tensor:
    """Backpropagate ``loss()`` and its adversarial twin (FGM, Miyato et al. 2017).

    The batch goes through the model once, the gradient of its loss with respect to the
    word embeddings gives each example the direction that hurts most, and a second pass
    with the embeddings moved ``epsilon`` (L2 norm over the example's tokens) that way adds
    its loss's gradients to the first. Works with frozen word embeddings (the shift is
    added to their output) and with any step loss, distillation's included. Returns the
    clean loss, for logging; about twice the cost of a plain step.
    """
    shift: dict[str, torch.Tensor] = {}

    def add_shift(module: torch.nn.Module, args: Any, output: torch.Tensor) -> torch.Tensor:
        if "delta" not in shift:  # the clean pass: a zero shift whose gradient we want
            shift["delta"] = torch.zeros_like(output, requires_grad=True)
            return output + shift["delta"]
        return output + shift["adversarial"]

    handle = model.encoder.get_input_embeddings().register_forward_hook(add_shift)
    try:
        clean = loss()
        clean.backward()
        grad = shift["delta"].grad
        norm = grad.flatten(1).norm(dim=1).clamp(min=1e-12).view(-1, *[1] * (grad.ndim - 1))
        shift["adversarial"] = epsilon * grad / norm
        loss().backward()
    finally:
        handle.remove()
    return clean.detach()


def rdrop_loss(
    model: PooledClassifier,
    input_ids: torch.Tensor,
    mask: torch.Tensor,
    targets: torch.Tensor,
    config: ExperimentConfig,
) -> torch.Tensor:
    """R-Drop (Liang et al. 2021): the batch twice through the model (two dropout masks,
    one forward pass of the doubled batch), cross-entropy on both and ``rdrop_alpha``
    times the symmetric KL between the two predictions, which pulls them together."""
    with autocast(config.bf16):
        logits = model(torch.cat([input_ids, input_ids]), torch.cat([mask, mask])).float()
    first, second = logits.chunk(2)
    ce = torch.nn.functional.cross_entropy(
        logits, torch.cat([targets, targets]), label_smoothing=config.label_smoothing
    )
    p, q = torch.log_softmax(first, dim=1), torch.log_softmax(second, dim=1)
    kl = torch.nn.functional.kl_div
    sym = 0.5 * (
        kl(p, q, log_target=True, reduction="batchmean")
        + kl(q, p, log_target=True, reduction="batchmean")
    )
    return ce + config.rdrop_alpha * sym


def length_bucketed_batches(
    lengths: Sequence[int], batch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Shuffled batches of row indices whose members have similar lengths."""
    order = rng.permutation(len(lengths))
    pool = batch_size * _POOL_BATCHES
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort([lengths[i] for i in chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _param_groups(model: PooledClassifier, config: ExperimentConfig) -> list[dict[str, Any]]:
    """AdamW groups: no weight decay on biases and LayerNorms; the head at its own rate;
    encoder layers at ``learning_rate * layer_decay ** (distance from the top)``."""
    n_layers = int(getattr(model.encoder.config, "num_hidden_layers", 0))
    groups: dict[tuple[float, float], list[torch.nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if name.startswith("head."):
            lr = config.head_learning_rate
        else:
            depth = _layer_depth(name, n_layers)
            lr = config.learning_rate * config.layer_decay ** (n_layers + 1 - depth)
        decay = config.weight_decay if param.ndim > 1 else 0.0
        groups.setdefault((lr, decay), []).append(param)
    return [{"params": p, "lr": lr, "weight_decay": wd} for (lr, wd), p in groups.items()]


def _layer_depth(name: str, n_layers: int) -> int:
    """0 for embeddings, i + 1 for transformer layer i, n_layers + 1 above them."""
    if ".embeddings." in f".{name}":
        return 0
    parts = name.split(".")
    for i, part in enumerate(parts[:-1]):
        if part in ("layer", "layers") and parts[i + 1].isdigit():
            return int(parts[i + 1]) + 1
    return n_layers + 1


def _lr_lambda(config: ExperimentConfig, total: int) -> Any:
    warmup = int(config.warmup_ratio * total)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        progress = (step - warmup) / max(1, total - warmup)
        if config.schedule == "linear":
            return max(0.0, 1.0 - progress)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


# --- bookkeeping ------------------------------------------------------------------------


@contextmanager
def _tracking(config: ExperimentConfig, version: str) -> Iterator[Any]:
    """A wandb run (offline without WANDB_API_KEY, a no-op under WANDB_MODE=disabled)."""
    if not config.wandb:
        yield None
        return
    import wandb  # slow import; only when tracking is on

    mode = os.environ.get("WANDB_MODE") or (
        "online" if os.environ.get("WANDB_API_KEY") else "offline"
    )
    run = wandb.init(
        project=config.wandb_project,
        name=version,
        config=config.to_dict(),
        mode=mode,
        job_type="train",
    )
    try:
        yield run
    finally:
        run.finish()


def _new_version(prefix: str, model_dir: Path) -> str:
    """``PREFIX-YYYYmmdd-HHMMSS``, suffixed when a version of that second exists already.

    The name is claimed by creating ``model_dir/.reserved/NAME`` exclusively: two runs that
    start in the same second (a trainer worker and a command, or two seeds run side by
    side) would otherwise both pick the free name and the slower one fail at the end.
    """
    version = f"{prefix}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    reserved = model_dir / ".reserved"
    reserved.mkdir(parents=True, exist_ok=True)
    candidate, n = version, 1
    while True:
        if not (model_dir / candidate).exists():
            try:
                (reserved / candidate).touch(exist_ok=False)
                return candidate
            except FileExistsError:
                pass
        n += 1
        candidate = f"{version}-{n}"


def _manifest_sha256(data_dir: Path) -> str | None:
    try:
        return data.read_manifest(data_dir).get("manifest_sha256")
    except data.DataError:
        return None
