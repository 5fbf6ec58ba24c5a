"""Private PostgreSQL and Redis servers for fault tests and the chaos benchmark.

Faults (restart, kill -9, SIGSTOP) are only ever done to these: each lives in a temporary
folder, listens on a free loopback port, and is stopped when its ``with`` block ends. The
machine's shared PostgreSQL and Redis are never touched.

PostgreSQL refuses to run as root, so under root the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for version in sorted(Path("/usr/lib/postgresql").glob("*"), reverse=True):
        candidate = version / "bin" / name
        if candidate.exists():
            return str(candidate)
    raise FileNotFoundError(f"{name} not found: install PostgreSQL's server package")


def available() -> str | None:
    """Why these servers cannot be started here, or None when they can."""
    try:
        _pg_bin("initdb")
    except FileNotFoundError as exc:
        return str(exc)
    if not shutil.which("redis-server"):
        return "redis-server not found"
    return None


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@dataclass
class LocalPostgres:
    datadir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str, check: bool = True) -> None:
        cmd = [_pg_bin("pg_ctl"), "-D", str(self.datadir), "-w", "-t", "60", *args]
        subprocess.run(_as_postgres(cmd), check=check, capture_output=True)

    def start(self) -> None:
        self._ctl("-l", str(self.datadir / "server.log"), "-o", f"-p {self.port} -k /tmp", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "stop", check=False)

    def restart(self) -> None:
        """Stop (terminating every connection, as an operator's restart does) and start."""
        self.stop("fast")
        self.start()

    def createdb(self, name: str) -> None:
        cmd = [_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name]
        subprocess.run(cmd, check=True, capture_output=True)


@contextlib.contextmanager
def postgres() -> Iterator[LocalPostgres]:
    """A fresh PostgreSQL cluster (trust auth on loopback), stopped and deleted after."""
    root = Path(tempfile.mkdtemp(prefix="cleaninbox-pg-"))
    datadir = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    subprocess.run(
        _as_postgres(
            [_pg_bin("initdb"), "-D", str(datadir), "-U", "postgres", "-A", "trust", "--no-sync"]
        ),
        check=True,
        capture_output=True,
    )
    with (datadir / "postgresql.conf").open("a") as conf:
        conf.write("\nfsync = off\nlisten_addresses = '127.0.0.1'\nmax_connections = 100\n")
    server = LocalPostgres(datadir, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class LocalRedis:
    port: int
    dir: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """kill -9: every queued message is gone (no persistence)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def freeze(self) -> None:
        if self.proc:
            self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.proc:
            self.proc.send_signal(signal.SIGCONT)


@contextlib.contextmanager
def redis() -> Iterator[LocalRedis]:
    root = Path(tempfile.mkdtemp(prefix="cleaninbox-redis-"))
    server = LocalRedis(free_port(), root)
    server.start()
    try:
        yield server
    finally:
        server.thaw()
        server.kill()
        shutil.rmtree(root, ignore_errors=True)
