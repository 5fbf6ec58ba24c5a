"""How fast a model version classifies on this CPU, and how accurately, in one process.

    .venv/bin/python benchmarks/inference_speed.py --model var/models/VERSION [--threads 1] [--n 1000]

Loads the version with ``classifier.artifact.load`` (checksums verified, as a worker does)
and predicts BANKING77 test queries (a seeded sample of ``--n``) with ``model.predict``,
the call the worker makes. Prints:

- load time (a fresh process: it includes importing torch or onnxruntime);
- single-email latency p50/p95: one query per call, one after another;
- throughput at ``--batch-size`` (default 32) queries per call, in emails/s;
- peak RSS of the process (ru_maxrss: the load and both runs included);
- accuracy of the sampled queries, from the single calls and from the batched calls (an
  int8 model's scores depend slightly on which texts share a batch), so a faster variant
  cannot quietly be a worse one.

``--threads`` (default 1, as each worker process runs) sets CLEANINBOX_TORCH_THREADS (torch
and onnxruntime) and the BLAS/OpenMP thread counts before anything numeric is imported.
The test queries are for final evaluation: use this to compare variants of a model already
chosen on validation, not to choose between them. Timings on a shared machine vary: run
each measurement more than once.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_QUERIES = (
    REPO / "var" / "data" / "banking77" / "test.csv",
    Path("/work/shared/data/banking77/test.csv"),
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True, help="A model version folder.")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n", type=int, default=1000, help="Queries to sample (seeded).")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="A test.csv (columns text and label or category) or the folder holding it; "
        "default var/data/banking77, else /work/shared/data/banking77.",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="Also print one JSON line.")
    args = parser.parse_args()

    # Before numpy, torch or onnxruntime is imported: they size their pools on import.
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    os.environ["CLEANINBOX_TORCH_THREADS"] = str(args.threads)
    sys.path.insert(0, str(REPO))

    texts, labels = read_queries(find_queries(args.data), args.n, args.seed)
    result = measure(args.model, texts, labels, args.threads, args.batch_size)
    print_result(result)
    if args.json:
        print(json.dumps(result))
    return 0


def find_queries(given: Path | None) -> Path:
    """The test CSV to read: ``given`` (a file or a folder with test.csv), else the defaults."""
    candidates = [given] if given else list(DEFAULT_QUERIES)
    for path in candidates:
        path = path / "test.csv" if path.is_dir() else path
        if path.is_file():
            return path
    raise SystemExit(f"no test.csv at {', '.join(map(str, candidates))}")


def read_queries(path: Path, n: int, seed: int) -> tuple[list[str], list[str]]:
    """A seeded sample of ``n`` (text, label) rows: test.csv is grouped by intent, so the
    first n rows would cover only a few intents."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    column = "label" if "label" in rows[0] else "category"
    rows = random.Random(seed).sample(rows, min(n, len(rows)))
    return [r["text"] for r in rows], [r[column] for r in rows]


def measure(path: Path, texts: list[str], labels: list[str], threads: int, batch_size: int) -> dict:
    """Load the version and time it; returns the figures ``print_result`` shows."""
    started = time.perf_counter()
    from classifier import artifact  # timed: a worker pays for these imports too

    model = artifact.load(path)
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(threads)
    load_s = time.perf_counter() - started

    model.predict(texts[:20])  # warm-up: first calls allocate and pick kernels
    for text in texts[:20]:
        model.predict([text])

    latencies, single = [], []
    for text in texts:
        t0 = time.perf_counter()
        single.append(model.predict([text])[0].label)
        latencies.append(time.perf_counter() - t0)

    batched = []
    t0 = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        batched += [p.label for p in model.predict(texts[start : start + batch_size])]
    batch_s = time.perf_counter() - t0

    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "version": model.version,
        "kind": model.kind,
        "threads": threads,
        "n": len(texts),
        "load_s": round(load_s, 2),
        "p50_ms": round(quantiles[49] * 1000, 2),
        "p95_ms": round(quantiles[94] * 1000, 2),
        "batch_size": batch_size,
        "emails_per_s": round(len(texts) / batch_s, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "accuracy_single": _accuracy(single, labels),
        "accuracy_batched": _accuracy(batched, labels),
        "torch_imported": "torch" in sys.modules,
    }


def _accuracy(predicted: list[str], truth: list[str]) -> float:
    return round(sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(truth), 4)


def print_result(r: dict) -> None:
    print(f"{r['version']} ({r['kind']}), {r['threads']} thread(s), {r['n']} test queries")
    print(f"  load:                {r['load_s']:.2f} s (imports and checksums included)")
    print(f"  single email:        p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms")
    print(f"  batch of {r['batch_size']:<3}        {r['emails_per_s']:.0f} emails/s")
    print(
        f"  peak RSS:            {r['peak_rss_mb']:.0f} MB (torch imported: {r['torch_imported']})"
    )
    print(
        f"  accuracy:            {r['accuracy_single']:.2%} one at a time, "
        f"{r['accuracy_batched']:.2%} batched"
    )


if __name__ == "__main__":
    sys.exit(main())
