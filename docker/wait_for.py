"""Wait until the database, Redis and/or the applied migrations are there, then exit 0.

Containers start in any order (podman-compose ignores `condition: service_healthy`), so
each role retries here instead: `python docker/wait_for.py db redis migrations`.
Gives up with exit 1 after WAIT_TIMEOUT seconds (default 120), saying what it waited for.
"""

from __future__ import annotations

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cleaninbox.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402


def db_ready() -> bool:
    connection.ensure_connection()
    return True


def redis_ready() -> bool:
    import redis

    return bool(redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=3).ping())


def migrations_ready() -> bool:
    executor = MigrationExecutor(connection)
    return not executor.migration_plan(executor.loader.graph.leaf_nodes())


CHECKS = {"db": db_ready, "redis": redis_ready, "migrations": migrations_ready}


def main(names: list[str]) -> int:
    deadline = time.monotonic() + float(os.environ.get("WAIT_TIMEOUT", "120"))
    for name in names:
        check, last_error = CHECKS[name], ""
        while True:
            try:
                if check():
                    break
                last_error = "not yet"
            except Exception as exc:  # any failure to connect means: try again
                last_error = f"{type(exc).__name__}: {exc}".strip()
                connection.close()
            if time.monotonic() > deadline:
                print(f"wait_for: gave up waiting for {name}: {last_error}", file=sys.stderr)
                return 1
            time.sleep(2)
        print(f"wait_for: {name} ready", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["db", "redis"]))
