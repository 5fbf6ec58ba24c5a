"""The production configuration comes from the environment and passes Django's deploy
checks (issue 9): DEBUG off unless asked, SECRET_KEY required then, HTTPS settings on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _production_env(**extra: str) -> dict[str, str]:
    # Not the test process's development switches (DEBUG; Playwright's async-unsafe flag).
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(
        DJANGO_SETTINGS_MODULE="cleaninbox.settings",
        SECRET_KEY="x3v!q-production-like-secret-key-for-the-deploy-check-0123456789abcdef",
        ALLOWED_HOSTS="inbox.bank.example",
        **extra,
    )
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def test_check_deploy_is_clean_in_the_production_configuration():
    done = _run(_production_env(), "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_debug_is_off_and_https_on_unless_asked():
    show = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS, s.CONN_HEALTH_CHECKS if hasattr(s, 'CONN_HEALTH_CHECKS') else"
        " s.DATABASES['default']['CONN_HEALTH_CHECKS'])"
    )
    production = _run(_production_env(), "-c", show)
    assert production.stdout.split() == ["False", "True", "True", "True", "31536000", "True"], (
        production.stderr
    )
    development = _run({**_production_env(), "DEBUG": "true"}, "-c", show)
    assert development.stdout.split()[:5] == ["True", "False", "False", "False", "0"], (
        development.stderr
    )
    # Each HTTPS setting can be switched off on its own (TLS ends elsewhere, a local trial).
    no_redirect = _run(_production_env(SECURE_SSL_REDIRECT="false"), "-c", show)
    assert no_redirect.stdout.split()[:3] == ["False", "False", "True"]


def test_production_without_a_secret_key_refuses_to_start():
    env = _production_env()
    del env["SECRET_KEY"]
    done = _run(env, "manage.py", "check")
    assert done.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false" in done.stderr


def test_a_bad_docs_access_value_refuses_to_start():
    done = _run(_production_env(CLEANINBOX_API_DOCS="everyone"), "manage.py", "check")
    assert done.returncode != 0
    assert "CLEANINBOX_API_DOCS='everyone'" in done.stderr
