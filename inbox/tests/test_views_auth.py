"""Who may see the inbox: login, redirects for anonymous users, the admin for staff only."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PAGES = [
    reverse("inbox:home"),
    reverse("inbox:folder", args=["review"]),
    reverse("inbox:folder", args=["card_arrival"]),
    reverse("inbox:email", args=[1]),
    reverse("inbox:overview"),
    reverse("inbox:report-image", args=["v1", "reliability"]),
]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_users_are_sent_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_posting_a_correction_anonymously_changes_nothing(client):
    response = client.post(reverse("inbox:correct", args=[1]), {"intent": "card_arrival"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_login_page_logs_an_agent_into_the_inbox(client, agent):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b'name="username"' in page.content and b'name="password"' in page.content
    response = client.post(reverse("login"), {"username": "agent", "password": "agent-pass-123"})
    assert response.status_code == 302
    assert response["Location"] == reverse("inbox:home")
    assert client.get(reverse("inbox:home")).status_code == 200


def test_a_wrong_password_is_refused_with_a_message(client, agent):
    response = client.post(reverse("login"), {"username": "agent", "password": "nope"})
    assert response.status_code == 200
    assert "didn’t match" in response.content.decode()


def test_agents_cannot_reach_the_admin_and_see_no_admin_link(client, agent):
    client.force_login(agent)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client.get("/admin/inbox/email/").status_code == 302
    assert 'class="admin-link"' not in client.get(reverse("inbox:home")).content.decode()


def test_staff_see_the_admin_link_and_can_open_the_admin(client, staff):
    client.force_login(staff)
    assert 'class="admin-link"' in client.get(reverse("inbox:home")).content.decode()
    assert client.get("/admin/").status_code == 200


def test_logging_out_takes_a_post_and_ends_the_session(client, agent):
    client.force_login(agent)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("inbox:home")).status_code == 302
