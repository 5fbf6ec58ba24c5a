"""Score a distillation teacher (the mean of trained versions' calibrated probabilities).

    .venv/bin/python benchmarks/ensemble_teacher.py --member var/models/A --member B ...
        [--data-dir var/data/banking77] [--cache var/teacher-cache] [--test]

Prints each member's and the ensemble's validation accuracy, macro-F1, NLL and ECE (from
the teacher cache mlops.distill uses, so after a distillation this runs no model). With
``--test`` it also scores the ensemble once on the test split, for the final report only:
choose members on validation.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

from classifier import artifact  # noqa: E402
from mlops import data, teacher  # noqa: E402
from mlops.evaluation import evaluate, fit_temperature, softmax  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--member", type=Path, action="append", required=True)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var/data/banking77")
    parser.add_argument("--cache", type=Path, default=ROOT / "var/teacher-cache")
    parser.add_argument("--test", action="store_true", help="Also score the ensemble on test.")
    args = parser.parse_args()

    labels = data.load_labels(args.data_dir)
    splits = ["validation", "test"] if args.test else ["validation"]
    for split in splits:
        _, names = data.load_split(args.data_dir, split)
        index = {name: i for i, name in enumerate(labels)}
        y = np.array([index[n] for n in names])
        probs = []
        for member in args.member:
            logits, _ = teacher.member_logits(member, args.data_dir, split, args.cache)
            t = float(artifact.read_metadata(member).get("temperature") or 1.0)
            probs.append(softmax(logits, t))
            if split == "validation":
                _line(f"{member.name}", split, evaluate(labels, y, probs[-1]))
        mean = np.mean(probs, axis=0)
        # The ensemble's own temperature, fitted on validation, only for its ECE line.
        if split == "validation":
            t_ens = fit_temperature(np.log(mean), y)
        _line(f"ensemble of {len(probs)}", split, evaluate(labels, y, softmax(np.log(mean), t_ens)))


def _line(name: str, split: str, report) -> None:
    print(
        f"{name:<34} {split:<10} accuracy {report.accuracy:.2%}  macro-F1 "
        f"{report.macro_f1:.4f}  NLL {report.nll:.4f}  ECE {report.ece:.4f}"
    )


if __name__ == "__main__":
    main()
