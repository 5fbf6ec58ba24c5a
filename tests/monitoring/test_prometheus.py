"""A real Prometheus scrapes the live web app and a real worker node (prefork, two
processes, its own exporter); its HTTP API shows the series exist and move when emails
flow, and the worker's series survive a restart of the node."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from cleaninbox.celery import app
from cleaninbox.monitoring.collectors import COLLECTOR
from conftest import TEST_BROKER_URL
from inbox.models import Email
from inbox.tests.factories import email_payload
from tests.monitoring.processes import PROMETHEUS, Prometheus, WorkerNode, database_url, wait_until

# Emails the worker node's pool processes classified, summed by its one exporter.
CLASSIFIED_SERIES = 'cleaninbox_emails_classified_total{job="cleaninbox-worker"}'
CLASSIFY = f"sum({CLASSIFIED_SERIES})"
ROUTED = 'sum(cleaninbox_emails{job="cleaninbox-web",status=~"classified|needs_review"})'


@pytest.fixture
def worker_node(active_model, tmp_path, settings):
    """A worker node on the test database and test broker, stopped after the test."""
    node = WorkerNode(
        tmp_path,
        {
            "DATABASE_URL": database_url(connection.settings_dict),
            "CELERY_BROKER_URL": TEST_BROKER_URL,
            "REDIS_URL": settings.REDIS_URL,
            "CLEANINBOX_REVIEW_THRESHOLD": "0.5",
            "CLEANINBOX_MODEL_DIR": str(settings.CLEANINBOX_MODEL_DIR),
        },
    )
    app.control.purge()
    yield node.start()
    node.stop()


@pytest.fixture
def prometheus(live_server, worker_node, tmp_path, settings):
    if not Path(PROMETHEUS).exists():
        pytest.skip("prometheus is not installed (Debian package prometheus)")
    settings.CLEANINBOX_METRICS_CACHE_SECONDS = 0
    COLLECTOR.forget()
    web = live_server.url.removeprefix("http://")
    server = Prometheus(
        tmp_path / "prometheus",
        {"cleaninbox-web": [web], "cleaninbox-worker": [f"127.0.0.1:{worker_node.port}"]},
    )
    yield server
    server.close()


def post_emails(base_url: str, token: str, first: int, count: int) -> None:
    for n in range(first, first + count):
        request = urllib.request.Request(
            f"{base_url}/api/emails/",
            data=json.dumps(email_payload(n)).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202


@pytest.mark.django_db(transaction=True)
def test_series_exist_and_move_when_emails_flow(
    prometheus, worker_node, live_server, agent, active_model
):
    token = Token.objects.create(user=agent).key
    prometheus.wait_value('up{job="cleaninbox-web"}', lambda v: v == 1)
    prometheus.wait_value('up{job="cleaninbox-worker"}', lambda v: v == 1)
    # Scrape-time figures from the web app, before any mail.
    assert prometheus.wait_value(ROUTED, lambda v: v == 0) is not None
    assert prometheus.value('cleaninbox_model_available{job="cleaninbox-web"}') == 1
    version = active_model.version
    assert (
        prometheus.value(f'cleaninbox_model_info{{job="cleaninbox-web",version="{version}"}}') == 1
    )

    post_emails(live_server.url, token, 0, 6)

    # The worker classified them (two pool processes, one merged exporter)...
    wait_until(
        lambda: Email.objects.filter(status__in=["classified", "needs_review"]).count() == 6,
        60,
        "the worker to classify 6 emails",
    )
    # Batches spread over the two pool processes, summed by the exporter.
    classified_tasks = prometheus.wait_value(CLASSIFY, lambda v: v == 6)
    # ...the web app's figures follow the database...
    prometheus.wait_value(ROUTED, lambda v: v == 6)
    prometheus.wait_value('cleaninbox_emails_pending{job="cleaninbox-web"}', lambda v: v == 0)
    prometheus.wait_value(
        'sum(cleaninbox_live_classified_emails{job="cleaninbox-web"})', lambda v: v == 6
    )
    # ...and django-prometheus counted the six POSTs.
    prometheus.wait_value(
        'sum(django_http_requests_total_by_method_total{job="cleaninbox-web",method="POST"})',
        lambda v: v >= 6,
    )

    # Restart the node: a fresh exporter, a wiped multiprocess folder, and Prometheus
    # sees it go down and come back.
    worker_node.stop()
    prometheus.wait_value('up{job="cleaninbox-worker"}', lambda v: v == 0)
    worker_node.start()
    prometheus.wait_value('up{job="cleaninbox-worker"}', lambda v: v == 1)
    assert "cleaninbox_emails_classified_total{" not in worker_node.metrics_text()
    post_emails(live_server.url, token, 100, 2)
    prometheus.wait_value(ROUTED, lambda v: v == 8)
    wait_until(
        lambda: "cleaninbox_emails_classified_total{" in worker_node.metrics_text(),
        30,
        "the restarted node to count its task",
    )
    # The restarted node counts from zero again; Prometheus sees the reset (so rate() and
    # increase() stay right) rather than values of dead processes added twice.
    prometheus.wait_value(CLASSIFY, lambda v: 1 <= v < classified_tasks)
    assert prometheus.value(f"sum(resets({CLASSIFIED_SERIES}[5m]))") >= 1
