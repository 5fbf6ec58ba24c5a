"""False-alarm rate and detection delay of the drift checks, and what a drift run costs.

    .venv/bin/python benchmarks/drift_detection.py --model var/models/VERSION \
        [--data var/data/banking77] [--windows 100] [--size 500] [--shares 1.0,0.25]

Builds the reference exactly as the scheduled check does (training prior and vocabulary,
the model's probabilities on the validation split) and then:

1. **False alarms.** ``--windows`` consecutive windows of ``--size`` emails drawn like the
   training data (intents from the training prior, texts from the held-out test split, no
   text twice in a window), each also compared with the window before; prints how many
   windows raised an alarm and which checks fired.
2. **Detection delay.** For each shift (a few intents only, another language, a non-banking
   topic, longer mail): 1,000 emails like the training data, then mail of which ``share``
   is shifted; the last ``--size`` emails are checked every ``--step`` emails; prints how
   many emails after the shift began the first alarm came, and which checks fired.
3. **Cost.** Seconds per window for the checks, for the model re-reading a window and its
   previous window, and the model's classification cost per email, so the drift job's
   cost can be set against classification (it runs in the maintenance worker, never in
   the classification task).

The model reads each distinct text once (streams repeat texts); this is exact because a
model's probabilities depend only on the text. One thread, as a worker runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=REPO / "var" / "data" / "banking77")
    parser.add_argument("--windows", type=int, default=100)
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--step", type=int, default=50)
    parser.add_argument(
        "--shares", default="1.0,0.25", help="Shares of shifted mail after the shift."
    )
    parser.add_argument("--seeds", type=int, default=3, help="Streams per shift and share.")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    for name in (
        "CLEANINBOX_TORCH_THREADS",
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
    ):
        os.environ[name] = str(args.threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    sys.path.insert(0, str(REPO))

    import numpy as np

    from classifier import artifact
    from mlops import drift
    from mlops.tests import drift_streams as ds

    model = artifact.load(args.model)
    print(f"model {model.version} ({model.kind}); data {args.data}; windows of {args.size}")
    started = time.perf_counter()
    reference = ds.build_reference(model, args.data)
    print(
        f"reference: {len(reference.texts)} validation texts read in {time.perf_counter() - started:.1f} s"
    )
    pools = ds.test_pools(model, args.data)
    scorer = ds.Scorer(model)

    result = ds.false_alarms(scorer, reference, pools, windows=args.windows, size=args.size, seed=1)
    fired = ", ".join(f"{k} {v}" for k, v in result.by_check.items() if v) or "none"
    print(
        f"\nFALSE ALARMS: {result.alarms} of {result.windows} in-distribution windows "
        f"({result.alarms / result.windows:.1%}); checks that fired: {fired}"
    )
    print(f"checks: {result.seconds_per_window:.2f} s per window of {args.size}")

    print("\nDETECTION DELAY (emails after the shift began; checked every", args.step, "emails)")
    for share in (float(s) for s in args.shares.split(",")):
        for kind in ds.SHIFTS:
            found = [
                ds.detection(
                    scorer,
                    reference,
                    pools,
                    kind,
                    size=args.size,
                    step=args.step,
                    share=share,
                    seed=s,
                )
                for s in range(args.seeds)
            ]
            delays = [f.delay for f in found]
            shown = ", ".join("never" if d is None else str(d) for d in delays)
            before = sum(f.alarms_before for f in found)
            first = sorted({c for f in found for c in f.checks})
            print(
                f"  {kind:17} {share:>4.0%} shifted: {shown:18} alarms before the shift: {before}; "
                f"first fired: {', '.join(first)}"
            )

    texts = ds.in_distribution(pools, 2 * args.size, np.random.default_rng(99))
    started = time.perf_counter()
    for i in range(0, len(texts), 32):
        model.predict_proba(texts[i : i + 32])
    per_email = (time.perf_counter() - started) / len(texts)
    window = drift.Window(texts[: args.size], model.predict_proba(texts[: args.size]))
    previous = drift.Window(texts[args.size :], model.predict_proba(texts[args.size :]))
    started = time.perf_counter()
    drift.evaluate(window, reference, previous)
    checks = time.perf_counter() - started
    run = checks + per_email * 2 * args.size
    print(
        f"\nCOST: classification {per_email * 1000:.2f} ms per email (batches of 32); one drift run "
        f"on {args.size} emails = model re-reads {2 * args.size} emails ({per_email * 2 * args.size:.1f} s) "
        f"+ checks {checks:.1f} s = {run:.1f} s in the maintenance worker, hourly by default "
        f"({run / 3600:.2%} of one core); added to the ingest and classification path: 0 s"
    )


if __name__ == "__main__":
    main()
