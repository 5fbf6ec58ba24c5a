"""Load test of the whole pipeline: gunicorn + PostgreSQL + Redis + Celery classify workers,
driven by locust (headless), with the model-alone ceiling measured in the same run.

    .venv/bin/python benchmarks/load_test.py --model var/models/VERSION \\
        --scenario steady --rate 200 --duration 60 --workers 1

Scenarios: ``steady`` (single POSTs at ``--rate`` requests/s), ``burst`` (bursts of single
POSTs), ``batch`` (POSTs of ``--batch`` emails), ``import`` (``manage.py import_emails``
of ``--emails`` messages from an mbox it writes). The script starts, on this machine:
its own redis-server on a free port (broker and cache), gunicorn (gunicorn.conf.py,
``--web-workers`` processes) and one Celery worker on the ``classify`` queue with
``--workers`` processes, as the README's production commands do; PostgreSQL is the server
at DATABASE_URL (default: a ``bench_pipeline`` database on 127.0.0.1), migrated here.
The model at ``--model`` is registered and promoted there.

It reports throughput (requests/s, emails/s), error rate, the workers' drain rate, and
ingest→classified latency p50/p95/p99 (``classified_at - ingested_at`` of every email of
the run, read from the database) over time; saves a PNG plot and a JSON summary under
``--out``; and puts each figure next to the model-alone ceiling from
``benchmarks/inference_speed.py`` (same model, one thread, batch 32).
Everything it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
DEFAULT_QUERIES = REPO.parent / "shared" / "data" / "banking77" / "test.csv"


def main() -> int:
    args = _parse()
    # `timeout` or Ctrl-C must still stop what this script started (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tag = f"{args.scenario}{uuid.uuid4().hex[:6]}"
    procs: list[subprocess.Popen] = []
    tmp = Path(tempfile.mkdtemp(prefix="cleaninbox-load-"))
    try:
        redis_url = _start_redis(procs, tmp)
        env = _stack_env(args, redis_url)
        os.environ.update(env)
        token = _prepare_database(args)
        ceiling = _model_ceiling(args)
        print(f"model alone: {ceiling['emails_per_s']:.0f} emails/s at batch 32, "
              f"p50 {ceiling['p50_ms']:.1f} ms single (one thread)", flush=True)  # fmt: skip
        port = _free_port()
        _start(procs, [PY, "-m", "gunicorn", "cleaninbox.wsgi"], env, tmp / "web.log",
               GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY=str(args.web_workers))  # fmt: skip
        _start(procs, [PY, "-m", "celery", "-A", "cleaninbox", "worker", "-Q", "classify",
                       f"--concurrency={args.workers}", "--loglevel=WARNING",
                       "--without-gossip", "--without-mingle"], env, tmp / "worker.log")  # fmt: skip
        _wait_http(port)
        _warm_up(port, token, args.web_workers)  # Django loaded, model loaded: not measured
        started = time.time()
        if args.scenario == "import":
            load = _run_import(args, env, tag, tmp)
        else:
            load = _run_locust(args, env, tag, token, port, tmp)
        ingest_end = time.time()
        drained = _wait_classified(tag, args.drain_timeout)
        result = {
            "scenario": args.scenario, "tag": tag, "workers": args.workers,
            "web_workers": args.web_workers, "model": str(args.model), "ceiling": ceiling,
            "load": load, "ingest_seconds": ingest_end - started,
            **_latencies(tag, started, out / f"{tag}.png", args),
            "all_classified": drained,
        }  # fmt: skip
        _print(result)
        (out / f"{tag}.json").write_text(json.dumps(result, indent=2))
        print(f"plot: {out / f'{tag}.png'}; figures: {out / f'{tag}.json'}")
        return 0
    finally:
        for proc in reversed(procs):
            _stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--model", type=Path, required=True, help="A model version folder.")
    p.add_argument("--scenario", choices=["steady", "burst", "batch", "import"], default="steady")
    p.add_argument("--rate", type=float, default=100, help="steady: requests/s in total")
    p.add_argument("--users", type=int, default=20, help="locust users (steady, burst, batch)")
    p.add_argument("--duration", type=int, default=60, help="seconds of load")
    p.add_argument("--batch", type=int, default=500, help="batch: emails per request")
    p.add_argument("--burst", type=int, default=50, help="burst: requests per user per burst")
    p.add_argument("--emails", type=int, default=100_000, help="import: messages")
    p.add_argument("--workers", type=int, default=1, help="classification worker processes")
    p.add_argument("--web-workers", type=int, default=2, help="gunicorn processes")
    p.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)
    p.add_argument("--drain-timeout", type=float, default=900)
    p.add_argument("--database-url", default=os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_pipeline"))  # fmt: skip
    p.add_argument("--out", default=str(REPO / "var" / "bench"))
    return p.parse_args()


# --- the stack ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(procs: list, cmd: list[str], env: dict, log: Path, **extra: str) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, cwd=REPO, env={**env, **extra}, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    procs.append(proc)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _start_redis(procs: list, tmp: Path) -> str:
    port = _free_port()
    _start(procs, ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(tmp)], dict(os.environ), tmp / "redis.log")  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.1)
    raise SystemExit("redis-server did not start")


def _stack_env(args: argparse.Namespace, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cleaninbox.settings",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "load-test-only"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        "CLEANINBOX_INGEST_RATE": "1000000/min",  # measure the pipeline, not the throttle
        "CLEANINBOX_MAX_BACKLOG": os.environ.get("CLEANINBOX_MAX_BACKLOG", "200000"),
        "CLEANINBOX_TORCH_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(REPO),
    }


def _prepare_database(args: argparse.Namespace) -> str:
    import django

    sys.path.insert(0, str(REPO))
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from mlops import registry

    call_command("migrate", verbosity=0)
    row = registry.register(args.model.resolve())
    if getattr(registry.active(), "version", None) != row.version:
        registry.promote(row.version)
    user, _ = User.objects.get_or_create(username="loadtest")
    return Token.objects.get_or_create(user=user)[0].key


def _model_ceiling(args: argparse.Namespace) -> dict:
    cmd = [PY, str(REPO / "benchmarks" / "inference_speed.py"), "--model", str(args.model),
           "--threads", "1", "--n", "300", "--json"]  # fmt: skip
    if args.queries.exists():
        cmd += ["--data", str(args.queries)]
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def _wait_http(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def _warm_up(port: int, token: str, web_workers: int) -> None:
    import urllib.request

    tag = f"warm{uuid.uuid4().hex[:6]}"
    for n in range(4 * web_workers):
        body = json.dumps({"message_id": f"<{tag}-{n}@load.example>", "sender": "w@mail.example",
                           "subject": "card", "body_text": "where is my new card?"}).encode()  # fmt: skip
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/emails/", data=body, method="POST",
                                     headers={"Authorization": f"Token {token}",
                                              "Content-Type": "application/json"})  # fmt: skip
        urllib.request.urlopen(req, timeout=60).read()
    if not _wait_classified(tag, 180):
        raise SystemExit("the worker did not classify the warm-up emails; see its log")


# --- load --------------------------------------------------------------------------------


def _run_locust(args, env, tag: str, token: str, port: int, tmp: Path) -> dict:
    user_class = {"steady": "SingleEmail", "burst": "BurstyEmail", "batch": "EmailBatch"}[
        args.scenario
    ]
    users = args.users
    rate_per_user = args.rate / users
    cmd = [PY, "-m", "locust", "-f", str(REPO / "benchmarks" / "locustfile.py"), user_class,
           "--headless", "-u", str(users), "-r", str(users), "-t", f"{args.duration}s",
           "--host", f"http://127.0.0.1:{port}", "--csv", str(tmp / "locust"),
           "--csv-full-history", "--only-summary", "--stop-timeout", "30", "--loglevel", "WARNING"]  # fmt: skip
    locust_env = {**env, "LOADTEST_TOKEN": token, "LOADTEST_TAG": tag,
                  "LOADTEST_RATE": str(rate_per_user), "LOADTEST_BATCH": str(args.batch),
                  "LOADTEST_BURST": str(args.burst), "LOADTEST_QUERIES": str(args.queries)}  # fmt: skip
    subprocess.run(cmd, cwd=REPO, env=locust_env, check=False)
    with (tmp / "locust_stats.csv").open() as fh:
        total = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    requests, failures = int(total["Request Count"]), int(total["Failure Count"])
    per_request = args.batch if args.scenario == "batch" else 1
    # Throughput from what the database accepted, over the time it took to accept it.
    ingested = sorted(a for a, _ in _rows(tag))
    seconds = max(ingested[-1] - ingested[0], 1e-3) if len(ingested) > 1 else float(args.duration)
    errors_path = tmp / "locust_failures.csv"
    return {
        "requests": requests, "failures": failures,
        "error_rate": failures / requests if requests else None,
        "requests_per_s": len(ingested) / per_request / seconds,
        "emails_per_s": len(ingested) / seconds,
        "p50_ms": float(total["50%"]), "p95_ms": float(total["95%"]), "p99_ms": float(total["99%"]),
        "failures_sample": errors_path.read_text()[:1000] if failures else "",
    }  # fmt: skip


def _run_import(args, env, tag: str, tmp: Path) -> dict:
    with args.queries.open(newline="", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    mbox = tmp / "import.mbox"
    with mbox.open("w", encoding="utf-8") as fh:
        for i in range(args.emails):
            fh.write(f"From customer{i % 5000}@mail.example Thu Dec  4 10:00:00 2026\n"
                     f"From: customer{i % 5000}@mail.example\nTo: support@bank.example\n"
                     f"Message-ID: <{tag}-{i}@load.example>\nSubject: \n\n"
                     f"Hello,\n\n{_mbox_safe(texts[i % len(texts)])}\n\nThanks\n\n")  # fmt: skip
    started = time.time()
    run = subprocess.run([PY, "manage.py", "import_emails", str(mbox), "-v", "0"], cwd=REPO,
                         env=env, capture_output=True, text=True)  # fmt: skip
    seconds = time.time() - started
    print(run.stdout[-500:], run.stderr[-500:])
    return {"messages": args.emails, "import_seconds": seconds,
            "emails_per_s": args.emails / seconds, "returncode": run.returncode}  # fmt: skip


def _mbox_safe(text: str) -> str:
    # A body line starting with "From " would start a new message in an mbox (mboxrd quoting).
    return "\n".join(">" + line if line.startswith("From ") else line for line in text.splitlines())


# --- results -----------------------------------------------------------------------------


def _rows(tag: str) -> list[tuple[float, float | None]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT extract(epoch from ingested_at), extract(epoch from classified_at) "
            "FROM inbox_email WHERE message_id LIKE %s",
            [f"{tag}-%"],
        )
        return [(float(a), float(b) if b is not None else None) for a, b in cursor.fetchall()]


def _wait_classified(tag: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = _rows(tag)
        if not rows:
            return False  # nothing was accepted
        if all(b is not None for _, b in rows):
            return True
        time.sleep(1)
    return False


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _latencies(tag: str, started: float, png: Path, args) -> dict:
    rows = _rows(tag)
    done = [(a, b) for a, b in rows if b is not None]
    lat = [b - a for a, b in done]
    classified = sorted(b for _, b in done)
    window = 5
    series = []
    end = max([a for a, _ in rows] + classified, default=started)
    for start in range(0, int(end - started) + 1, window):
        in_window = [b - a for a, b in done if start <= a - started < start + window]
        series.append({"t": start, "ingested_per_s": sum(1 for a, _ in rows if start <= a - started < start + window) / window,
                       "classified_per_s": sum(1 for b in classified if start <= b - started < start + window) / window,
                       "p50": _pct(in_window, 0.5), "p95": _pct(in_window, 0.95), "p99": _pct(in_window, 0.99)})  # fmt: skip
    drain = (len(classified) - 1) / (classified[-1] - classified[0]) if len(classified) > 1 and classified[-1] > classified[0] else None  # fmt: skip
    _plot(series, png, f"{args.scenario}: {len(rows)} emails, {args.workers} worker process(es)")
    return {
        "emails": len(rows), "classified": len(done),
        "latency_p50_s": _pct(lat, 0.5), "latency_p95_s": _pct(lat, 0.95), "latency_p99_s": _pct(lat, 0.99),
        "drain_emails_per_s": drain,
        "first_ingest_to_last_classified_s": (classified[-1] - min(a for a, _ in rows)) if classified else None,
        "series": series,
    }  # fmt: skip


def _plot(series: list[dict], png: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s["t"] for s in series]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    top.plot(t, [s["ingested_per_s"] for s in series], label="ingested / s")
    top.plot(t, [s["classified_per_s"] for s in series], label="classified / s")
    top.set_ylabel("emails / s")
    top.legend()
    top.set_title(title)
    for q in ("p50", "p95", "p99"):
        bottom.plot(t, [s[q] if s[q] is not None else float("nan") for s in series], label=q)
    bottom.set_ylabel("ingest → classified (s)")
    bottom.set_xlabel("seconds since the load started (5 s windows; latency by ingest time)")
    bottom.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)


def _print(r: dict) -> None:
    c, load = r["ceiling"], r["load"]
    print(f"\n{r['scenario']}: {r['emails']} emails, {r['workers']} worker process(es), "
          f"{r['web_workers']} gunicorn processes")  # fmt: skip
    if "requests" in load:
        print(f"  ingest: {load['requests_per_s']:.0f} requests/s = {load['emails_per_s']:.0f} emails/s, "
              f"{load['failures']} errors of {load['requests']} ({(load['error_rate'] or 0):.2%}); "
              f"response p50/p95/p99 {load['p50_ms']:.0f}/{load['p95_ms']:.0f}/{load['p99_ms']:.0f} ms")  # fmt: skip
    else:
        print(f"  import: {load['messages']} messages in {load['import_seconds']:.0f} s "
              f"({load['emails_per_s']:.0f} emails/s)")  # fmt: skip
    drain = r["drain_emails_per_s"]
    print(f"  workers drained {drain or 0:.0f} emails/s; model alone {c['emails_per_s']:.0f} emails/s "
          f"(batch 32, one thread) -> pipeline at {(drain or 0) / c['emails_per_s']:.0%} of the model")  # fmt: skip
    fmt = lambda v: "n/a" if v is None else f"{v:.2f}"  # noqa: E731
    print(f"  ingest -> classified p50/p95/p99: {fmt(r['latency_p50_s'])} / {fmt(r['latency_p95_s'])} / "
          f"{fmt(r['latency_p99_s'])} s; first ingest to last classified {fmt(r['first_ingest_to_last_classified_s'])} s; "
          f"all classified: {r['all_classified']}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
