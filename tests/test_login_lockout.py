"""Repeated wrong passwords lock the username from that address (django-axes, issue 9)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _login(client, password: str):
    return client.post("/accounts/login/", {"username": "agent", "password": password})


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, agent, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert _login(client, "wrong-password").status_code == 200  # the form again, with an error
    locked = _login(client, "wrong-password")
    assert locked.status_code == 429
    assert "Too many failed log-ins" in locked.content.decode()
    # Locked: the right password does not get in either, and no session is created.
    again = _login(client, "agent-pass-123")
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_admin_login_is_locked_the_same_way(client, staff):
    for _ in range(5):
        client.post("/admin/login/", {"username": "lead", "password": "nope"})
    response = client.post("/admin/login/", {"username": "lead", "password": "lead-pass-123"})
    assert response.status_code == 429


def test_a_correct_login_resets_the_count(client, agent):
    for _ in range(4):
        _login(client, "wrong-password")
    assert _login(client, "agent-pass-123").status_code == 302
    client.logout()
    for _ in range(4):
        assert _login(client, "wrong-password").status_code == 200
