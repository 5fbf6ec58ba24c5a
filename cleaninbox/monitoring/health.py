"""Readiness checks: can this instance do its work right now?

Each check is cheap (one query, one PING, a metadata read kept for a minute, one cache
read) and bounded by short timeouts, so an orchestrator may probe every few seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import redis
from django.conf import settings
from django.db import connection

from cleaninbox.monitoring import liveness


class NotReady(Exception):
    """A check failed; the message says why, for the JSON body."""


@dataclass
class CheckResult:
    ok: bool
    detail: str
    ms: float


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        # Drop the broken connection so the next probe reconnects once the server is back.
        connection.close_if_unusable_or_obsolete()
        raise NotReady(f"database unreachable ({type(exc).__name__})") from exc
    return "ok"


def check_redis() -> str:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1, retry_on_timeout=False
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        raise NotReady(f"redis unreachable ({type(exc).__name__})") from exc
    finally:
        client.close()
    return "ok"


def check_model() -> str:
    from mlops import registry

    try:
        row = registry.active()
    except Exception as exc:
        raise NotReady(f"registry unreadable ({type(exc).__name__})") from exc
    if row is None:
        raise NotReady("no model in production")
    if not liveness.model_usable(row):
        raise NotReady(f"model {row.version} is not usable")
    return row.version


def check_sweep() -> str:
    last = liveness.last_run(liveness.SWEEP)
    if last is None:
        raise NotReady("the beat sweep has not run yet")
    age = time.time() - last
    if age > settings.CLEANINBOX_READY_SWEEP_MAX_AGE:
        raise NotReady(f"the beat sweep last ran {age:.0f}s ago")
    return f"{age:.0f}s ago"


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "redis": check_redis,
    "model": check_model,
    "sweep": check_sweep,
}


def readiness() -> tuple[bool, dict[str, dict]]:
    """Run every check (all of them, so the body names each failure); (ready, results)."""
    results: dict[str, dict] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            result = CheckResult(True, check(), 0.0)
        except NotReady as exc:
            result = CheckResult(False, str(exc), 0.0)
        except Exception as exc:  # an unexpected failure is a failed check, not a 500
            result = CheckResult(False, f"{type(exc).__name__}", 0.0)
        result.ms = round((time.perf_counter() - started) * 1000, 1)
        results[name] = asdict(result)
    return all(r["ok"] for r in results.values()), results
