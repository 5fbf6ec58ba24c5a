"""Average trained versions into model soups (mlops.soup) and score each once on test.

    .venv/bin/python benchmarks/soup.py --soup A,B,C [--soup D,E,F ...] [--greedy]
        [--data-dir var/data/banking77] [--model-dir var/models]

Each ``--soup`` is one comma-separated group of version folders (one recipe, different
seeds); each group becomes one new version, scored on the test split once, as
``train_default.py`` scores a trained one. With several groups it ends with the mean ±
sample sd over the soups: three soups of three seeds each are three draws of the recipe
"soup of three", comparable with three seeds of a single-model recipe.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from train_default import score_once  # noqa: E402

from mlops.seeds import TEST_KEYS, aggregate, format_table, spread  # noqa: E402
from mlops.soup import soup  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soup", action="append", required=True, metavar="A,B,C")
    parser.add_argument("--greedy", action="store_true")
    parser.add_argument("--name", default="soup")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var/data/banking77")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "var/models")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    runs = []
    for group in args.soup:
        started = time.monotonic()
        members = [Path(p) for p in group.split(",") if p]
        path = soup(members, args.data_dir, args.model_dir, args.name, args.greedy, args.threads)
        runs.append(score_once(path, args.data_dir, time.monotonic() - started))
        print(f"members     {', '.join(m.name for m in members)}")
    if len(runs) > 1:
        print(f"\n{args.name}: {len(runs)} soups")
        print(f"time        {spread(r['seconds'] / 60 for r in runs).format(1, 1)} min")
        print(format_table("validation", aggregate([r["validation"] for r in runs])))
        print(format_table("test", aggregate([r["test"] for r in runs], TEST_KEYS)))


if __name__ == "__main__":
    main()
