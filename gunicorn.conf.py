"""gunicorn settings for cleaninbox's web processes, read from the environment.

gunicorn loads this file by itself when started from the repository root
(`gunicorn cleaninbox.wsgi`). The defaults suit the ingest API: threaded workers keep
HTTP connections alive and overlap the database round trips of several requests, and a
process per core runs Python in parallel.

- WEB_CONCURRENCY           worker processes (default: one per core, at least 2)
- GUNICORN_THREADS          threads per worker (default 4; gthread worker class)
- GUNICORN_WORKER_CLASS     default gthread; "sync" for one request per process
- GUNICORN_BIND             default 127.0.0.1:$PORT (PORT default 8000)
- GUNICORN_TIMEOUT          seconds before a stuck worker is replaced (default 30)
- GUNICORN_MAX_REQUESTS     recycle a worker after this many requests (default 5000, 0 = never)
- GUNICORN_ACCESS_LOG       "-" for stdout; default off (the app logs one line per ingest)

With PROMETHEUS_MULTIPROC_DIR set, every worker writes its metric values to that folder and
/metrics merges them, so a scrape does not depend on which worker answers; the folder is
emptied when the master starts and a dead worker's live gauges are dropped.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {value!r}") from None


bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = _int("WEB_CONCURRENCY", max(2, os.cpu_count() or 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = timeout
keepalive = 5
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
# Request bodies up to the batch endpoint's limit are parsed by Django, not gunicorn.
limit_request_line = 8190


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
