#!/usr/bin/env bash
# Install everything cleaninbox needs on a Debian-like machine: system packages for the
# browser and IMAP tests, then a virtualenv with the project and its dev tools.
# Idempotent: a second run only re-installs Python packages when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
# Fault tests and benchmarks/chaos.py start private PostgreSQL and Redis servers.
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/bin/prometheus ] || missing+=(prometheus)  # monitoring tests: prometheus, promtool
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    echo "setup: installing system packages: ${missing[*]}"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: please install ${missing[*]} (browser tests use /usr/bin/chromium, IMAP tests dovecot, monitoring tests prometheus)" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi

stamp=.venv/.cleaninbox-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages (torch==2.13.0 CPU build and the rest; a few minutes the first time)"
  .venv/bin/pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi
echo "setup: done"
