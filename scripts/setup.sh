#!/usr/bin/env bash
# Install everything cleaninbox needs on a Debian-like machine: PostgreSQL and Redis (the
# servers the app and the tests use), system packages for the browser and IMAP tests, then a
# virtualenv with the project, its training extra (torch) and dev tools.
# Idempotent: a second run only re-installs Python packages when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
fresh_postgres=
if ! command -v pg_ctlcluster >/dev/null; then missing+=(postgresql); fresh_postgres=1; fi
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
if [ -n "$fresh_postgres" ] && command -v pg_ctlcluster >/dev/null; then
  # A PostgreSQL this script just installed, on a development machine: let local connections
  # in without a password (as DATABASE_URL=postgres://postgres@127.0.0.1/... expects).
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    echo "setup: $hba: trust for local and loopback connections (development machine)"
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' \
      | sudo_if_needed tee "$hba" >/dev/null
    version=$(basename "$(dirname "$(dirname "$hba")")")
    sudo_if_needed pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null || true
  done
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --upgrade pip > /dev/null
fi

stamp=.venv/.cleaninbox-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  mkdir -p var
  echo "setup: installing Python packages (torch==2.13.0 CPU build and the rest; a few minutes the first time; log: var/setup-pip.log)"
  # pip's own output goes to the log, shown only when it fails, so these lines stay readable.
  if ! .venv/bin/pip install -e '.[train,dev]' > var/setup-pip.log 2>&1; then
    tail -40 var/setup-pip.log >&2
    echo "setup: pip install failed (full log: var/setup-pip.log)" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
echo "setup: done"
