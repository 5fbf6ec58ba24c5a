"""The hand-off end to end: a real Celery worker drains the outbox to a real HTTP receiver
(checking signatures, de-duplicating by webhook-id) and a real SMTP server (aiosmtpd),
including both being down for a while, a receiver that answers too late, and a drain
killed in the middle of a request."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection

from inbox import services
from inbox.handoff import receivers, tasks
from inbox.handoff.models import CannedReply, Delivery, WebhookEndpoint
from inbox.models import Email, IntentRoute, Team
from inbox.tests.factories import EmailFactory, email_payload
from inbox.tests.handoff_servers import SMTPServer, WebhookReceiver, wait_until

REPO = Path(__file__).resolve().parents[2]

SECRET = "whsec_" + "dGVzdC1zZWNyZXQtZm9yLXRoZS1oYW5kLW9mZi10ZXN0cw=="


@pytest.fixture
def receiver():
    server = WebhookReceiver(secret=SECRET).start()
    yield server
    server.stop()


@pytest.fixture
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def handoff_settings(settings, smtp):
    """Fast retries, and team mail to the test's SMTP server (pytest-django would keep it
    in memory)."""
    settings.CLEANINBOX_HANDOFF_RETRY_BASE_SECONDS = 0.4
    settings.CLEANINBOX_HANDOFF_RETRY_MAX_SECONDS = 1.5
    settings.CLEANINBOX_HANDOFF_TIMEOUT = 1.5
    settings.CLEANINBOX_HANDOFF_MAX_ATTEMPTS = 100
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", smtp.port, 2
    cache.delete(tasks.FOLLOW_UP_KEY)
    return settings


@pytest.fixture
def cards(transactional_db):
    return Team.objects.create(name="Cards", slug="cards", email="cards@helpdesk.example")


def sent(n: int) -> bool:
    return Delivery.objects.filter(status="sent").count() == n


def test_an_email_ingested_over_http_reaches_the_webhook_and_a_correction_the_team_mailbox(
    celery_worker, active_model, api_client, receiver, smtp, handoff_settings, cards
):
    handoff_settings.CLEANINBOX_REVIEW_THRESHOLD = 0.01
    WebhookEndpoint.objects.create(name="helpdesk", url=receiver.url, secret=SECRET)
    CannedReply.objects.create(
        intent="lost_or_stolen_card", title="Card blocked", body="Dear {{ first_name }}, ..."
    )
    started = time.monotonic()
    response = api_client.post(
        "/api/emails/",
        email_payload(1, body_text="I still have not received my new card, it has been two weeks"),
        format="json",
    )
    assert response.status_code == 202
    assert wait_until(lambda: len(receiver.processed) == 1, timeout=60)
    routed_after = time.monotonic() - started
    (payload,) = receiver.processed.values()
    assert payload["type"] == "email.routed"
    assert payload["data"]["intent"]["name"] == "card_arrival"
    assert all(r.signature_ok for r in receiver.requests)

    email = Email.objects.get(pk=response.data["id"])
    # The corrected intent's route (inbox.triage) sends it to Cards, whose mailbox gets it.
    IntentRoute.objects.update_or_create(key="lost_or_stolen_card", defaults={"team": cards})
    corrected = time.monotonic()
    services.record_correction(email, "lost_or_stolen_card", user=None, via="ui")
    assert wait_until(lambda: len(receiver.processed) == 2 and len(smtp.messages) == 1)
    handed_off_after = time.monotonic() - corrected
    sys.stderr.write(f"\nrouted->webhook {routed_after:.2f}s (includes classification); "
                     f"corrected->webhook+mail {handed_off_after:.2f}s\n")  # fmt: skip
    rerouted = [p for p in receiver.processed.values() if p["type"] == "email.rerouted"]
    assert rerouted[0]["data"]["previous"] == {"intent": "card_arrival", "team": None}
    (message,) = smtp.messages
    assert message["To"] == "cards@helpdesk.example"
    assert message["Reply-To"] == "customer1@mail.example"
    assert "Lost or stolen card" in message["Subject"]
    text = message.get_payload(decode=True).decode()
    assert "I still have not received my new card" in text
    assert "Dear Jane, ..." in text
    row = Delivery.objects.get(kind="email")
    assert message["Message-ID"] == f"<{row.uuid}@cleaninbox>"
    assert routed_after < 30 and handed_off_after < 10  # nudged after commit, not left to beat


def test_receivers_down_for_a_while_get_everything_once_when_back(
    celery_worker, receiver, smtp, handoff_settings, cards
):
    WebhookEndpoint.objects.create(name="helpdesk", url=receiver.url, secret=SECRET)
    IntentRoute.objects.update_or_create(key="card_arrival", defaults={"team": cards})
    receiver.stop()
    smtp.stop()
    emails = [
        EmailFactory(status=Email.Status.NEEDS_REVIEW, intent="card_arrival", team=cards)
        for _ in range(5)
    ]
    for email in emails:
        services.record_correction(email, "card_arrival", user=None, via="ui")
    assert Delivery.objects.count() == 10  # a webhook and a mail per email, none lost

    # Both receivers down: every row is tried, fails, and is retried, nothing is dropped.
    assert wait_until(
        lambda: Delivery.objects.filter(status="pending", attempts__gte=2).count() == 10,
        timeout=30,
    )
    row = Delivery.objects.filter(kind="webhook").first()
    assert "ConnectionError" in row.last_error and row.sent_at is None
    assert "refused" in Delivery.objects.filter(kind="email").first().last_error.lower()

    # The webhook receiver comes back, but answers its first request too late: it has
    # processed it, the sender has given up waiting and sends it again.
    slow_once = threading.Event()

    def first_answer_is_late(request):
        if not slow_once.is_set():
            slow_once.set()
            receiver.processed.setdefault(request.headers["webhook-id"], request.payload)
            time.sleep(handoff_settings.CLEANINBOX_HANDOFF_TIMEOUT + 1)
        return None

    receiver.behaviour = first_answer_is_late
    receiver.start()
    smtp.restart()
    assert wait_until(lambda: sent(10), timeout=60), list(
        Delivery.objects.values_list("kind", "status", "attempts", "last_error")
    )
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) > len(set(ids))  # at least once: one id came twice...
    webhook_ids = [r.webhook_id for r in Delivery.objects.filter(kind="webhook")]
    assert sorted(receiver.processed) == sorted(webhook_ids)  # ...and processed exactly once
    assert sorted(p["data"]["email"]["id"] for p in receiver.processed.values()) == sorted(
        e.pk for e in emails
    )
    assert len(smtp.messages) == 5
    assert len({m["Message-ID"] for m in smtp.messages}) == 5


def test_a_drain_killed_mid_request_is_finished_by_another_worker_after_its_lease(
    celery_worker, receiver, handoff_settings
):
    WebhookEndpoint.objects.create(name="helpdesk", url=receiver.url, secret=SECRET)
    arrived = threading.Event()

    def hang_the_first(request):
        if not arrived.is_set():
            arrived.set()
            receiver.processed.setdefault(request.headers["webhook-id"], request.payload)
            time.sleep(15)  # the killed worker never hears back
        return None

    receiver.behaviour = hang_the_first
    email = EmailFactory(status=Email.Status.CLASSIFIED, intent="card_arrival")
    receivers.enqueue([email.pk])
    cache.add(tasks.FOLLOW_UP_KEY, 1, timeout=60)  # keep the worker out of it for now
    name = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cleaninbox.settings_test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
        "CLEANINBOX_HANDOFF_LEASE_SECONDS": "3",
        "CLEANINBOX_HANDOFF_TIMEOUT": "30",
    }
    drain = subprocess.Popen(
        [sys.executable, "-c", "import django; django.setup(); "
         "from inbox.handoff import outbox; outbox.deliver_due()"],
        cwd=REPO, env=env,
    )  # fmt: skip
    try:
        assert arrived.wait(timeout=60)
    finally:
        drain.send_signal(signal.SIGKILL)
        drain.wait(timeout=10)
    row = Delivery.objects.get()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.claimed_until is not None

    cache.delete(tasks.FOLLOW_UP_KEY)
    tasks.deliver_outbox.delay()  # finds the row leased; schedules itself for the lease's end
    assert wait_until(lambda: sent(1), timeout=30)
    row.refresh_from_db()
    assert row.attempts == 2
    assert [r.headers["webhook-id"] for r in receiver.requests] == [row.webhook_id] * 2
    assert list(receiver.processed) == [row.webhook_id]
