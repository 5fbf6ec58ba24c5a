"""The worker node's exporter in-process: access control, /healthz, and when a process
counts as a worker node's main process."""

from __future__ import annotations

import pytest

from cleaninbox import metrics
from cleaninbox.monitoring import access, worker
from tests.monitoring.processes import free_port, http_get


@pytest.fixture
def exporter(settings):
    settings.CLEANINBOX_METRICS_TOKEN = "worker-token"
    port = free_port()
    server = worker.start_exporter("127.0.0.1", port)
    yield f"http://127.0.0.1:{port}", settings
    server.shutdown()
    server.server_close()


def test_loopback_reads_the_worker_metrics(exporter):
    url, _ = exporter
    metrics.CELERY_TASKS.labels("inbox.tasks.heartbeat", "success").inc()
    status, body = http_get(f"{url}/metrics")
    assert status == 200
    assert b'cleaninbox_celery_tasks_total{outcome="success",task="inbox.tasks.heartbeat"}' in body


def test_outside_the_allowed_networks_only_the_token_gets_in(exporter):
    url, settings = exporter
    settings.CLEANINBOX_METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]  # loopback no longer allowed
    assert http_get(f"{url}/metrics")[0] == 403
    assert http_get(f"{url}/metrics", headers={"Authorization": "Bearer nope"})[0] == 403
    status, body = http_get(f"{url}/metrics", headers={"Authorization": "Bearer worker-token"})
    assert status == 200 and b"cleaninbox_" in body
    assert http_get(f"{url}/healthz") == (200, b'{"status": "alive"}')


@pytest.mark.parametrize(
    ("addr", "networks", "expected"),
    [
        ("127.0.0.1", ["127.0.0.0/8", "::1/128"], True),
        ("::1", ["127.0.0.0/8", "::1/128"], True),
        ("::ffff:127.0.0.1", ["127.0.0.0/8"], True),
        ("10.1.2.3", ["127.0.0.0/8"], False),
        ("not an address", ["0.0.0.0/0"], False),
        (None, ["0.0.0.0/0"], False),
    ],
)
def test_allowed_networks(addr, networks, expected):
    assert access.allowed(addr, None, networks, token="") is expected


def test_an_empty_token_never_matches():
    assert access.allowed("10.1.2.3", "Bearer ", ["127.0.0.0/8"], token="") is False


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["celery", "-A", "cleaninbox", "worker", "-c", "2"], True),
        (["celery", "-A", "cleaninbox", "beat"], False),
        (["celery", "-A", "cleaninbox", "inspect", "ping", "-d", "worker@host"], False),
        (["manage.py", "migrate"], False),
    ],
)
def test_only_a_worker_command_empties_the_folder(argv, expected, tmp_path, monkeypatch):
    folder = tmp_path / "multiproc"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"old run")
    monkeypatch.setenv("CLEANINBOX_WORKER_METRICS_PORT", "9808")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    worker.prepare_folder(argv)
    assert (folder / "counter_123.db").exists() is not expected


def test_a_heartbeat_records_beat_and_the_queue_that_delivered_it(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from cleaninbox.monitoring import liveness
    from inbox.tasks import heartbeat

    before = liveness.last_run(liveness.HEARTBEAT) or 0
    heartbeat.apply()  # eagerly: no delivery queue, only beat's side is recorded
    assert liveness.last_run(liveness.HEARTBEAT) > before
    from prometheus_client import REGISTRY

    now = liveness.record_run(liveness.HEARTBEAT, queue="classify")
    name = "cleaninbox_worker_heartbeat_timestamp_seconds"
    assert REGISTRY.get_sample_value(name, {"queue": "classify"}) == now
