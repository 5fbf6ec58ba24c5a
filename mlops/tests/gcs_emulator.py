"""A real Google Cloud Storage emulator (PyPI ``gcp-storage-emulator``) for tests.

It runs in a thread of the test process on a free loopback port, keeps objects in memory
and is reached through the real google-cloud-storage client via STORAGE_EMULATOR_HOST.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from gcp_storage_emulator.server import create_server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_emulator() -> Iterator[str]:
    """Start the emulator, point STORAGE_EMULATOR_HOST at it, yield its URL, stop it."""
    port = _free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    url = f"http://127.0.0.1:{port}"
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = url
    try:
        yield url
    finally:
        if previous is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = previous
        server.stop()


def fresh_bucket(settings) -> str:
    """Create an empty bucket and point the GCS_* settings at it (one bucket per test)."""
    from mlops import gcs

    name = f"models-{uuid.uuid4().hex[:10]}"
    settings.GCS_BUCKET = name
    settings.GCS_PREFIX = "cleaninbox/models"
    gcs.client().create_bucket(name)
    return name
