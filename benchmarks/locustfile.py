"""Locust users for cleaninbox's ingest API; driven by benchmarks/load_test.py.

One user class per scenario (pick it by name on the locust command line):

- ``SingleEmail``: steady single POSTs to /api/emails/, each user at LOADTEST_RATE requests/s;
- ``BurstyEmail``: bursts of LOADTEST_BURST single POSTs back to back, then LOADTEST_IDLE s quiet;
- ``EmailBatch``: POSTs of LOADTEST_BATCH emails to /api/emails/batch/, as fast as answered.

Emails are BANKING77 test queries wrapped as customer mail; every Message-ID starts with
LOADTEST_TAG so the driver can find this run's emails and time them to classification.
A response other than 202 (single) or 200 with every item accepted (batch) is a failure.
"""

from __future__ import annotations

import csv
import itertools
import os
import random
import uuid
from pathlib import Path

from locust import constant, constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser

TOKEN = os.environ.get("LOADTEST_TOKEN", "")
TAG = os.environ.get("LOADTEST_TAG", "load")
RATE = float(os.environ.get("LOADTEST_RATE", "10"))
BATCH = int(os.environ.get("LOADTEST_BATCH", "500"))
BURST = int(os.environ.get("LOADTEST_BURST", "50"))
IDLE = float(os.environ.get("LOADTEST_IDLE", "5"))
QUERIES = Path(os.environ.get("LOADTEST_QUERIES", "../shared/data/banking77/test.csv"))

with QUERIES.open(newline="", encoding="utf-8") as fh:
    TEXTS = [row["text"] for row in csv.DictReader(fh)]
_counter = itertools.count()


def email() -> dict:
    n = next(_counter)
    return {
        "message_id": f"<{TAG}-{uuid.uuid4().hex}@load.example>",
        "sender": f"customer{n % 5000}@mail.example",
        "subject": "",
        "body_text": f"Hello,\n\n{random.choice(TEXTS)}\n\nThanks,\nA customer",
    }


class _Api(FastHttpUser):
    abstract = True
    connection_timeout = 10
    network_timeout = 60
    default_headers = {"Authorization": f"Token {TOKEN}"}

    def post_one(self) -> None:
        with self.client.post("/api/emails/", json=email(), name="single",
                              catch_response=True) as response:  # fmt: skip
            if response.status_code != 202:
                response.failure(f"{response.status_code}: {response.text[:200]}")


class SingleEmail(_Api):
    wait_time = constant_throughput(RATE)

    @task
    def single(self) -> None:
        self.post_one()


class BurstyEmail(_Api):
    wait_time = constant(IDLE)

    @task
    def burst(self) -> None:
        for _ in range(BURST):
            self.post_one()


class EmailBatch(_Api):
    wait_time = constant(0)

    @task
    def batch(self) -> None:
        items = [email() for _ in range(BATCH)]
        with self.client.post("/api/emails/batch/", json=items, name=f"batch of {BATCH}",
                              catch_response=True) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")
            elif response.json().get("accepted") != BATCH:
                response.failure(f"accepted {response.json().get('accepted')} of {BATCH}")
