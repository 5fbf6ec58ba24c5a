"""Train an experiment config end to end and report time, validation and test scores.

    .venv/bin/python benchmarks/train_default.py [--config minilm] [--set key=value ...]
        [--data-dir var/data/banking77] [--model-dir var/models] [--seeds 1,2,3]
        [--teacher VERSION_DIR ...] [--teacher-cache var/teacher-cache]
        [--refit-of VERSION_DIR ...]

``--seeds`` trains once per seed and ends with the mean ± sample sd of every score (one
run is one draw: compare recipes by the mean over seeds, chosen on validation).
``--teacher`` (repeatable) distils the ensemble of those trained versions into the
config's student (mlops.distill) instead of fine-tuning on labels alone.
``--refit-of`` (repeatable; replaces --config and --seeds) trains each given version's
config and seed again on train + validation (mlops.training.Refit), ``--set`` applied.

Prepares the data folder first if it is missing (from CLEANINBOX_DATA_SOURCE, else the
Hugging Face Hub). Test scores use the temperature and threshold chosen on validation and
are stored in the version's metadata under metrics.test. This is the final check of a
recipe: tune on validation, never on these test numbers.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Before torch loads (see mlops.training): idle OpenMP threads must sleep, not spin.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from classifier import artifact  # noqa: E402
from mlops import data  # noqa: E402
from mlops.config import load_config  # noqa: E402
from mlops.evaluation import evaluate  # noqa: E402
from mlops.seeds import TEST_KEYS, aggregate, format_table, spread  # noqa: E402
from mlops.training import Refit, train  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="minilm")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="K=V")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var/data/banking77")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "var/models")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--seeds", default=None, help="Comma-separated; default: the config's.")
    parser.add_argument("--teacher", type=Path, action="append", default=[],
                        help="A trained version folder: a member of the teacher ensemble.")  # fmt: skip
    parser.add_argument("--teacher-cache", type=Path, default=ROOT / "var/teacher-cache")
    parser.add_argument("--refit-of", type=Path, action="append", default=[],
                        help="A trained version folder to refit on train + validation.")  # fmt: skip
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    if not (args.data_dir / data.MANIFEST_FILE).is_file():
        data.prepare(os.environ.get("CLEANINBOX_DATA_SOURCE"), args.data_dir)
    if args.refit_of:
        refits = [Refit.of(path) for path in args.refit_of]
        configs = [r.experiment(args.overrides) for r in refits]
        runs = [run_one(c, args, r) for c, r in zip(configs, refits, strict=True)]
        config, seeds = configs[0], [c.seed for c in configs]
    else:
        config = load_config(args.config, args.overrides)
        seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [config.seed]
        runs = [run_one(replace(config, seed=seed), args) for seed in seeds]
    if len(runs) > 1:
        print_summary(f"{config.name}: {len(runs)} seeds ({', '.join(map(str, seeds))})", runs)


def print_summary(title: str, runs: list[dict]) -> None:
    """The mean ± sd over runs (score_once's results) of time and every score."""
    print(f"\n{title}")
    print("models      " + " ".join(str(r["path"]) for r in runs))
    print(f"train time  {spread(r['seconds'] / 60 for r in runs).format(1, 1)} min")
    print(format_table("validation", aggregate([r["validation"] for r in runs])))
    print(format_table("test", aggregate([r["test"] for r in runs], TEST_KEYS)))


def run_one(config, args, refit: Refit | None = None) -> dict:
    """Train (or distil, or refit) one model, score it once on test, print its lines."""
    started = time.monotonic()
    if args.teacher:
        from mlops.distill import distill

        path = distill(config, args.teacher, args.data_dir, args.model_dir,
                       progress=not args.no_progress, cache_dir=args.teacher_cache,
                       refit=refit)  # fmt: skip
    else:
        path = train(config, args.data_dir, args.model_dir, progress=not args.no_progress,
                     refit=refit)  # fmt: skip
    seconds = time.monotonic() - started
    run = score_once(path, args.data_dir, seconds)
    refit_of = f" refit of {refit.source}" if refit else ""
    print(
        f"config      {config.name} seed={config.seed}{refit_of} {' '.join(args.overrides)}".rstrip()
    )
    return run


def score_once(path: Path, data_dir: Path, seconds: float) -> dict:
    """Score a finished version on the test split once, store the scores in its metadata
    (metrics.test) and print its lines; what the seed summary aggregates."""
    model = artifact.load(path, expected_labels=data.load_labels(data_dir))
    texts, y = data.load_split(data_dir, "test")
    report = evaluate(model.labels, y, model.predict_proba(texts), threshold=model.threshold)
    metrics = dict(model.metadata.get("metrics") or {})
    metrics["test"] = {
        **report.headline(),
        "data_manifest_sha256": data.read_manifest(data_dir)["manifest_sha256"],
        "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    artifact.update_metadata(path, metrics=metrics)

    val = metrics["validation"]
    point = report.at_threshold
    refit = model.metadata.get("refit")
    print(f"model       {path}")
    print(f"train time  {seconds / 60:.1f} min (best epoch {model.metadata['best_epoch']})")
    print(f"validation  accuracy {val['accuracy']:.2%}  macro-F1 {val['macro_f1']:.4f}"
          + (f"  (of {refit['of']}: this refit learnt validation)" if refit else ""))  # fmt: skip
    print(f"test        accuracy {report.accuracy:.2%}  macro-F1 {report.macro_f1:.4f}")
    print(f"calibration T={model.temperature:.3f}  test ECE {report.ece:.4f}")
    if point is not None:
        print(
            f"routing     threshold {point.threshold}: {point.coverage:.1%} auto-routed, "
            f"error {point.error if point.error is None else f'{point.error:.2%}'}"
        )
    sys.stdout.flush()
    return {"path": path, "seconds": seconds, "validation": val, "test": metrics["test"]}


if __name__ == "__main__":
    main()
