"""Real processes for the monitoring tests: Prometheus, a Celery worker node with its
exporter, and throw-away PostgreSQL and Redis servers that a test may stop and start.

Each runs on a free loopback port in a temporary folder and is stopped by the fixture
that started it (by its own pid), never the machine's shared services.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception as exc:  # not up yet
            last_error = exc
            value = None
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what} (last error: {last_error!r})")


def http_get(url: str, timeout: float = 5, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL if it lingers; this process only."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class Prometheus:
    """A Prometheus server scraping the given jobs every second."""

    def __init__(self, tmp: Path, jobs: dict[str, list[str]]) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        scrape = "\n".join(
            f"  - job_name: {job}\n    static_configs:\n      - targets: {json.dumps(targets)}"
            for job, targets in jobs.items()
        )
        config = tmp / "prometheus.yml"
        config.write_text(
            f"global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n{scrape}\n"
        )
        self.log = (tmp / "prometheus.log").open("w")
        self.process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
                "--log.level=warn",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: http_get(f"{self.url}/-/ready")[0] == 200, 30, "Prometheus ready")

    def query(self, promql: str) -> list[dict]:
        status, body = http_get(
            f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        )
        data = json.loads(body)
        assert status == 200 and data["status"] == "success", data
        return data["data"]["result"]

    def value(self, promql: str) -> float | None:
        """The single value of an instant query (None when it has no result)."""
        result = self.query(promql)
        assert len(result) <= 1, result
        return float(result[0]["value"][1]) if result else None

    def wait_value(self, promql: str, check: Callable[[float], bool], timeout: float = 30) -> float:
        return wait_until(
            lambda: (v := self.value(promql)) is not None and check(v) and (v if v else True),
            timeout,
            f"{promql} to satisfy the check",
        )

    def close(self) -> None:
        stop(self.process)
        self.log.close()


def database_url(settings_dict: dict) -> str:
    """postgres://... for the database the test runs on (pytest-django's test database)."""
    user = settings_dict.get("USER") or "postgres"
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else f"{user}@"
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


class WorkerNode:
    """`celery worker` (prefork, 2 processes) with its metrics exporter on a free port."""

    def __init__(self, tmp: Path, env: dict[str, str], name: str = "metrics-test") -> None:
        self.tmp = tmp
        self.port = free_port()
        self.name = name
        self.multiproc = tmp / "worker-multiproc"
        self.env = {
            **os.environ,
            **env,
            "CLEANINBOX_WORKER_METRICS_PORT": str(self.port),
            "PROMETHEUS_MULTIPROC_DIR": str(self.multiproc),
            "OMP_NUM_THREADS": "1",
        }
        self.process: subprocess.Popen | None = None
        self.log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WorkerNode:
        self.log = (self.tmp / f"{self.name}.log").open("a")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "cleaninbox", "worker", "-P", "prefork",
                "-c", "2", "-Q", "classify,imap,maintenance,training,celery", "-n", f"{self.name}@%h", "--without-mingle", "--without-gossip",
                "--loglevel=INFO",
            ],
            cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until(lambda: http_get(f"{self.url}/healthz")[0] == 200, 60, "worker exporter")
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process, timeout=30)
            self.process = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def metrics_text(self) -> str:
        return http_get(f"{self.url}/metrics")[1].decode()


class Postgres:
    """A private PostgreSQL cluster (initdb in a temp folder) that tests may stop.

    PostgreSQL refuses to run as root; as root the cluster belongs to the `postgres` user.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="cleaninbox-test-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        bindir = Path(shutil.which("pg_ctl") or "/usr/local/bin/pg_ctl").parent
        self.pg_ctl = str(bindir / "pg_ctl")
        subprocess.run(
            [*self.as_user, str(bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        subprocess.run(
            [
                *self.as_user, self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-w",
                "-t", "60", "-o",
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off",
                "start",
            ],
            check=True, capture_output=True, timeout=90,
        )  # fmt: skip

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop"],
            capture_output=True, timeout=60,
        )  # fmt: skip

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class Redis:
    """A private redis-server without persistence that tests may stop."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.tmp = tmp
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "/usr/bin/redis-server",
                "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.tmp),
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: _redis_ping(self.port), 20, "redis up")

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


def _redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")
