"""Who may read the schema and the docs pages: CLEANINBOX_API_DOCS (issue 9)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
PAGES = ["/api/schema/", "/api/docs/", "/api/redoc/"]


def test_by_default_only_signed_in_users_and_tokens_read_the_docs(
    settings, api_client, client, agent
):
    assert settings.CLEANINBOX_API_DOCS == "authenticated"
    anonymous = APIClient()
    for page in PAGES:
        assert anonymous.get(page).status_code == 401, page
        assert api_client.get(page).status_code == 200, page
    client.force_login(agent)
    assert client.get("/api/docs/").status_code == 200


def test_public_docs_need_no_login(settings):
    settings.CLEANINBOX_API_DOCS = "public"
    for page in PAGES:
        assert APIClient().get(page).status_code == 200, page


def test_docs_switched_off_are_not_found_even_when_signed_in(settings, api_client):
    settings.CLEANINBOX_API_DOCS = "off"
    for page in PAGES:
        assert api_client.get(page).status_code == 404, page
