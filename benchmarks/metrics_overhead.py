"""What metrics add to ingest and classification time (target: under 5%).

    .venv/bin/python benchmarks/metrics_overhead.py --model /path/to/model-version -n 300

Needs DATABASE_URL (PostgreSQL; a scratch database `<name>_metrics_bench` is created and
dropped) and a Redis for the broker (CELERY_BROKER_URL, default REDIS_URL). It measures:

1. the real work: `ingest_email` per email (with its after-commit queueing on the broker)
   and `classify_emails` per batch of CLEANINBOX_PREDICT_BATCH with the given model;
2. the metric operations that instrument them, exactly as cleaninbox.metrics declares
   them, in single-process mode and in multiprocess mode (PROMETHEUS_MULTIPROC_DIR, as
   gunicorn and worker nodes run), plus the Celery signal handlers of a task;
3. an A/B of API ingestion with and without django-prometheus's middleware;
4. one scrape of the database figures (collectors) at this table size.

Per ingested email: EMAILS_INGESTED.inc + INGEST_SECONDS.observe. Per classified batch:
CLASSIFY_BATCH_SIZE.observe + MODEL_PREDICT_SECONDS.observe + the task's signal handlers,
and per email in it INGEST_TO_CLASSIFIED_SECONDS.observe + EMAILS_CLASSIFIED.inc +
CLASSIFICATION_CONFIDENCE.observe.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def metric_ops(rounds: int, batch: int) -> dict[str, float]:
    """Microseconds per ingested email and per classified batch, in this process's mode."""
    from cleaninbox import metrics
    from cleaninbox.monitoring import worker

    def per_ingest() -> None:
        metrics.EMAILS_INGESTED.labels("api", "accepted").inc()
        metrics.INGEST_SECONDS.labels("api").observe(0.012)

    class _Task:
        name = "classifier.tasks.classify_emails"

        class request:  # noqa: N801 - mimics celery's Task.request
            delivery_info = {"routing_key": "classify"}

    def per_batch() -> None:
        worker._task_prerun(task_id="t")
        metrics.CLASSIFY_BATCH_SIZE.observe(batch)
        metrics.MODEL_PREDICT_SECONDS.labels("onnx").observe(0.2)
        for i in range(batch):
            metrics.INGEST_TO_CLASSIFIED_SECONDS.observe(0.4)
            metrics.EMAILS_CLASSIFIED.labels("classified", "v1").inc()
            metrics.CLASSIFICATION_CONFIDENCE.observe(0.5 + i / (2 * batch))
        worker._task_postrun(task_id="t", task=_Task, state="SUCCESS")

    out = {}
    for name, fn in (("ingest_us", per_ingest), ("batch_us", per_batch)):
        fn()  # first call creates the series (and, in multiprocess mode, the files)
        started = time.perf_counter()
        for _ in range(rounds):
            fn()
        out[name] = (time.perf_counter() - started) / rounds * 1e6
    return out


def metric_ops_multiprocess(rounds: int, batch: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="metrics-bench-") as folder:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": folder}
        code = (
            "import json, django; django.setup();"
            "from benchmarks.metrics_overhead import metric_ops;"
            f"print(json.dumps(metric_ops({rounds}, {batch})))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
        )
        if done.returncode:
            raise SystemExit(done.stderr)
        return json.loads(done.stdout.strip().splitlines()[-1])


def _incoming(i: int, texts: list[str]):
    from inbox.services import IncomingEmail

    return IncomingEmail(
        message_id=f"<bench-{uuid.uuid4()}@bench.example>",
        sender=f"c{i}@mail.example",
        subject="Question",
        body_text=texts[i % len(texts)],
    )


def real_work(n: int, model: Path, texts: list[str]) -> dict[str, float]:
    from django.conf import settings
    from django.db import transaction

    from classifier import runtime
    from classifier.services import classify_emails
    from inbox.services import ingest_email
    from mlops import registry

    ids, ingest_times = [], []
    for i in range(n):
        started = time.perf_counter()
        with transaction.atomic():  # commit included: queueing happens on commit
            ids.append(ingest_email(_incoming(i, texts)).email.pk)
        ingest_times.append(time.perf_counter() - started)

    registry.promote(registry.register(model).version)
    runtime.forget()
    runtime.active_classifier()  # load once, as a worker does, before timing
    batch = settings.CLEANINBOX_PREDICT_BATCH
    batch_times = []
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        if len(chunk) < batch:
            break
        started = time.perf_counter()
        classify_emails(chunk)
        batch_times.append(time.perf_counter() - started)
    return {
        "ingest_ms": statistics.median(ingest_times) * 1000,
        "batch_ms": statistics.median(batch_times) * 1000,
        "batches": len(batch_times),
    }


def middleware_ab(n: int, texts: list[str]) -> dict[str, float]:
    """Median API POST time with and without django-prometheus, alternating requests."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings
    from rest_framework.authtoken.models import Token

    user, _ = get_user_model().objects.get_or_create(username="bench")
    token = Token.objects.get_or_create(user=user)[0].key
    plain = [m for m in settings.MIDDLEWARE if not m.startswith("django_prometheus")]
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    times: dict[str, list[float]] = {"with": [], "without": []}
    for i in range(n):
        for label in ("with", "without") if i % 2 else ("without", "with"):
            body = {"message_id": f"<ab-{uuid.uuid4()}@x>", "sender": "c@mail.example",
                    "subject": "Q", "body_text": texts[i % len(texts)]}  # fmt: skip
            middleware = settings.MIDDLEWARE if label == "with" else plain
            with override_settings(MIDDLEWARE=middleware):
                started = time.perf_counter()
                response = client.post("/api/emails/", body, content_type="application/json")
                times[label].append(time.perf_counter() - started)
            assert response.status_code == 202, response.content
    return {label: statistics.median(values) * 1000 for label, values in times.items()}


def scrape_ms() -> dict[str, float]:
    """Milliseconds per scrape-time source, and in all (warm: connections open)."""
    from cleaninbox.monitoring.collectors import COLLECTOR

    COLLECTOR._read()
    out = {}
    for source in COLLECTOR.sources:
        started = time.perf_counter()
        list(source())
        out[source.__name__] = (time.perf_counter() - started) * 1000
    out["all"] = sum(out.values())
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True, help="a model version folder")
    parser.add_argument("-n", type=int, default=320, help="emails to ingest and classify")
    parser.add_argument("--rounds", type=int, default=2000, help="repetitions of the metric ops")
    parser.add_argument("--queries", type=Path, default=REPO / "../shared/data/banking77/test.csv")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cleaninbox.settings")
    import csv

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from cleaninbox.celery import app

    with args.queries.open(newline="", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    batch = settings.CLEANINBOX_PREDICT_BATCH
    app.conf.broker_url = os.environ.get("CELERY_BROKER_URL", settings.CELERY_BROKER_URL)

    name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = f"{name}_metrics_bench"
    old = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        work = real_work(args.n, args.model, texts)
        ab = middleware_ab(min(args.n, 200), texts)
        scrape = scrape_ms()
    finally:
        app.control.purge()
        connection.creation.destroy_test_db(old, verbosity=0)

    single = metric_ops(args.rounds, batch)
    multi = metric_ops_multiprocess(args.rounds, batch)
    print(f"model: {args.model.name}; {args.n} emails; batch {batch}")
    print(f"ingest_email (stored + queued): median {work['ingest_ms']:.2f} ms per email")
    print(f"classify_emails: median {work['batch_ms']:.1f} ms per batch of {batch}")
    for mode, ops in (("single-process", single), ("multiprocess", multi)):
        print(
            f"metric ops, {mode}: {ops['ingest_us']:.1f} us per email ingested "
            f"({ops['ingest_us'] / 10 / work['ingest_ms']:.3f}%), "
            f"{ops['batch_us']:.0f} us per batch classified "
            f"({ops['batch_us'] / 10 / work['batch_ms']:.3f}%)"
        )
    extra = (ab["with"] - ab["without"]) / ab["without"] * 100
    print(
        f"API POST median: {ab['with']:.2f} ms with django-prometheus, "
        f"{ab['without']:.2f} ms without ({extra:+.1f}%)"
    )
    parts = ", ".join(f"{k} {v:.1f}" for k, v in scrape.items() if k != "all")
    print(
        f"one scrape of the database figures ({args.n + min(args.n, 200)} emails): "
        f"{scrape['all']:.1f} ms ({parts})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
