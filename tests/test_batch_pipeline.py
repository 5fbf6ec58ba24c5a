"""The batch path with real parts: a real Celery worker on Redis, PostgreSQL row claims,
a worker process killed with SIGKILL, and a Redis of our own frozen with SIGSTOP.

What must hold: emails from separate requests share one model call; a worker that dies
mid-batch loses nothing (its lease runs out, the sweep nudges, another worker takes the
rows); an agent's correction is never overwritten; every email is classified once;
above the backlog limit ingestion answers 503 with Retry-After and stores nothing; and
with the broker hung, a batch still gets its per-item answers at once.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from classifier import services as classifier_services
from conftest import REPO, TEST_BROKER_URL, purge_queues
from inbox import backpressure, nudge, services
from inbox.models import Email
from inbox.tests.factories import EmailFactory, email_payload
from tests.helpers import wait_for

CARD_ARRIVAL = "I still have not received my new card, it has been two weeks"


@pytest.fixture(autouse=True)
def _fresh_backlog_count():
    backpressure.forget()
    yield
    backpressure.forget()


def test_emails_from_separate_requests_are_classified_in_one_batch(
    celery_worker, active_model, api_client, settings
):
    settings.CLEANINBOX_CLASSIFY_LINGER_MS = 1500  # wide, so a loaded machine still batches
    ids = []
    for n in range(8):
        response = api_client.post("/api/emails/", email_payload(300 + n), format="json")
        assert response.status_code == 202
        ids.append(response.json()["id"])

    assert wait_for(lambda: not Email.objects.filter(pk__in=ids, status="pending").exists())
    rows = Email.objects.filter(pk__in=ids)
    # One bulk write stamps every row of a batch with the same time.
    assert len({r.classified_at for r in rows}) == 1
    assert {r.intent for r in rows} == {"card_arrival"}
    assert {r.attempts for r in rows} == {1}


@pytest.mark.django_db(transaction=True)
def test_two_workers_draining_at_once_classify_every_email_exactly_once(active_model, settings):
    settings.CLEANINBOX_CLASSIFY_BATCH = 16
    emails = EmailFactory.create_batch(200, body_text=CARD_ARRIVAL)
    written = []

    def drain():
        try:
            written.append(classifier_services.classify_pending(time_budget=120))
        finally:
            connection.close()

    workers = [threading.Thread(target=drain) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=180)

    assert sum(written) == 200
    assert all(n > 0 for n in written), f"every worker took a share: {written}"
    rows = Email.objects.filter(pk__in=[e.pk for e in emails])
    assert set(rows.values_list("attempts", flat=True)) == {1}
    assert not rows.filter(status="pending").exists()
    assert not rows.filter(claimed_until__isnull=False).exists()


@pytest.mark.django_db
def test_a_correction_made_while_the_batch_is_predicted_is_not_overwritten(active_model, agent):
    emails = EmailFactory.create_batch(3, body_text=CARD_ARRIVAL)
    claimed = classifier_services.claim(10)
    assert {e.pk for e in claimed} == {e.pk for e in emails}
    # The agent answers while the worker holds the rows and predicts.
    services.record_correction(emails[0], "card_delivery_estimate", agent)

    from classifier import runtime

    assert classifier_services.classify_claimed(claimed, runtime.active_classifier()) == 2
    corrected = Email.objects.get(pk=emails[0].pk)
    assert corrected.intent == "card_delivery_estimate"
    assert (corrected.predicted_intent, corrected.model_version, corrected.attempts) == ("", "", 0)
    others = Email.objects.filter(pk__in=[emails[1].pk, emails[2].pk])
    assert set(others.values_list("intent", flat=True)) == {"card_arrival"}


@pytest.mark.django_db
def test_claimed_rows_are_left_alone_until_their_lease_runs_out(active_model):
    email = EmailFactory(body_text=CARD_ARRIVAL)
    assert [e.pk for e in classifier_services.claim(10)] == [email.pk]
    assert classifier_services.claim(10) == []  # held by the first worker
    assert classifier_services.classify_pending(time_budget=5) == 0
    Email.objects.filter(pk=email.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert classifier_services.classify_pending(time_budget=5) == 1


def _worker_env(**extra: str) -> dict[str, str]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": TEST_BROKER_URL,
        "CLEANINBOX_TEST_DB_NAME": "",
        **extra,
    }
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def test_a_worker_killed_mid_batch_loses_nothing_and_its_rows_are_classified_once(
    transactional_db, active_model, settings, tmp_path
):
    from cleaninbox.celery import app

    purge_queues(app)
    # A separate worker process that claims its batch, then lingers 60 s for more mail:
    # a wide window in which to kill it with the batch in hand.
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cleaninbox", "worker", "-P", "solo", "-Q", "classify",
         "--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel=WARNING"],
        cwd=REPO,
        env=_worker_env(
            CLEANINBOX_CLASSIFY_LINGER_MS="60000", CLEANINBOX_CLAIM_LEASE_SECONDS="10",
            CLEANINBOX_MODEL_DIR=str(settings.CLEANINBOX_MODEL_DIR),
        ),
        stdout=(tmp_path / "worker.log").open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        ids = [e.pk for e in EmailFactory.create_batch(5, body_text=CARD_ARRIVAL)]
        nudge.request()
        held = Email.objects.filter(pk__in=ids, claimed_until__isnull=False)
        assert wait_for(lambda: held.count() == 5, timeout=90), (
            tmp_path / "worker.log"
        ).read_text()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert Email.objects.filter(pk__in=ids, status="pending").count() == 5  # nothing written
    assert classifier_services.claim(10) == []  # the dead worker's lease still holds

    from celery.contrib.testing.worker import start_worker

    from conftest import QUEUES

    with start_worker(app, pool="solo", perform_ping_check=False, queues=QUEUES):
        # The lease runs out; the beat sweep notices the waiting emails and nudges.
        assert wait_for(
            lambda: services.sweep_pending(older_than=timedelta(0)) > 0, timeout=30, interval=0.5
        )
        assert wait_for(
            lambda: not Email.objects.filter(pk__in=ids, status="pending").exists(), timeout=60
        )
    rows = Email.objects.filter(pk__in=ids)
    assert set(rows.values_list("intent", flat=True)) == {"card_arrival"}
    assert set(rows.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_sweeps_queued_behind_a_backlog_send_one_small_nudge_each_never_the_same_ids():
    import json

    from cleaninbox.celery import app

    purge_queues(app)
    EmailFactory.create_batch(300)
    Email.objects.update(ingested_at=timezone.now() - timedelta(minutes=10))
    for _ in range(5):  # five sweeps that waited behind a backlog run back to back
        assert services.sweep_pending(older_than=timedelta(minutes=1)) == 300
    assert nudge.flush(timeout=15)
    with app.connection_for_write() as conn:
        messages = conn.default_channel.client.lrange("classify", 0, -1)
    purge_queues(app)
    assert 1 <= len(messages) <= 5  # coalesced nudges, not 5 x 300 re-queued ids
    for raw in messages:
        message = json.loads(raw)
        assert message["headers"]["task"] == "classifier.tasks.classify_pending"
        assert message["headers"]["argsrepr"] == "()"


# --- backpressure ------------------------------------------------------------------------


@pytest.mark.django_db
def test_over_the_backlog_limit_ingestion_answers_503_with_retry_after_and_stores_nothing(
    api_client, settings
):
    settings.CLEANINBOX_MAX_BACKLOG = 3
    settings.CLEANINBOX_BACKLOG_RETRY_AFTER = 7
    EmailFactory.create_batch(3)
    before = Email.objects.count()

    single = api_client.post("/api/emails/", email_payload(1), format="json")
    batch = api_client.post("/api/emails/batch/", [email_payload(2)], format="json")
    raw = api_client.post(
        "/api/emails/raw/", {"raw": "From: a@b.example\nSubject: card\n\nwhere is my card"},
        format="json",
    )  # fmt: skip

    for response in (single, batch, raw):
        assert response.status_code == 503
        assert response["Retry-After"] == "7"
        assert response.json()["code"] == "backlog"
    assert Email.objects.count() == before

    Email.objects.update(status=Email.Status.CLASSIFIED)  # the workers caught up
    backpressure.forget()
    assert api_client.post("/api/emails/", email_payload(1), format="json").status_code == 202


@pytest.mark.django_db(transaction=True)
def test_imap_polling_waits_while_the_backlog_is_over_the_limit(settings):
    from inbox import imap

    settings.CLEANINBOX_MAX_BACKLOG = 1
    EmailFactory()
    # An address nobody listens on: a deferred poll does not even connect.
    config = imap.ImapConfig(host="127.0.0.1", port=1, user="u", password="p", tls="plain")
    summary = imap.poll_mailbox(config)
    assert summary.deferred and summary.fetched == 0
    assert "deferred:" in summary.lines()[0]


@pytest.mark.django_db(transaction=True)
def test_an_import_waits_for_the_backlog_then_stores_everything(settings, tmp_path):
    from inbox.importing import import_paths

    settings.CLEANINBOX_MAX_BACKLOG = 2
    settings.CLEANINBOX_BACKLOG_RETRY_AFTER = 1
    settings.CLEANINBOX_IMPORT_CHUNK = 2
    settings.CLEANINBOX_BACKLOG_CACHE_SECONDS = 0
    for n in range(4):
        (tmp_path / f"{n}.eml").write_text(
            f"From: c{n}@mail.example\nMessage-ID: <imp-{n}@x>\nSubject: card\n\nmy card {n}\n"
        )

    done = threading.Event()

    def workers_catch_up():  # stands for the classification workers draining the backlog
        try:
            while not done.wait(1.5):
                Email.objects.filter(status="pending").update(status=Email.Status.CLASSIFIED)
        finally:
            connection.close()

    helper = threading.Thread(target=workers_catch_up)
    started = time.monotonic()
    helper.start()
    try:
        summary = import_paths([tmp_path])
    finally:
        done.set()
        helper.join()
    assert summary.imported == 4 and not summary.rejected
    assert time.monotonic() - started >= 1  # it waited at least once for the second chunk
    assert Email.objects.filter(message_id__startswith="imp-").count() == 4


# --- a hung broker -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def own_redis(tmp_path: Path):
    """A redis-server of our own on a free loopback port (never the shared one)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert wait_for(lambda: _answers(port), timeout=10)
        yield proc, f"redis://127.0.0.1:{port}/0"
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout=10)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _switch_broker(app, url: str) -> None:
    app.conf.broker_url = url
    app._after_fork()


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_hung_a_batch_still_gets_every_per_item_answer_at_once(
    api_client, tmp_path
):
    from cleaninbox.celery import app

    good_broker = app.conf.broker_url
    with own_redis(tmp_path) as (redis_proc, url):
        _switch_broker(app, url)
        try:
            nudge.publish()  # a warm connection, as a running web process has
            redis_proc.send_signal(signal.SIGSTOP)  # hung, not dead: sockets stay open
            started = time.monotonic()
            batch = api_client.post(
                "/api/emails/batch/", [email_payload(500 + n) for n in range(20)], format="json"
            )
            single = api_client.post("/api/emails/", email_payload(600), format="json")
            elapsed = time.monotonic() - started
            assert batch.status_code == 200
            assert [r["result"] for r in batch.json()["results"]] == ["accepted"] * 20
            assert single.status_code == 202
            assert elapsed < 3, f"ingest waited {elapsed:.1f} s for a hung broker"
            assert Email.objects.filter(status="pending").count() == 21

            redis_proc.send_signal(signal.SIGCONT)  # Redis is back: the nudge goes out
            assert nudge.flush(timeout=30)
            with app.connection_for_write() as conn:
                assert conn.default_channel.client.llen("classify") >= 1
        finally:
            _switch_broker(app, good_broker)


@pytest.mark.django_db
def test_ingestion_and_classification_report_their_metrics(api_client, active_model):
    from prometheus_client import REGISTRY

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = {
        "accepted": value("cleaninbox_emails_ingested_total", source="api", result="accepted"),
        "rejected": value("cleaninbox_emails_ingested_total", source="api", result="rejected"),
        "batches": value("cleaninbox_classify_batch_size_count"),
        "latency": value("cleaninbox_ingest_to_classified_seconds_count"),
        "calls": value("cleaninbox_ingest_seconds_count", source="api"),
    }
    items = [email_payload(700), email_payload(701), {"sender": "no id"}]
    assert api_client.post("/api/emails/batch/", items, format="json").status_code == 200
    ids = list(Email.objects.values_list("pk", flat=True))
    assert classifier_services.classify_emails(ids) == 2

    assert value("cleaninbox_emails_ingested_total", source="api", result="accepted") == before["accepted"] + 2  # fmt: skip
    assert value("cleaninbox_emails_ingested_total", source="api", result="rejected") == before["rejected"] + 1  # fmt: skip
    assert value("cleaninbox_ingest_seconds_count", source="api") == before["calls"] + 1
    assert value("cleaninbox_classify_batch_size_count") == before["batches"] + 1
    assert value("cleaninbox_ingest_to_classified_seconds_count") == before["latency"] + 2
