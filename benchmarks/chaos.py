"""Chaos run: ingest ≥ 10,000 emails through the batch API while the stack is broken.

    .venv/bin/python benchmarks/chaos.py                      # 10,000 emails, about 10-20 min
    .venv/bin/python benchmarks/chaos.py -n 2000 --deadline 300   # a quick look

It starts its own PostgreSQL and Redis (temporary folders, free ports; never the machine's
shared servers), gunicorn, a Celery worker and beat (benchmarks/stack.py), trains and
promotes the TF-IDF baseline (or registers --model DIR), then sends batches from several
client threads. Clients behave as a careful sender does: a batch that got no answer, a 5xx
or a 429 is sent again after a pause (Message-IDs make that safe: a repeat is reported as
a duplicate). Meanwhile, at fixed points of progress, it

  - kills the Celery worker with kill -9 (and starts a new one 5 s later),
  - kills Redis with kill -9 (every queued task is gone) and starts an empty one,
  - freezes Redis with SIGSTOP for 20 s, then SIGCONT,
  - restarts PostgreSQL (pg_ctl restart -m fast: every connection terminated),
  - kills the worker once more.

Then it waits up to --deadline seconds for every email to leave `pending` and prints:
accepted (acknowledged by the API), stored, lost (acknowledged but not in the database),
stuck (still pending at the deadline), and every HTTP status seen (5xx counted). It only
talks to the API and reads the database, so it does not depend on the pipeline's code.
"""

from __future__ import annotations

import argparse
import itertools
import queue
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import email_texts, log, post_json, running_stack  # noqa: E402


class Load:
    """Client threads sending batches until every one is acknowledged."""

    def __init__(self, stack, batches: list[list[dict]], clients: int) -> None:
        self.stack, self.clients = stack, clients
        self.todo: queue.Queue[list[dict]] = queue.Queue()
        for batch in batches:
            self.todo.put(batch)
        self.total = sum(len(b) for b in batches)
        self.acknowledged: set[str] = set()
        self.rejected: list[dict] = []
        self.statuses: Counter[int] = Counter()
        self.errors: list[str] = []  # when each answer other than 200 came, and what it said
        self.lock = threading.Lock()
        self.started = time.monotonic()

    @property
    def progress(self) -> float:
        return len(self.acknowledged) / self.total

    def _client(self) -> None:
        url = f"{self.stack.url}/api/emails/batch/"
        while True:
            try:
                batch = self.todo.get_nowait()
            except queue.Empty:
                return
            while True:
                status, body = post_json(url, self.stack.token, batch, timeout=60)
                with self.lock:
                    self.statuses[status] += 1
                    if status != 200:
                        detail = body.get("detail", "") if isinstance(body, dict) else ""
                        self.errors.append(
                            f"{time.monotonic() - self.started:6.1f}s {status} {detail}"
                        )
                if status == 200 and isinstance(body, dict):
                    with self.lock:
                        for item, result in zip(batch, body["results"], strict=True):
                            if result["result"] in ("accepted", "duplicate"):
                                self.acknowledged.add(item["message_id"])
                            else:
                                self.rejected.append(result)
                    break
                time.sleep(2.0 if status in (0, 429) or status >= 500 else 0.5)

    def run(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._client, daemon=True) for _ in range(self.clients)]
        for thread in threads:
            thread.start()
        return threads


def chaos(stack, load: Load, stop: threading.Event) -> list[str]:
    """The faults, each when ingestion reaches its share of the emails."""
    events: list[str] = []

    def note(text: str) -> None:
        events.append(f"{time.monotonic() - load.started:6.1f}s @{load.progress:4.0%} {text}")
        log(text)

    def restart_worker():
        time.sleep(5)
        stack.start_worker()
        note("worker started again")

    def kill_worker():
        stack.kill("worker", signal.SIGKILL)
        note("worker killed (kill -9)")
        restart_worker()

    def kill_redis():
        stack.redis.kill()
        note("Redis killed (kill -9): queued tasks lost")
        time.sleep(3)
        stack.redis.start()
        note("Redis started again, empty")

    def freeze_redis():
        stack.redis.freeze()
        note("Redis frozen (SIGSTOP) for 20 s")
        time.sleep(20)
        stack.redis.thaw()
        note("Redis thawed (SIGCONT)")

    def restart_postgres():
        note("PostgreSQL restarting (pg_ctl restart -m fast)")
        stack.pg.restart()
        note("PostgreSQL up again")

    plan = [(0.10, kill_worker), (0.25, kill_redis), (0.40, freeze_redis),
            (0.55, restart_postgres), (0.70, kill_worker)]  # fmt: skip
    for share, fault in plan:
        while load.progress < share and not stop.is_set():
            time.sleep(0.2)
        if stop.is_set():
            break
        fault()
    return events


def database_state(stack, message_ids: set[str]) -> dict[str, tuple[str, int]]:
    import psycopg

    with psycopg.connect(stack.pg.url_for("cleaninbox")) as conn:
        rows = conn.execute(
            "SELECT message_id, status, attempts FROM inbox_email WHERE message_id = ANY(%s)",
            [list(message_ids)],
        ).fetchall()
    return {mid: (status, attempts) for mid, status, attempts in rows}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=10_000, help="emails to ingest (default 10,000)")
    parser.add_argument("--batch", type=int, default=50, help="emails per batch request")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="worker processes")
    parser.add_argument(
        "--deadline", type=float, default=600, help="seconds to wait for classification"
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="a model version folder to register instead of training the baseline",
    )
    args = parser.parse_args()

    run = uuid.uuid4().hex[:8]
    texts = itertools.cycle(email_texts())
    emails = [
        {"message_id": f"chaos-{run}-{i}@bench.example", "sender": f"c{i % 997}@customer.example",
         "subject": "", "body_text": next(texts)}
        for i in range(args.n)
    ]  # fmt: skip
    batches = [emails[i : i + args.batch] for i in range(0, len(emails), args.batch)]

    with running_stack(args.model, worker_concurrency=args.worker_concurrency) as stack:
        load = Load(stack, batches, args.clients)
        stop = threading.Event()
        events: list[str] = []
        chaos_thread = threading.Thread(
            target=lambda: events.extend(chaos(stack, load, stop)), daemon=True
        )
        log(
            f"sending {args.n} emails in {len(batches)} batches of {args.batch} from {args.clients} clients"
        )
        threads = load.run()
        chaos_thread.start()
        for thread in threads:
            thread.join()
        ingest_seconds = time.monotonic() - load.started
        stop.set()
        chaos_thread.join()
        log(
            f"all batches answered in {ingest_seconds:.0f} s; waiting up to {args.deadline:.0f} s for classification"
        )

        deadline = time.monotonic() + args.deadline
        while True:
            state = database_state(stack, load.acknowledged)
            pending = sum(1 for status, _ in state.values() if status == "pending")
            if pending == 0 or time.monotonic() > deadline:
                break
            log(f"{pending} still pending")
            time.sleep(10)
        drained = time.monotonic() - load.started

    statuses = Counter(status for status, _ in state.values())
    stored = len(state)
    lost = len(load.acknowledged - set(state))
    stuck = statuses.get("pending", 0)
    http = dict(sorted(load.statuses.items()))
    server_errors = sum(n for code, n in http.items() if code >= 500)
    repeated = sum(1 for _, attempts in state.values() if attempts > 1)
    print()
    print("chaos events:")
    for line in events:
        print(f"  {line}")
    print(
        f"emails sent:       {args.n} in {len(batches)} batches of {args.batch} ({args.clients} clients)"
    )
    print(
        f"accepted:          {len(load.acknowledged)} (acknowledged by the API as accepted or duplicate)"
    )
    print(f"rejected:          {len(load.rejected)}")
    print(f"stored:            {stored}")
    print(f"lost:              {lost}")
    print(f"stuck:             {stuck} (still pending {args.deadline:.0f} s after the last batch)")
    print(f"final statuses:    {dict(statuses)}")
    print(f"classified >1 time: {repeated} (attempts > 1)")
    print(f"HTTP statuses:     {http} (0 = no answer: connection refused or timed out)")
    print(f"5xx:               {server_errors}")
    for line in load.errors[:20]:
        print(f"  not 200 at {line}")
    print(f"time:              ingest {ingest_seconds:.0f} s, all classified after {drained:.0f} s")
    return (
        0
        if lost == 0 and stuck == 0 and server_errors == 0 and len(load.acknowledged) == args.n
        else 1
    )


if __name__ == "__main__":
    sys.exit(main())
