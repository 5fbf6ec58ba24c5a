"""A whole cleaninbox stack on private servers, for the chaos and soak benchmarks.

PostgreSQL and Redis are started by tests.localservices (temporary folders, free loopback
ports) so faults can be done to them; gunicorn, a Celery worker and Celery beat run from
this checkout in the production configuration (DEBUG off; plain HTTP on loopback). The
benchmarks talk to the stack through the HTTP API and read the database directly: they
know nothing of the pipeline's internals.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests import localservices  # noqa: E402

PY = sys.executable
# Every queue a worker of this project may be asked to serve except training (issue 8's
# names and Celery's default), so the stack works before and after queues are routed.
WORKER_QUEUES = "celery,classify,imap,maintenance"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Stack:
    pg: localservices.LocalPostgres
    redis: localservices.LocalRedis
    workdir: Path
    env: dict[str, str]
    port: int = field(default_factory=localservices.free_port)
    token: str = ""
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    worker_concurrency: int = 1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [PY, "manage.py", *args], cwd=REPO, env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-4000:]}")
        return done.stdout

    def _spawn(self, name: str, cmd: list[str]) -> None:
        out = (self.workdir / f"{name}.log").open("a")
        # Own session: a kill reaches the whole process tree (prefork children included).
        self.procs[name] = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_web(self, workers: int = 2) -> None:
        self._spawn("web", [PY, "-m", "gunicorn", "cleaninbox.wsgi", "--bind", f"127.0.0.1:{self.port}",
                            "--workers", str(workers), "--timeout", "30", "--graceful-timeout", "5"])  # fmt: skip
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=5)
                return
            except urllib.error.HTTPError as exc:
                tail = (self.workdir / "web.log").read_text()[-3000:]
                raise RuntimeError(f"gunicorn answered {exc.code}:\n{tail}") from exc
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(
            "gunicorn did not answer:\n" + (self.workdir / "web.log").read_text()[-3000:]
        )

    def start_worker(self, concurrency: int | None = None) -> None:
        concurrency = concurrency or self.worker_concurrency
        self.worker_concurrency = concurrency
        self._spawn("worker", [PY, "-m", "celery", "-A", "cleaninbox", "worker", "-Q", WORKER_QUEUES,
                               "--concurrency", str(concurrency), "--loglevel", "INFO",
                               "--without-gossip", "--without-mingle"])  # fmt: skip

    def start_beat(self) -> None:
        self._spawn("beat", [PY, "-m", "celery", "-A", "cleaninbox", "beat", "--loglevel", "INFO",
                             "--schedule", str(self.workdir / "beat-schedule")])  # fmt: skip

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.get(name)
        if proc and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)

    def pids(self, name: str) -> list[int]:
        """The process and its children (for memory readings)."""
        import psutil

        proc = self.procs.get(name)
        if not proc or proc.poll() is not None:
            return []
        parent = psutil.Process(proc.pid)
        return [parent.pid, *(c.pid for c in parent.children(recursive=True))]

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)
            self.kill(name, signal.SIGKILL)


def _prepare_model(stack: Stack, model: Path | None) -> None:
    if model is None:
        log("training the TF-IDF baseline (manage.py train_baseline --promote)")
        stack.manage("train_baseline", "--promote")
        return
    dest = Path(stack.env["CLEANINBOX_MODEL_DIR"]) / model.name
    shutil.copytree(model, dest)
    stack.manage(
        "shell",
        "-c",
        f"from mlops import registry; registry.promote(registry.register({str(dest)!r}).version)",
    )
    log(f"registered and promoted {model.name}")


@contextlib.contextmanager
def running_stack(
    model: Path | None = None, extra_env: dict[str, str] | None = None, worker_concurrency: int = 1
) -> Iterator[Stack]:
    """Private PostgreSQL + Redis, migrated database, an active model, an API token,
    gunicorn, one Celery worker and beat. Everything is stopped and deleted after."""
    reason = localservices.available()
    if reason:
        raise SystemExit(f"cannot start private servers: {reason}")
    workdir = Path(tempfile.mkdtemp(prefix="cleaninbox-stack-"))
    with localservices.postgres() as pg, localservices.redis() as redis:
        pg.createdb("cleaninbox")
        data_source = os.environ.get("CLEANINBOX_DATA_SOURCE") or str(
            REPO.parent / "shared/data/banking77"
        )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "DJANGO_"))},
            "DJANGO_SETTINGS_MODULE": "cleaninbox.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
            "DATABASE_URL": pg.url_for("cleaninbox"),
            "REDIS_URL": redis.url,
            "CELERY_BROKER_URL": redis.url,
            "CLEANINBOX_MODEL_DIR": str(workdir / "models"),
            "CLEANINBOX_DATA_DIR": str(workdir / "data"),
            "CLEANINBOX_REPORTS_DIR": str(workdir / "reports"),
            "STATIC_ROOT": str(workdir / "static"),
            "CLEANINBOX_DATA_SOURCE": data_source,
            "CLEANINBOX_INGEST_RATE": "1000000/min",
            "CLEANINBOX_SWEEP_INTERVAL": "15",
            "CLEANINBOX_SWEEP_AFTER_SECONDS": "30",
            "OMP_NUM_THREADS": "1",
            "WANDB_MODE": "disabled",
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        stack = Stack(pg, redis, workdir, env)
        try:
            log(f"private PostgreSQL on :{pg.port}, Redis on :{redis.port}, files in {workdir}")
            stack.manage("migrate", "--noinput", "-v", "0")
            stack.manage("collectstatic", "--noinput", "-v", "0")
            stack.manage("download_data")
            _prepare_model(stack, model)
            stack.token = stack.manage(
                "shell", "-c",
                "from django.contrib.auth.models import User; from rest_framework.authtoken.models import Token;"
                "print(Token.objects.create(user=User.objects.create_user('bench', password='bench-pass-123')).key)",
            ).split()[-1]  # fmt: skip
            stack.start_web()
            stack.start_worker(worker_concurrency)
            stack.start_beat()
            log(f"stack up: gunicorn {stack.url}, worker, beat")
            yield stack
        finally:
            stack.stop_all()
            shutil.rmtree(workdir, ignore_errors=True)


def post_json(url: str, token: str, body, timeout: float = 60) -> tuple[int, dict | list | None]:
    """(status, parsed body); status 0 when the connection failed."""
    import json

    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw or b"null")
        except ValueError:
            return exc.code, None
    except (OSError, ValueError):
        return 0, None


def email_texts() -> list[str]:
    """BANKING77 training queries, the body text of the emails the benchmarks send."""
    import csv

    source = Path(os.environ.get("CLEANINBOX_DATA_SOURCE") or REPO.parent / "shared/data/banking77")
    with (source / "train.csv").open(newline="", encoding="utf-8") as fh:
        return [row["text"] for row in csv.DictReader(fh)]
