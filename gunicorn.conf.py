"""gunicorn settings read from the working directory: Prometheus multiprocess mode.

With PROMETHEUS_MULTIPROC_DIR set, every gunicorn worker writes its metric values to that
folder and /metrics merges them, so a scrape does not depend on which worker answers.
The folder is emptied when the master starts (values of an earlier run must not be added
again) and a worker's live gauges are dropped when it exits.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def on_starting(server) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for child in path.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
