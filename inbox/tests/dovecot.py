"""A real Dovecot IMAP server on loopback for the IMAP tests (Debian's dovecot-imapd).

Plain IMAP on 127.0.0.1 and a free port, with a passwd-file of test users written at
start; each test takes an unused user and so gets an empty mailbox of its own.

As root (CI), Dovecot refuses to access mail as uid 0: mail belongs to the ``dovecot``
user, and the server's folder is made under /tmp with mode 0755, because pytest's own
temporary folders are 0700 and the mail processes could not enter them. As an ordinary
user everything runs as that user.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


@dataclass
class Account:
    user: str
    password: str


class DovecotServer:
    def __init__(
        self, capabilities: tuple[str, ...] = ("", "IMAP4rev1"), accounts_each: int = 40
    ) -> None:
        self.capabilities = capabilities
        self.accounts_each = accounts_each
        self.root = Path(tempfile.mkdtemp(prefix="cleaninbox-dovecot-"))
        self.root.chmod(0o755)
        self.port = free_port()
        self.log = self.root / "dovecot.log"
        self.users = self.root / "users"
        self._pools: dict[str, list[Account]] = {}
        self._process: subprocess.Popen | None = None
        if os.geteuid() == 0:
            mail, login = pwd.getpwnam("dovecot"), "dovenull"
        else:
            mail = pwd.getpwuid(os.geteuid())
            login = mail.pw_name
        self.uid, self.gid = mail.pw_uid, mail.pw_gid
        self._internal_user = mail.pw_name
        self._internal_group = grp.getgrgid(mail.pw_gid).gr_name
        self._login_user = login

    def start(self, timeout: float = 15) -> DovecotServer:
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir()
        os.chown(self.root / "home", self.uid, self.gid)
        self._write_users()
        config = self.root / "dovecot.conf"
        config.write_text(self._config())
        self._process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                output = self._process.stdout.read().decode(errors="replace")
                raise RuntimeError(f"dovecot exited: {output}\n{self.log_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not listen on {self.port}:\n{self.log_text()}")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def add_account(self, capability: str = "") -> Account:
        """An unused user with an empty mailbox. ``capability`` (one of the server's
        ``capabilities``) replaces the post-login CAPABILITY for this user, e.g.
        "IMAP4rev1": no MOVE, no UIDPLUS, to test the paths old servers take."""
        pool = self._pools[capability]
        if not pool:
            raise RuntimeError(
                f"all {self.accounts_each} test accounts for {capability!r} are used"
            )
        return pool.pop(0)

    def _write_users(self) -> None:
        # All users up front: Dovecot notices a changed passwd-file at most once a second.
        lines = []
        for index, capability in enumerate(self.capabilities):
            pool = self._pools[capability] = []
            for n in range(1, self.accounts_each + 1):
                account = Account(f"user{index}x{n}", f"secret-{index}-{n}")
                extra = f"userdb_imap_capability={capability}" if capability else ""
                home = self.root / "home" / account.user
                lines.append(
                    f"{account.user}:{{PLAIN}}{account.password}:{self.uid}:{self.gid}::{home}::{extra}"
                )
                pool.append(account)
        self.users.write_text("\n".join(lines) + "\n")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else "(no log)"

    def _config(self) -> str:
        root = self.root
        # dovecot 2.3 spells it disable_plaintext_auth; 2.4 renamed it auth_allow_cleartext.
        cleartext = "disable_plaintext_auth = no"
        if _version() >= (2, 4):
            cleartext = "auth_allow_cleartext = yes"
        return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {self.log}
ssl = no
{cleartext}
auth_mechanisms = plain login
# No wait on a wrong password. (The auth penalty still delays the next login from the
# same IP by a few seconds, so tests that log in wrongly on purpose run last.)
auth_failure_delay = 0
default_internal_user = {self._internal_user}
default_internal_group = {self._internal_group}
default_login_user = {self._login_user}
first_valid_uid = {min(self.uid, 100) if self.uid else 1}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.users}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
{"" if os.geteuid() == 0 else "  chroot ="}
}}
"""


def _version() -> tuple[int, ...]:
    output = subprocess.run(
        [DOVECOT, "--version"], capture_output=True, text=True, check=True
    ).stdout
    return tuple(int(p) for p in output.split()[0].split(".")[:2])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
