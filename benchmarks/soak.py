"""Soak run: a steady ingest rate for a long time, recording memory and latency.

    .venv/bin/python benchmarks/soak.py --minutes 10 --rate 20     # the soak (10 min)
    .venv/bin/python benchmarks/soak.py --minutes 1 --rate 10      # check that it works

It starts the whole stack on private servers (benchmarks/stack.py: PostgreSQL, Redis,
gunicorn, a Celery worker and beat, the TF-IDF baseline or --model DIR), then POSTs single
emails to /api/emails/ at --rate per second, paced by the clock (a slow answer does not
lower the rate: requests run from a pool). Every --every seconds it records the resident
memory of web, worker and beat (each with its child processes), the request latency
(p50/p95 of that window), and the backlog of pending emails. At the end it prints a
summary and saves <out>.csv and <out>.png (memory, latency and backlog over time).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import REPO, email_texts, log, post_json, running_stack  # noqa: E402


def rss_mb(pids: list[int]) -> float:
    import psutil

    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


def pending(stack) -> int:
    import psycopg

    with psycopg.connect(stack.pg.url_for("cleaninbox")) as conn:
        return conn.execute("SELECT count(*) FROM inbox_email WHERE status = 'pending'").fetchone()[
            0
        ]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def plot(rows: list[dict], out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [r["seconds"] / 60 for r in rows]
    fig, (mem, lat, backlog) = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
    for name in ("web", "worker", "beat"):
        mem.plot(t, [r[f"{name}_mb"] for r in rows], label=name)
    mem.set_ylabel("resident memory (MB)")
    mem.legend()
    lat.plot(t, [r["p50_ms"] for r in rows], label="p50")
    lat.plot(t, [r["p95_ms"] for r in rows], label="p95")
    lat.set_ylabel("POST latency (ms)")
    lat.legend()
    backlog.plot(t, [r["pending"] for r in rows], color="tab:red")
    backlog.set_ylabel("pending emails")
    backlog.set_xlabel("minutes")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="emails per second")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=REPO / "var" / "reports" / "soak")
    args = parser.parse_args()

    run = uuid.uuid4().hex[:8]
    texts = email_texts()
    latencies: list[tuple[float, float]] = []  # (finished at, seconds)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    rows: list[dict] = []

    with running_stack(args.model) as stack:
        url = f"{stack.url}/api/emails/"

        def send(i: int) -> None:
            body = {"message_id": f"soak-{run}-{i}@bench.example", "sender": f"c{i % 997}@customer.example",
                    "subject": "", "body_text": texts[i % len(texts)]}  # fmt: skip
            started = time.perf_counter()
            status, _ = post_json(url, stack.token, body, timeout=30)
            with lock:
                statuses[status] += 1
                latencies.append((time.monotonic(), time.perf_counter() - started))

        total = int(args.minutes * 60 * args.rate)
        log(f"soak: {total} emails at {args.rate}/s for {args.minutes} min")
        begin = time.monotonic()
        next_sample = begin
        with ThreadPoolExecutor(max_workers=32) as pool:
            for i in range(total):
                due = begin + i / args.rate
                while True:
                    now = time.monotonic()
                    if now >= next_sample:
                        with lock:
                            window = [s for at, s in latencies if at > next_sample - args.every]
                        rows.append({
                            "seconds": round(now - begin, 1),
                            "web_mb": round(rss_mb(stack.pids("web")), 1),
                            "worker_mb": round(rss_mb(stack.pids("worker")), 1),
                            "beat_mb": round(rss_mb(stack.pids("beat")), 1),
                            "p50_ms": round(percentile(window, 0.5) * 1000, 1),
                            "p95_ms": round(percentile(window, 0.95) * 1000, 1),
                            "requests": len(window),
                            "pending": pending(stack),
                        })  # fmt: skip
                        next_sample += args.every
                    if now >= due:
                        break
                    time.sleep(min(due - now, 0.05))
                pool.submit(send, i)
        elapsed = time.monotonic() - begin
        backlog_end = pending(stack)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    csv_path, png_path = args.out.with_suffix(".csv"), args.out.with_suffix(".png")
    with csv_path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    title = f"soak: {total} emails at {args.rate}/s over {elapsed / 60:.1f} min"
    plot(rows, png_path, title)
    values = [s for _, s in latencies]
    first, last = rows[min(2, len(rows) - 1)], rows[-1]  # skip the first samples: warm-up
    print()
    print(title)
    print(f"HTTP statuses:   {dict(sorted(statuses.items()))}")
    print(f"latency:         p50 {percentile(values, 0.5) * 1000:.0f} ms, p95 {percentile(values, 0.95) * 1000:.0f} ms, "
          f"p99 {percentile(values, 0.99) * 1000:.0f} ms, mean {statistics.fmean(values) * 1000:.0f} ms")  # fmt: skip
    for name in ("web", "worker", "beat"):
        series = [r[f"{name}_mb"] for r in rows]
        print(f"memory {name:<7}  {first[f'{name}_mb']:.0f} MB after warm-up -> {last[f'{name}_mb']:.0f} MB at the end "
              f"(max {max(series):.0f} MB)")  # fmt: skip
    print(f"pending at end:  {backlog_end}")
    print(f"saved:           {png_path} and {csv_path}")
    server_errors = sum(n for code, n in statuses.items() if code >= 500 or code == 0)
    return 0 if server_errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
