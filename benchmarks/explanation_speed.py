"""How long does "why this intent" take, and what does the neighbour index cost?

Takes ~50 BANKING77 *test* queries (seeded), wraps each in an email shaped by
benchmarks/project_shapes.py, parses and cleans it exactly as ingestion does, and times
``classifier.explain.explain`` on each cleaned model input with the neighbour index of the
model version (one batched call of n+1 texts, plus the neighbour search): the latency of an
explanation's first request, before it is cached. Also prints the index build time, its
size in memory and on disk, and the mean number of occlusions.

    .venv/bin/python benchmarks/explanation_speed.py --model var/models/<version>-onnx-int8 \
        [--n 50] [--threads 1] [--data-dir var/data/banking77] [--show 3]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from project_shapes import project_cases  # noqa: E402

from classifier import artifact, explain  # noqa: E402
from inbox.mail import model_input, parse_message  # noqa: E402
from mlops import data  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--data-dir", type=Path, default=REPO / "var" / "data" / "banking77")
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show", type=int, default=2, help="print this many explanations")
    args = parser.parse_args(argv)
    os.environ["CLEANINBOX_TORCH_THREADS"] = str(args.threads)

    model = artifact.load(args.model)
    train_texts, train_labels = data.load_split(args.data_dir, "train")
    started = time.perf_counter()
    index = explain.NeighbourIndex.build(model, train_texts, train_labels)
    build_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        size = index.save(Path(tmp) / "index.npz", model.version).stat().st_size

    test_texts, test_labels = data.load_split(args.data_dir, "test")
    picked = random.Random(args.seed).sample(range(len(test_texts)), args.n)
    cases = project_cases([test_texts[i] for i in picked], [test_labels[i] for i in picked], 1)
    inputs = []
    for case in cases:
        parsed = parse_message(case.raw)
        inputs.append(model_input(parsed.subject, parsed.body_text, parsed.body_html))

    explain.explain(model, inputs[0], index)  # warm-up: first-call allocations
    times, occlusions, agree = [], [], 0
    for text, case in zip(inputs, cases, strict=True):
        t0 = time.perf_counter()
        answer = explain.explain(model, text, index)
        times.append((time.perf_counter() - t0) * 1000)
        occlusions.append(answer.occlusions)
        agree += sum(n.agrees for n in answer.neighbours or [])
        if args.show > 0:
            args.show -= 1
            print(f"\n{text!r} -> {answer.label} ({answer.probability:.1%}), truth {case.intent}")
            print(
                "  top words:",
                ", ".join(f"{w['text']} ({w['weight']:.2f})" for w in answer.top_words),
            )
            for n in answer.neighbours or []:
                print(f"  {n.similarity:.2f} {n.label:<28} {n.text}")

    print(f"\nmodel {model.version} ({model.kind}), {args.threads} thread(s), {args.n} emails")
    print(
        f"index: {len(train_texts)} training queries scored in {build_s:.1f} s; "
        f"{index.vectors.nbytes / 1e6:.1f} MB of vectors in memory, {size / 1e6:.1f} MB on disk"
    )
    print(
        f"explanation latency (uncached): p50 {statistics.median(times):.0f} ms, "
        f"p95 {percentile(times, 0.95):.0f} ms, max {max(times):.0f} ms; "
        f"{statistics.mean(occlusions):.1f} occlusions per email on average"
    )
    print(f"neighbours agreeing with the explained label: {agree / (5 * args.n):.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
