"""Ingest throughput and time-to-classified against a running cleaninbox.

Start the stack first (`make run`, or gunicorn + a Celery worker), create a token
(`manage.py drf_create_token admin`), then:

    .venv/bin/python benchmarks/ingest_throughput.py --token KEY -n 500 --concurrency 8

It POSTs n emails built from BANKING77 test queries (unique Message-IDs per run) from a
thread pool, prints requests/second, then polls the API until every email has left
`pending` and prints the ingest-to-classified latency (classified_at - ingested_at).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path


def _request(url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET")
    req.add_header("Authorization", f"Token {token}")
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _queries(path: Path, n: int) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    return [texts[i % len(texts)] for i in range(n)]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True)
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--queries", type=Path, default=Path("var/data/banking77/test.csv"))
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    run = uuid.uuid4().hex[:8]
    payloads = [
        {"message_id": f"<bench-{run}-{i}@bench.example>", "sender": f"c{i}@bench.example",
         "subject": "", "body_text": text}
        for i, text in enumerate(_queries(args.queries, args.n))
    ]
    url = args.url.rstrip("/") + "/api/emails/"
    started = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        results = list(pool.map(lambda p: _request(url, args.token, p), payloads))
    elapsed = time.perf_counter() - started
    codes = [code for code, _ in results]
    ids = [body["id"] for code, body in results if code == 202]
    print(f"ingest: {len(payloads)} POSTs in {elapsed:.1f} s = {len(payloads) / elapsed:.0f} requests/s "
          f"(concurrency {args.concurrency}); status codes: { {c: codes.count(c) for c in set(codes)} }")
    if not ids:
        return 1

    latencies: dict[int, float] = {}
    deadline = time.monotonic() + args.timeout
    while len(latencies) < len(ids) and time.monotonic() < deadline:
        for pk in ids:
            if pk in latencies:
                continue
            _, body = _request(f"{url}{pk}/", args.token)
            if body.get("classified_at"):
                done = datetime.fromisoformat(body["classified_at"])
                latencies[pk] = (done - datetime.fromisoformat(body["ingested_at"])).total_seconds()
        time.sleep(0.5)
    values = list(latencies.values())
    if not values:
        print("no email was classified in time: is a worker running with an active model?")
        return 1
    drained = max(values)
    print(f"classified: {len(values)}/{len(ids)}; ingest->classified p50 {statistics.median(values):.2f} s, "
          f"p95 {_percentile(values, 0.95):.2f} s, max {drained:.2f} s "
          f"(worker throughput about {len(values) / max(drained, 1e-9):.0f} emails/s over the burst)")
    return 0 if len(values) == len(ids) else 1


if __name__ == "__main__":
    sys.exit(main())
