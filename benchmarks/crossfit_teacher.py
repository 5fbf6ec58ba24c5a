"""A cross-fitted teacher: soft targets on the training queries from models that did not
learn them.

A teacher trained on the whole train split is nearly one-hot on its own training queries
(it learnt them), so on those queries a student learns little more than the labels. Here
the train split is cut into K stratified folds; fold model *i* is the default recipe
trained on the other K − 1 folds, so it scores fold *i* out of sample, the way
cross-validated predictions are made (scikit-learn's ``cross_val_predict``, cleanlab's
out-of-fold probabilities). The teacher's output for a training query, and for each
perturbed copy of it, is the calibrated probability of the fold model that held that query
out; on validation it is the mean of all K.

    .venv/bin/python benchmarks/crossfit_teacher.py folds [--k 4]
        writes var/data/folds-k4/f0 … f3 (train minus one fold; validation and test as is)
    .venv/bin/python benchmarks/train_default.py --data-dir var/data/folds-k4/f0 --seeds 1 …
        one fold model each (any recipe)
    .venv/bin/python benchmarks/crossfit_teacher.py score --fold-model F0 … --fold-model F3
        out-of-fold accuracy on train, the teacher's validation accuracy, and the training
        queries whose label every fold model doubts
    .venv/bin/python benchmarks/crossfit_teacher.py distill --fold-model F0 … [--config
        minilm-distilled] [--seeds 1,2,3] [--set K=V …]
        students of the cross-fitted teacher, scored as train_default.py scores them
    .venv/bin/python benchmarks/crossfit_teacher.py prune --fold-model F0 … --fold-model F3
        writes var/data/pruned-prune_by_noise_rate: train without the queries cleanlab's
        find_label_issues flags from the out-of-fold probabilities

Both were measured in stop 27 and lost (README, "Tried on validation and dropped"): the
validation and test splits follow the training labels' conventions, noise included.

Fold *i* of K is fixed by the parent data folder and ``--fold-seed``; the fold models must
be given in fold order, and each is checked against its fold folder's manifest.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from classifier import artifact  # noqa: E402
from mlops import data, teacher  # noqa: E402

member_outputs = teacher.ensemble  # one fold model's outputs (teacher.ensemble of one)


def fold_indices(data_dir: Path, k: int, seed: int) -> np.ndarray:
    """The fold (0 … k − 1) of every training query, stratified by intent."""
    _, labels = data.load_split(data_dir, "train")
    folds = np.empty(len(labels), dtype=np.int64)
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    for i, (_, held) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        folds[held] = i
    return folds


def write_derived(data_dir: Path, target: Path, train: pd.DataFrame, note: dict) -> dict:
    """A data folder like ``data_dir`` with another train split (validation, test and
    labels as they are); its manifest says how it was derived (``note``)."""
    parent = data.verify(data_dir)
    blobs = {
        name: (data_dir / name).read_bytes()
        for name in ("validation.csv", "test.csv", data.LABELS_FILE)
    }
    blobs["train.csv"] = data._csv_bytes(train)
    files = {name: data._sha256_bytes(blob) for name, blob in blobs.items()}
    overall = data._sha256_bytes("".join(f"{n} {files[n]}\n" for n in sorted(files)).encode())
    manifest = {
        **parent,
        "rows": {**parent["rows"], "train": len(train)},
        "files": files,
        "manifest_sha256": overall,
        **note,
    }
    blobs[data.MANIFEST_FILE] = (json.dumps(manifest, indent=2) + "\n").encode()
    data.swap_in(target, blobs)
    return manifest


def train_frame(data_dir: Path) -> pd.DataFrame:
    return pd.read_csv(data_dir / "train.csv", keep_default_na=False)


def write_folds(data_dir: Path, out: Path, k: int, seed: int) -> None:
    """One data folder per fold: the parent's train split without that fold."""
    parent = data.read_manifest(data_dir)["manifest_sha256"]
    frame, folds = train_frame(data_dir), fold_indices(data_dir, k, seed)
    for i in range(k):
        note = {"crossfit": {"k": k, "fold": i, "fold_seed": seed, "of": parent}}
        write_derived(data_dir, out / f"f{i}", frame[folds != i], note)
        print(f"fold {i}: {out / f'f{i}'} (train {(folds != i).sum():,}, "
              f"held out {(folds == i).sum():,})")  # fmt: skip


def check_fold_models(fold_models: list[Path], data_dir: Path, seed: int) -> np.ndarray:
    """The training queries' folds, after checking fold model i learnt exactly fold
    folder i's train split (by its data manifest)."""
    k = len(fold_models)
    parent = data.read_manifest(data_dir)["manifest_sha256"]
    for i, path in enumerate(fold_models):
        meta = artifact.read_metadata(path)
        folder = ROOT / "var/data" / f"folds-k{k}" / f"f{i}"
        manifest = data.read_manifest(folder)
        crossfit = manifest.get("crossfit") or {}
        if crossfit != {"k": k, "fold": i, "fold_seed": seed, "of": parent}:
            raise SystemExit(f"{folder} is not fold {i} of {k} of {data_dir}: run `folds` again")
        if meta.get("data_manifest_sha256") != manifest["manifest_sha256"]:
            raise SystemExit(f"fold model {path} did not learn {folder} (give them in fold order)")
    return fold_indices(data_dir, k, seed)


def crossfit_outputs(
    fold_models: list[Path],
    folds: np.ndarray,
    data_dir: Path,
    cache_dir: Path,
    augmented: list[str] = (),
) -> teacher.TeacherOutputs:
    """Out-of-fold log-probabilities for train and its copies (``augmented``, as
    mlops.augment.augment orders them: each query's copies in a row); the mean of all fold
    models on validation."""
    per_query, rest = divmod(len(augmented), len(folds))
    if rest:
        raise ValueError(f"{len(augmented)} copies are not a whole number per training query")
    members = [
        member_outputs([path], data_dir, cache_dir, augmented_texts=augmented)
        for path in fold_models
    ]
    train = np.stack([m.train for m in members])[folds, np.arange(len(folds))]
    copies = np.stack([m.augmented for m in members])
    aug = copies[np.repeat(folds, per_query), np.arange(len(augmented))]
    val_probs = np.mean([np.exp(m.validation) for m in members], axis=0)
    return teacher.TeacherOutputs(
        members=[p.name for p in fold_models],
        train=train,
        validation=np.log(np.clip(val_probs, 1e-12, 1.0)).astype(np.float32),
        extra=members[0].extra,
        augmented=aug,
        cache_hits=sum(m.cache_hits for m in members),
    )


def out_of_fold(args) -> tuple[np.ndarray, list[str], np.ndarray, teacher.TeacherOutputs]:
    """The training queries' folds, the label names, the training labels as indices and
    the cross-fitted teacher's outputs (no copies)."""
    folds = check_fold_models(args.fold_model, args.data_dir, args.fold_seed)
    labels = data.load_labels(args.data_dir)
    index = {name: i for i, name in enumerate(labels)}
    _, names = data.load_split(args.data_dir, "train")
    y = np.array([index[n] for n in names])
    return (
        folds,
        labels,
        y,
        crossfit_outputs(args.fold_model, folds, args.data_dir, args.teacher_cache),
    )


def write_pruned(args) -> None:
    """A data folder whose train split drops the queries cleanlab flags as label issues
    from the out-of-fold probabilities (validation and test unchanged: they stay the
    yardstick, noise and all)."""
    from cleanlab.filter import find_label_issues

    _, labels, y, out = out_of_fold(args)
    issues = find_label_issues(y, np.exp(out.train), filter_by=args.filter_by)
    note = {
        "pruned": {
            "of": data.read_manifest(args.data_dir)["manifest_sha256"],
            "filter_by": args.filter_by,
            "fold_models": [p.name for p in args.fold_model],
            "dropped": int(issues.sum()),
        }
    }
    target = ROOT / "var/data" / f"pruned-{args.filter_by}"
    write_derived(args.data_dir, target, train_frame(args.data_dir)[~issues], note)
    per_intent = pd.Series(np.array(labels)[y[issues]]).value_counts()
    print(f"{target}: dropped {int(issues.sum())} of {len(y):,} training queries "
          f"({issues.mean():.1%}); most from {', '.join(f'{k} {v}' for k, v in per_intent.head(5).items())}")  # fmt: skip


def score(args) -> None:
    folds, labels, y, out = out_of_fold(args)
    texts, _ = data.load_split(args.data_dir, "train")
    _, val_names = data.load_split(args.data_dir, "validation")
    val_y = np.array([labels.index(n) for n in val_names])
    p = np.exp(out.train)
    oof = p.argmax(1)
    print(
        f"out-of-fold accuracy on train: {(oof == y).mean():.2%} ({(oof != y).sum()} of {len(y):,} disagree)"
    )
    print(f"teacher (mean of {len(args.fold_model)} fold models) on validation: "
          f"{(out.validation.argmax(1) == val_y).mean():.2%}")  # fmt: skip
    for i, path in enumerate(args.fold_model):
        val = artifact.read_metadata(path)["metrics"]["validation"]["accuracy"]
        held = folds == i
        print(
            f"  fold {i}: {path.name} validation {val:.2%}, held-out fold {(oof[held] == y[held]).mean():.2%}"
        )
    own = p[np.arange(len(y)), y]
    doubted = np.argsort(own)[: args.show]
    print(f"\n{args.show} training queries whose label the out-of-fold teacher doubts most:")
    for i in doubted:
        print(f"  p(label)={own[i]:.3f}  {labels[y[i]]:<32} -> {labels[oof[i]]:<32} {texts[i]!r}")


def distill_students(args) -> None:
    from benchmarks.train_default import print_summary, score_once
    from mlops import distill as distill_module
    from mlops.config import load_config

    folds = check_fold_models(args.fold_model, args.data_dir, args.fold_seed)

    def ensemble(members, data_dir, cache_dir, extra_texts=(), refresh=False, augmented_texts=()):
        if extra_texts:
            raise SystemExit("a cross-fitted teacher takes no extra examples")
        return crossfit_outputs(list(members), folds, data_dir, cache_dir, list(augmented_texts))

    teacher.ensemble = ensemble  # distill() asks mlops.teacher for its teacher's outputs
    try:
        config = load_config(args.config, args.overrides)
        runs = []
        for seed in [int(s) for s in args.seeds.split(",")]:
            started = time.monotonic()
            path = distill_module.distill(
                replace(config, seed=seed), args.fold_model, args.data_dir, args.model_dir,
                progress=not args.no_progress, cache_dir=args.teacher_cache,
            )  # fmt: skip
            runs.append(score_once(path, args.data_dir, time.monotonic() - started))
            print(
                f"config      {config.name} seed={seed} cross-fitted teacher {' '.join(args.overrides)}"
            )
    finally:
        teacher.ensemble = member_outputs
    if len(runs) > 1:
        print_summary(f"{config.name}, cross-fitted teacher: {len(runs)} seeds", runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["folds", "score", "distill", "prune"])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var/data/banking77")
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--fold-seed", type=int, default=0)
    parser.add_argument("--fold-model", type=Path, action="append", default=[])
    parser.add_argument("--teacher-cache", type=Path, default=ROOT / "var/teacher-cache")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "var/models")
    parser.add_argument("--config", default="minilm-distilled")
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="K=V")
    parser.add_argument("--show", type=int, default=20)
    parser.add_argument("--filter-by", default="prune_by_noise_rate")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.command == "folds":
        write_folds(args.data_dir, ROOT / "var/data" / f"folds-k{args.k}", args.k, args.fold_seed)
    elif args.command == "score":
        score(args)
    elif args.command == "prune":
        write_pruned(args)
    else:
        distill_students(args)


if __name__ == "__main__":
    main()
