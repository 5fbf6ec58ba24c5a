"""/healthz and /readyz: in-process checks, then the real thing — gunicorn (two workers, the
repository's gunicorn.conf.py) on a private PostgreSQL and Redis that the test stops and
starts again. The machine's shared servers are never touched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cleaninbox.monitoring import liveness
from tests.monitoring.processes import REPO, Postgres, Redis, free_port, http_get, stop, wait_until


@pytest.fixture(autouse=True)
def _forget_models():
    liveness.forget()
    yield
    liveness.forget()


@pytest.mark.django_db
def test_liveness_answers_without_touching_anything(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


@pytest.mark.django_db
def test_not_ready_without_a_model_nor_a_sweep(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["model"] == {**body["checks"]["model"], "ok": False, "detail": "no model in production"}  # fmt: skip
    assert body["checks"]["sweep"]["detail"] == "the beat sweep has not run yet"


@pytest.mark.django_db
def test_ready_with_a_usable_model_and_a_recent_sweep(client, settings, active_model):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from inbox.tasks import sweep_pending

    sweep_pending()  # the real task body records its run
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["model"]["detail"] == active_model.version


@pytest.mark.django_db
def test_a_stale_sweep_or_a_broken_model_is_not_ready(client, settings, active_model):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.CLEANINBOX_READY_SWEEP_MAX_AGE = 180
    from django.core.cache import cache

    cache.set("cleaninbox:task_last_run:sweep_pending", time.time() - 600, None)
    body = client.get("/readyz").json()
    assert body["checks"]["sweep"]["ok"] is False
    assert "last ran 600s ago" in body["checks"]["sweep"]["detail"]

    (Path(active_model.local_path) / "metadata.json").rename(Path(active_model.local_path) / "x")
    try:
        liveness.forget()
        body = client.get("/readyz").json()
        assert body["checks"]["model"] == {**body["checks"]["model"], "ok": False}
        assert "not usable" in body["checks"]["model"]["detail"]
    finally:
        (Path(active_model.local_path) / "x").rename(
            Path(active_model.local_path) / "metadata.json"
        )


def _manage(env: dict, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]


def _ready(url: str) -> tuple[int, dict]:
    status, body = http_get(f"{url}/readyz", timeout=10)
    return status, json.loads(body)


def _requests_to(url: str, view: str) -> float:
    text = http_get(f"{url}/metrics")[1].decode()
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "django_http_requests_total_by_view_transport_method_total"
        and s.labels.get("view") == view
    )


def test_gunicorn_turns_unready_when_its_database_or_redis_stops(tmp_path, baseline_artifact):
    postgres, redis = Postgres(), Redis(tmp_path)
    postgres.start()
    redis.start()
    web = None
    try:
        env = {
            **os.environ,
            "DATABASE_URL": postgres.url,
            "REDIS_URL": redis.url,
            "CELERY_BROKER_URL": redis.url,
            "DEBUG": "true",
            "CLEANINBOX_MODEL_DIR": str(tmp_path / "models"),
        }
        env.pop("CLEANINBOX_WORKER_METRICS_PORT", None)
        _manage(env, "migrate", "--noinput")
        _manage(
            env, "shell", "-c",
            "from pathlib import Path; from mlops import registry; from inbox.tasks import sweep_pending;"
            f"registry.promote(registry.register(Path({str(baseline_artifact)!r})).version);"
            "sweep_pending()",
        )  # fmt: skip
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "cleaninbox.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--timeout", "30"],
            cwd=REPO, stdout=(tmp_path / "gunicorn.log").open("w"), stderr=subprocess.STDOUT,
            # gunicorn.conf.py creates and empties the folder before the workers start.
            env={**env, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "web-multiproc")},
        )  # fmt: skip
        # A long client timeout: a request given up on while a worker boots would still be
        # served (and counted) later, after the count below has started.
        wait_until(lambda: http_get(f"{url}/healthz", timeout=60)[0] == 200, 90, "gunicorn up")
        status, body = _ready(url)
        assert status == 200, body
        assert body["status"] == "ready"

        # Multiprocess mode: requests served by either worker are all counted.
        before = _requests_to(url, "healthz")
        for _ in range(10):
            http_get(f"{url}/healthz")
        assert _requests_to(url, "healthz") - before == 10

        postgres.stop()
        status, body = _ready(url)
        assert status == 503
        assert body["checks"]["database"]["ok"] is False
        assert "database unreachable" in body["checks"]["database"]["detail"]
        assert body["checks"]["redis"]["ok"] is True
        assert http_get(f"{url}/healthz")[0] == 200  # alive, only not ready
        # The scrape survives a failing source; it waits out one connect retry
        # (DB_CONNECT_RETRY_SECONDS), not one per database source.
        assert http_get(f"{url}/metrics", timeout=15)[0] == 200

        postgres.start()
        wait_until(lambda: _ready(url)[0] == 200, 30, "ready again after PostgreSQL is back")

        redis.stop()
        status, body = _ready(url)
        assert status == 503
        assert body["checks"]["redis"]["ok"] is False
        assert body["checks"]["database"]["ok"] is True

        redis.start()  # an empty Redis: the sweep's record went with it
        status, body = _ready(url)
        assert body["checks"]["redis"]["ok"] is True
        assert body["checks"]["sweep"]["detail"] == "the beat sweep has not run yet"
        _manage(env, "shell", "-c", "from inbox.tasks import sweep_pending; sweep_pending()")
        wait_until(lambda: _ready(url)[0] == 200, 30, "ready once the sweep ran again")
    finally:
        if web is not None:
            stop(web)
        redis.stop()
        postgres.remove()
