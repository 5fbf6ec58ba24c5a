"""Fixtures for mlops tests: a local GCS emulator and a bucket per test."""

from __future__ import annotations

import pytest

from mlops.tests.gcs_emulator import fresh_bucket, running_emulator


@pytest.fixture(scope="session")
def gcs_emulator():
    with running_emulator() as url:
        yield url


@pytest.fixture
def gcs_bucket(gcs_emulator, settings) -> str:
    return fresh_bucket(settings)
