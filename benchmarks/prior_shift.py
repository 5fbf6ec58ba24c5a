"""Would correcting trained versions for the test split's class balance raise accuracy?

    .venv/bin/python benchmarks/prior_shift.py --version var/models/A --version B ...
        [--data-dir var/data/banking77] [--cache var/teacher-cache] [--test]

BANKING77's training split is imbalanced (32 to 168 queries per intent) and its test
split is not (40 each). A model trained with cross-entropy learns the training prior;
for a balanced target the Bayes correction of calibrated probabilities is
``p(y|x) · π_target(y) / π_train(y)`` (Saerens et al. 2002), here with a strength τ:
``logits / T - τ · log π_train(y)`` (τ = 1 is the exact correction, τ = 0 none; Menon et
al. 2021's post-hoc logit adjustment). The validation split is carved from train, so it is
imbalanced too: its **balanced** accuracy (the mean recall over intents) is the estimate
of accuracy on a balanced set, and the column to choose τ by. ``--test`` adds the test
accuracy, for the final report only. π_train is the data folder's training split (a version
trained with agents' corrections or refit on validation learnt a slightly different one). Logits come from the teacher cache (mlops.teacher),
so versions already used as teacher members run no model.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
from sklearn.metrics import balanced_accuracy_score  # noqa: E402

from classifier import artifact  # noqa: E402
from mlops import data, teacher  # noqa: E402
from mlops.seeds import spread  # noqa: E402

STRENGTHS = (0.0, 0.5, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", type=Path, action="append", required=True)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var/data/banking77")
    parser.add_argument("--cache", type=Path, default=ROOT / "var/teacher-cache")
    parser.add_argument("--test", action="store_true", help="Also score on the test split.")
    args = parser.parse_args()

    labels = data.load_labels(args.data_dir)
    index = {name: i for i, name in enumerate(labels)}
    _, train_names = data.load_split(args.data_dir, "train")
    counts = np.bincount([index[n] for n in train_names], minlength=len(labels))
    log_prior = np.log(counts / counts.sum())
    splits = ["validation", "test"] if args.test else ["validation"]
    truth = {}
    for split in splits:
        _, names = data.load_split(args.data_dir, split)
        truth[split] = np.array([index[n] for n in names])

    scores: dict[tuple[float, str], list[float]] = {}
    for version in args.version:
        meta = artifact.read_metadata(version)
        if meta["labels"] != labels:  # the prior and the answers are indexed in this order
            raise SystemExit(f"{version} has other labels than {args.data_dir}")
        t = float(meta.get("temperature") or 1.0)
        load = functools.cache(functools.partial(artifact.load, version))  # once, if at all
        for split in splits:
            logits, _ = teacher.member_logits(version, args.data_dir, split, args.cache, load=load)
            for tau in STRENGTHS:
                predicted = (logits / t - tau * log_prior).argmax(axis=1)
                y = truth[split]
                balanced = balanced_accuracy_score(y, predicted)  # mean recall over intents
                for key, value in (("accuracy", (predicted == y).mean()), ("balanced", balanced)):
                    scores.setdefault((tau, f"{split} {key}"), []).append(100 * value)

    # The test split is balanced already: its balanced accuracy is its accuracy.
    columns = ["validation accuracy", "validation balanced"] + (
        ["test accuracy"] if args.test else []
    )
    print(f"train prior: {counts.min()} to {counts.max()} queries per intent; "
          f"{len(args.version)} version(s), mean ± sd")  # fmt: skip
    print(f"{'tau':>5}  " + "  ".join(f"{c:>21}" for c in columns))
    for tau in STRENGTHS:
        cells = []
        for column in columns:
            s = spread(scores[(tau, column)])
            cells.append(f"{s.mean:6.2f} ± {s.sd:4.2f}".rjust(21))
        print(f"{tau:>5.2f}  " + "  ".join(cells))


if __name__ == "__main__":
    main()
