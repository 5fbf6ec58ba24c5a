"""Metrics of the Celery workers: one exporter per worker node, multiprocess mode inside.

Design: a prefork worker is a main process and N pool processes that come and go
(crashes, max-tasks-per-child). Each pool process writes its values to files in
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode); the main process, which
lives as long as the node, serves them merged over HTTP on CLEANINBOX_WORKER_METRICS_PORT.
So a scrape sees the sum over every pool process the node ever had, a dead child's live
gauges are dropped (mark_process_dead), and a restarted node starts from a wiped folder
instead of adding up values of processes from an earlier run. One exporter per node also
means one scrape target per worker container, which is how Prometheus and compose see it.

Pushgateway was not chosen: it keeps the last pushed value of a dead worker forever and
turns "worker down" into "no pushes lately". Celery events + an exporter process would
need events enabled on every worker and a separate service.

The folder must be set before prometheus_client is imported (it picks its value class at
import): the worker's environment sets it (compose, Procfile), else a private temporary
folder is made. It is emptied when the node starts (prepare_folder, from celery.py).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from celery import signals

logger = logging.getLogger(__name__)

_task_started: dict[str, float] = {}
_server: WSGIServer | None = None


def _port() -> int:
    return int(os.environ.get("CLEANINBOX_WORKER_METRICS_PORT") or 0)


def is_worker_command(argv: list[str]) -> bool:
    """`celery ... worker ...`: the main process of a worker node (not inspect, beat, ...)."""
    return "worker" in argv[1:]


def prepare_folder(argv: list[str] | None = None) -> None:
    """Before anything imports prometheus_client in a worker node's main process: an empty
    multiprocess folder (values of an earlier run must not be added again).

    Called from cleaninbox/celery.py at import, the first code `celery -A cleaninbox worker`
    runs; Celery's own first signals come after Django has loaded the metrics module.
    """
    if not _port() or not is_worker_command(sys.argv if argv is None else argv):
        return
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        if "prometheus_client" in sys.modules:
            logger.error(
                "PROMETHEUS_MULTIPROC_DIR must be set before the worker starts; "
                "worker metrics will only show the main process"
            )
            return
        folder = tempfile.mkdtemp(prefix="cleaninbox-worker-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    wipe(Path(folder))


def wipe(folder: Path) -> None:
    """Empty the folder: values of an earlier run of this node must not be added again."""
    folder.mkdir(parents=True, exist_ok=True)
    for child in folder.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


@signals.worker_init.connect
def _start_exporter(**_) -> None:
    """Main process: serve the merged values of every pool process of this node."""
    global _server
    port = _port()
    if not port or _server is not None:
        return
    addr = os.environ.get("CLEANINBOX_WORKER_METRICS_ADDR", "127.0.0.1")
    _server = start_exporter(addr, port)
    logger.info("worker metrics exporter listening", extra={"addr": addr, "port": port})


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - scrapes every few seconds
        pass


def exporter_app():
    """The WSGI app: /metrics (merged, access-controlled) and /healthz."""
    from django.conf import settings
    from prometheus_client import CollectorRegistry, make_wsgi_app, multiprocess

    from cleaninbox.monitoring import access

    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:  # solo or threads pool: everything lives in this process
        from prometheus_client import REGISTRY

        registry = REGISTRY
    metrics_app = make_wsgi_app(registry)

    def app(environ, start_response):
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"status": "alive"}']
        if not access.allowed(
            environ.get("REMOTE_ADDR"),
            environ.get("HTTP_AUTHORIZATION"),
            settings.CLEANINBOX_METRICS_ALLOWED_NETWORKS,
            settings.CLEANINBOX_METRICS_TOKEN,
        ):
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"metrics: allowed networks or bearer token only\n"]
        return metrics_app(environ, start_response)

    return app


def start_exporter(addr: str, port: int) -> WSGIServer:
    server = make_server(
        addr, port, exporter_app(), server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="metrics-exporter", daemon=True).start()
    return server


@signals.worker_process_shutdown.connect
def _child_exit(pid=None, **_) -> None:
    """A pool process is leaving: drop its live gauges from the merged view."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())


@signals.task_prerun.connect
def _task_prerun(task_id=None, **_) -> None:
    _task_started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _task_postrun(task_id=None, task=None, state=None, **_) -> None:
    from cleaninbox import metrics

    started = _task_started.pop(task_id, None)
    name = getattr(task, "name", "unknown")
    outcome = {"SUCCESS": "success", "RETRY": "retry"}.get(state or "", "failure")
    metrics.CELERY_TASKS.labels(name, outcome).inc()
    if started is not None:
        metrics.CELERY_TASK_SECONDS.labels(name).observe(time.perf_counter() - started)
    queue = ((getattr(task, "request", None) and task.request.delivery_info) or {}).get(
        "routing_key"
    )
    if queue:
        metrics.WORKER_HEARTBEAT.labels(queue).set(time.time())
