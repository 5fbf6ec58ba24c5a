"""One measured turn of the closed loop on this machine, with live mail flowing.

    DATABASE_URL=postgres://…/scratch CELERY_BROKER_URL=redis://…/N REDIS_URL=redis://…/M \\
    CLEANINBOX_MODEL_DIR=var/loop/models CLEANINBOX_DATA_DIR=var/data/banking77 \\
    .venv/bin/python benchmarks/loop_cycle.py --production PATH/minilm-…-onnx-int8 \\
        [--corrections 250] [--rate 2] [--baseline 90] [--shadow 120] [--training-nice 15]
        [--out FILE]

Against a scratch database (migrated here) it: copies and promotes the production version;
starts a classify worker, a maintenance worker, a training worker under ``nice -n 15`` and
beat (policy asked every 20 s); sends live mail at ``--rate`` emails/s throughout (the
ingestion service, as the API does); after a quiet baseline, has agents correct
``--corrections`` emails (BANKING77 train queries, true labels) so that the policy
retrains; waits for the cycle; then sends ``--shadow`` more emails, corrects them, and lets
the gates decide. Prints (and writes to ``--out``) each step's time, the gates, and the
ingest→classified latency before and during the retrain.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cleaninbox.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from inbox import services  # noqa: E402
from inbox.models import Email  # noqa: E402
from mlops import data, registry  # noqa: E402
from mlops.models import CandidateState, ModelEvent, RetrainRun, ShadowPrediction  # noqa: E402


def workers(log_dir: Path, training_nice: int) -> list[subprocess.Popen]:
    celery = [sys.executable, "-m", "celery", "-A", "cleaninbox"]
    common = ["--loglevel=INFO", "--without-gossip", "--without-mingle", "--concurrency=1"]
    env = {
        **os.environ,
        "CLEANINBOX_RETRAIN_INTERVAL": "20",
        "CLEANINBOX_LOOP_CHECK_INTERVAL": "30",
    }
    commands = {
        "classify": [*celery, "worker", "-Q", "classify", "-n", "classify@%h", *common],
        "maintenance": [*celery, "worker", "-Q", "maintenance", "-n", "maintenance@%h", *common],
        # The training queue at the lowest share of the CPU: classification comes first.
        "training": [
            "nice",
            "-n",
            "15",
            *celery,
            "worker",
            "-Q",
            "training",
            "-n",
            "training@%h",
            *common,
        ],  # fmt: skip
        "beat": [*celery, "beat", "--loglevel=INFO", f"--schedule={log_dir / 'beat-schedule'}"],
    }
    for port, name in enumerate(("classify", "maintenance", "training"), start=9871):
        commands[name] = ["env", f"CLEANINBOX_WORKER_METRICS_PORT={port}", *commands[name]]
    return [
        subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=(log_dir / f"{name}.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        for name, cmd in commands.items()
    ]


class Mail(threading.Thread):
    """Live mail at ``rate`` emails/s, each tagged with the phase it was sent in."""

    def __init__(self, queries: list[str], rate: float) -> None:
        super().__init__(daemon=True)
        self.queries, self.rate, self.phase, self.n = queries, rate, "baseline", 0
        self.stopped = threading.Event()

    def run(self) -> None:
        from django.db import connection

        while not self.stopped.is_set():
            text = self.queries[self.n % len(self.queries)]
            services.ingest_many([services.IncomingEmail(
                message_id=f"<{self.phase}-{self.n}-{time.time_ns()}@live.example>",
                sender="customer@live.example", body_text=text,
            )])  # fmt: skip
            self.n += 1
            self.stopped.wait(1 / self.rate)
        connection.close()


class Load(threading.Thread):
    """The machine's 1-minute load average every 10 s (two cores: above 2 is contention)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        while not self.stopped.wait(10):
            self.samples.append((round(time.monotonic() - start), os.getloadavg()[0]))

    def summary(self) -> dict:
        values = [v for _, v in self.samples] or [0.0]
        return {"mean": round(float(np.mean(values)), 2), "max": round(max(values), 2),
                "samples": self.samples}  # fmt: skip


def latency(prefix: str) -> dict:
    rows = Email.objects.filter(message_id__startswith=f"<{prefix}-", classified_at__isnull=False)
    seconds = np.array([(c - i).total_seconds() for i, c in rows.values_list("ingested_at", "classified_at")])  # fmt: skip
    if not len(seconds):
        return {"n": 0}
    return {
        "n": len(seconds),
        "p50": round(float(np.percentile(seconds, 50)), 3),
        "p95": round(float(np.percentile(seconds, 95)), 3),
        "max": round(float(seconds.max()), 3),
    }


def correct(prefix: str, pairs: list[tuple[str, str]], agent, label: bool = True) -> list[Email]:
    """Store these queries as emails, wait until classified, then correct them to their labels."""
    results = services.ingest_many([
        services.IncomingEmail(message_id=f"<{prefix}-{i}@agents.example>",
                               sender="customer@mail.example", body_text=text)
        for i, (text, _) in enumerate(pairs)
    ])  # fmt: skip
    ids = [r.email.pk for r in results]
    waiting = Email.objects.filter(pk__in=ids, classified_at__isnull=True)
    while waiting.exists():
        time.sleep(1)
    emails = Email.objects.filter(pk__in=ids).order_by("pk")
    for email, (_, intent) in zip(emails, pairs, strict=True) if label else ():
        services.record_correction(email, intent, agent, via="ui")
    return list(Email.objects.filter(pk__in=ids))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--production", type=Path, required=True)
    parser.add_argument("--corrections", type=int, default=250)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--baseline", type=int, default=90)
    parser.add_argument("--shadow", type=int, default=120)
    parser.add_argument("--training-nice", type=int, default=15,
                        help="nice level of the training worker (Procfile.dev: 15)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=ROOT / "var/loop/cycle.json")
    args = parser.parse_args()
    log_dir = args.out.parent / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)

    call_command("migrate", verbosity=0)
    data_dir = Path(settings.CLEANINBOX_DATA_DIR)
    if not (data_dir / "manifest.json").is_file():
        data.prepare(settings.CLEANINBOX_DATA_SOURCE or None, data_dir, progress=False)
    dest = Path(settings.CLEANINBOX_MODEL_DIR) / args.production.name
    if not dest.exists():
        shutil.copytree(args.production, dest)
    registry.promote(registry.register(dest).version)
    agent, _ = get_user_model().objects.get_or_create(username="loop-agent")
    texts, labels = data.load_split(data_dir, "train")
    pairs = random.Random(0).sample(list(zip(texts, labels, strict=True)), args.corrections + args.shadow)  # fmt: skip
    test_texts, _ = data.load_split(data_dir, "validation")  # live mail the model never trained on

    procs = workers(log_dir, args.training_nice)
    mail = Mail(test_texts, args.rate)
    load = Load()
    summary: dict = {"rate": args.rate, "training_nice": args.training_nice}
    try:
        load.start()
        warm = correct(
            "warmup", [(test_texts[0], "")], agent, label=False
        )  # the classify worker is up and loaded
        summary["warmup_email"] = warm[0].pk
        mail.start()
        time.sleep(args.baseline)
        mail.phase = "corrections"  # a burst of 250 emails to classify, then the agents' work
        started = time.monotonic()
        correct("corrected", pairs[: args.corrections], agent)
        summary["corrections_seconds"] = round(time.monotonic() - started, 1)
        while not RetrainRun.objects.exists():
            time.sleep(1)
        mail.phase = "retrain"
        while not RetrainRun.objects.exclude(status="running").exists():
            time.sleep(5)
        mail.phase = "after"
        run = RetrainRun.objects.get()
        summary["run"] = {
            "status": run.status, "error": run.error, "reasons": run.reasons,
            "steps": run.steps, "candidate": run.candidate_version,
            "wall_seconds": round((run.finished_at - run.created_at).total_seconds(), 1),
        }  # fmt: skip
        print(json.dumps(summary["run"], indent=1), flush=True)
        if run.status == "succeeded" and args.shadow:
            correct("shadowed", pairs[args.corrections :], agent)
            state = CandidateState.objects.get(version__version=run.candidate_version)
            deadline = time.monotonic() + 600
            while state.verdict == "pending" and time.monotonic() < deadline:
                time.sleep(5)
                state.refresh_from_db()
            summary["shadow_answers"] = ShadowPrediction.objects.count()
            summary["verdict"] = {"verdict": state.verdict, "reason": state.reason, "gates": state.gates}  # fmt: skip
            summary["events"] = list(ModelEvent.objects.values_list("kind", "version", "reason"))
        time.sleep(10)
    finally:
        mail.stopped.set()
        if mail.is_alive():
            mail.join(timeout=10)
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)
    load.stopped.set()
    summary["load_average"] = load.summary()
    summary["latency"] = {
        phase: latency(phase) for phase in ("baseline", "corrections", "retrain", "after")
    }
    summary["production_at_end"] = registry.active().version
    args.out.write_text(json.dumps(summary, indent=1, default=str))
    print(json.dumps(summary, indent=1, default=str))


if __name__ == "__main__":
    main()
