"""A real Celery worker process logs through Django's LOGGING (issue 9): the app's format
(here JSON lines), each record's extras (email_id, task_id) and the card-number/IBAN mask,
also on lines Celery itself writes. The worker is a subprocess (`celery worker`), not a
thread, so nothing of the test process's logging set-up can leak into what it writes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from inbox.models import Email
from inbox.tests.factories import EmailFactory
from tests import localservices
from tests.helpers import wait_for

REPO = Path(__file__).resolve().parent.parent
PAN = "4111 1111 1111 1111"
IBAN = "GB82 WEST 1234 5698 7654 32"


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker_output(transactional_db, active_model, tmp_path):
    """(a Celery client for the worker's private broker, a function reading its log lines)."""
    log = tmp_path / "worker.log"
    with localservices.redis() as redis, log.open("w") as sink:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cleaninbox.settings",
            "DEBUG": "true",
            "LOG_FORMAT": "json",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": redis.url,
            # The worker reads the registry's artifact where the test put it.
            "CLEANINBOX_MODEL_DIR": str(Path(active_model.local_path).parent),
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "cleaninbox", "worker", "--pool", "solo", "-Q", "classify,celery",
             "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
        # Not the current app: shared tasks elsewhere in the suite must keep their own broker.
        client = Celery(broker=redis.url, set_as_current=False)
        try:
            yield client, lambda: log.read_text(encoding="utf-8", errors="replace")
        finally:
            worker.terminate()
            worker.wait(timeout=60)


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_worker_logs_json_with_email_ids_and_masks_pii(worker_output):
    client, read = worker_output
    email = EmailFactory(subject="Where is my card?", body_text="It has not arrived yet.")
    # Celery logs the whole body of a message it cannot run: a card number and an IBAN.
    client.send_task("cleaninbox.no_such_task", args=[f"card {PAN}", f"refund to {IBAN}"])
    client.send_task("classifier.tasks.classify_emails", args=[[email.pk]])
    assert wait_for(lambda: '"batch classified"' in read(), timeout=120), read()[-3000:]
    time.sleep(0.5)
    text = read()

    for secret in (PAN, PAN.replace(" ", ""), IBAN, IBAN.replace(" ", "")):
        assert secret not in text
    records = _records(text)
    unregistered = [r for r in records if "no_such_task" in r["message"]]
    assert unregistered and "**** **** **** 1111" in unregistered[0]["message"]
    classified = [r for r in records if r["message"] == "batch classified"]
    assert str(email.pk) in re.findall(r"\d+", str(classified[0]["email_ids"]))
    assert classified[0]["task_name"] == "classifier.tasks.classify_emails"
    assert classified[0]["task_id"]
    # Celery's own lines come in the app's format too (no "[2024-... : INFO/MainProcess]").
    assert any(r["logger"].startswith("celery") for r in records)
    assert "/MainProcess]" not in text
    assert Email.objects.get(pk=email.pk).status != Email.Status.PENDING
