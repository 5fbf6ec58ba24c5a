"""A PostgreSQL restart or outage never turns into a 500 (issue 9).

gunicorn serves the app from a private PostgreSQL server (tests.localservices) with
persistent connections (DB_CONN_MAX_AGE); the test restarts that server as an operator
would, then stops it: the next requests succeed after the restart (health checks replace
the dead persistent connections) and answer 503 with Retry-After while it is down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests import localservices
from tests.helpers import wait_for

REPO = localservices.Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    localservices.available() is not None, reason="no PostgreSQL server binaries"
)


def _get(url: str, token: str) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read() or b"{}")


def _manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture
def app_on_private_postgres():
    with localservices.postgres() as pg:
        pg.createdb("cleaninbox")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cleaninbox.settings",
            "DEBUG": "true",
            "DATABASE_URL": pg.url_for("cleaninbox"),
            "DB_CONN_MAX_AGE": "600",
        }
        _manage(env, "migrate", "--noinput", "-v", "0")
        token = _manage(
            env, "shell", "-c",
            "from django.contrib.auth.models import User; from rest_framework.authtoken.models import Token;"
            "print(Token.objects.create(user=User.objects.create_user('ops', password='x-pass-123')).key)",
        ).split()[-1]  # fmt: skip
        port = localservices.free_port()
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "cleaninbox.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--timeout", "30"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}/api/emails/"
        try:
            assert wait_for(lambda: _reachable(url), timeout=60), "gunicorn did not start"
            yield pg, url, token
        finally:
            web.terminate()
            web.wait(timeout=30)


def _reachable(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def test_requests_after_a_postgresql_restart_succeed(app_on_private_postgres):
    pg, url, token = app_on_private_postgres
    # Every gunicorn worker opens its persistent connection.
    assert {_get(url, token)[0] for _ in range(10)} == {200}
    pg.restart()  # terminates every connection ("terminating connection due to administrator command")
    statuses = [_get(url, token)[0] for _ in range(10)]
    assert statuses == [200] * 10


def test_a_database_outage_answers_503_with_retry_after(app_on_private_postgres):
    pg, url, token = app_on_private_postgres
    assert _get(url, token)[0] == 200
    pg.stop()
    status, headers, body = _get(url, token)
    assert status == 503
    assert headers["Retry-After"] == "5"
    assert body["code"] == "service_unavailable"
    pg.start()
    time.sleep(0.5)
    assert _get(url, token)[0] == 200
