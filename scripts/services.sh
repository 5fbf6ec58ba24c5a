#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis that the app and the tests talk to are up; start them
# if they are down (the commands fit a Debian machine with the packages installed) and say so.
# Usage: scripts/services.sh [postgres] [redis]   (both when no argument is given)
set -uo pipefail
want=${*:-postgres redis}

DB_HOST=${PGHOST:-127.0.0.1}
if [[ " $want " != *" postgres "* ]]; then :
elif pg_isready -q -h "$DB_HOST" -p 5432 2>/dev/null; then
  echo "services: PostgreSQL is up on $DB_HOST:5432"
else
  echo "services: PostgreSQL is down; starting it"
  if command -v pg_ctlcluster >/dev/null; then
    for version in $(ls /etc/postgresql 2>/dev/null); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
  fi
  for _ in $(seq 1 30); do pg_isready -q -h "$DB_HOST" -p 5432 && break; sleep 1; done
  pg_isready -h "$DB_HOST" -p 5432 || { echo "services: PostgreSQL did not start" >&2; exit 1; }
fi

if [[ " $want " != *" redis "* ]]; then :
elif redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
  echo "services: Redis is up on 127.0.0.1:6379"
else
  echo "services: Redis is down; starting it"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli ping 2>/dev/null | grep -q PONG && break; sleep 1; done
  redis-cli ping | grep -q PONG || { echo "services: Redis did not start" >&2; exit 1; }
fi
