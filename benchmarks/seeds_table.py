"""Mean ± sd over seeds of the scores stored with model version folders (reads no data).

    .venv/bin/python benchmarks/seeds_table.py var/models/VERSION_SEED1 VERSION_SEED2 ...

For versions trained outside the registry (``benchmarks/train_default.py`` stores test
scores in metadata.json); with a registry, ``manage.py evaluate_model V1 V2 V3 --stored``
prints the same. Versions without stored test scores are an error: evaluate them once.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifier.artifact import read_metadata  # noqa: E402
from mlops.seeds import TEST_KEYS, VALIDATION_KEYS, aggregate, format_table, spread  # noqa: E402


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    validation, test, seconds = [], [], []
    for path in map(Path, paths):
        meta = read_metadata(path)
        metrics = meta.get("metrics") or {}
        if not metrics.get("test"):
            print(f"{path}: no stored test scores", file=sys.stderr)
            return 1
        validation.append(metrics.get("validation") or {})
        test.append(metrics["test"])
        seconds.append(meta.get("training_seconds") or 0)
        print(
            f"{meta['version']:<44} seed {meta.get('config', {}).get('seed')}: validation "
            f"{validation[-1]['accuracy']:.2%}, test {test[-1]['accuracy']:.2%}, "
            f"{seconds[-1] / 60:.1f} min"
        )
    print(f"training time, min: {spread(s / 60 for s in seconds).format(1, 1)}")
    print(format_table("validation", aggregate(validation, VALIDATION_KEYS)))
    print(format_table("test", aggregate(test, TEST_KEYS)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
