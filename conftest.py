"""Fixtures shared by every app's tests: users and clients, the real BANKING77 data, a
real baseline model in the registry, and a real Celery worker on the real Redis."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("WANDB_MODE", "disabled")

# Tests use their own Redis database so a developer's running worker never eats their tasks.
TEST_BROKER_URL = os.environ.get("CLEANINBOX_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
REPO = Path(__file__).resolve().parent


def data_source() -> str | None:
    """Where the tests read BANKING77 from: CLEANINBOX_DATA_SOURCE (set by .ci/run; offline
    here it is ../shared/data/banking77), else the Hugging Face Hub."""
    return os.environ.get("CLEANINBOX_DATA_SOURCE") or None


@pytest.fixture(scope="session", autouse=True)
def _celery_test_broker():
    from cleaninbox.celery import app

    app.conf.broker_url = TEST_BROKER_URL
    app.conf.result_backend = None
    yield app


@pytest.fixture(autouse=True)
def _isolated_paths(settings, tmp_path):
    # Tests create many users; a deliberately slow hasher would only slow them down.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CLEANINBOX_REPORTS_DIR = tmp_path / "reports"
    settings.CLEANINBOX_MODEL_DIR = tmp_path / "models"
    settings.CLEANINBOX_EXPLAIN_INDEX_DIR = tmp_path / "explain"
    # Each test starts without a cached model; the registry (database) decides.
    from classifier import explanations, runtime

    runtime.forget()
    explanations.forget()
    yield
    runtime.forget()
    explanations.forget()


@pytest.fixture(scope="session")
def banking77_dir(tmp_path_factory) -> Path:
    """BANKING77 prepared by mlops.data exactly as `download_data` does it."""
    from mlops.data import prepare

    data_dir = tmp_path_factory.mktemp("data") / "banking77"
    prepare(data_source(), data_dir, progress=False)
    return data_dir


@pytest.fixture(scope="session")
def baseline_artifact(banking77_dir, tmp_path_factory) -> Path:
    """A real TF-IDF model trained on the prepared train split (about 20 s, once)."""
    from mlops.baseline import train_baseline

    return train_baseline(banking77_dir, tmp_path_factory.mktemp("models"), progress=False)


@pytest.fixture
def active_model(db, baseline_artifact):
    """The baseline registered and promoted to production."""
    from mlops import registry

    registry.register(baseline_artifact)
    return registry.promote(registry.register(baseline_artifact).version)


@pytest.fixture
def agent(django_user_model):
    return django_user_model.objects.create_user("agent", "agent@bank.example", "agent-pass-123")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "lead", "lead@bank.example", "lead-pass-123", is_staff=True, is_superuser=True
    )


@pytest.fixture
def api_client(agent):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=agent).key}")
    return client


QUEUES = ["classify", "imap", "maintenance", "training"]


def purge_queues(app) -> None:
    """Empty every cleaninbox queue on the test broker (control.purge only knows the default)."""
    with app.connection_for_write() as conn:
        for name in QUEUES:
            conn.default_channel.client.delete(name)


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (solo pool, in a thread) consuming every queue of the real Redis
    broker."""
    from celery.contrib.testing.worker import start_worker

    from cleaninbox.celery import app

    purge_queues(app)
    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=30, queues=QUEUES
    ) as worker:
        yield worker


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI nothing may be skipped: a skip there means a missing install step
    (Chromium, Dovecot, the local dataset), which must turn the run red."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {report.longrepr}"
