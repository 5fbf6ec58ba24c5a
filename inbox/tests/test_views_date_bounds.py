"""The inbox's date filters at the calendar's edge answer with a form error, not a 500
(issue 9: `before=9999-12-31` overflowed adding a day) on the list, its polled rows and
an email's page."""

from __future__ import annotations

import pytest

from inbox.tests.factories import EmailFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "params", [{"before": "9999-12-31"}, {"after": "0001-01-01"}, {"before": "3000-01-01"}]
)
def test_out_of_range_dates_are_a_form_error_everywhere(client, agent, params):
    client.force_login(agent)
    email = EmailFactory()
    folder = client.get("/folders/all/", params)
    assert folder.status_code == 200
    assert "Ensure this value is" in folder.content.decode()
    rows = client.get("/folders/all/rows/", params)
    assert rows.status_code == 200
    page = client.get(f"/emails/{email.pk}/", {"folder": "all", **params})
    assert page.status_code == 200


def test_the_last_allowed_day_filters_normally(client, agent):
    client.force_login(agent)
    email = EmailFactory()
    response = client.get("/folders/all/", {"after": "1900-01-01", "before": "2999-12-31"})
    assert response.status_code == 200
    assert email.subject in response.content.decode()


def test_a_search_with_too_many_words_is_a_form_error(client, agent):
    client.force_login(agent)
    response = client.get("/folders/all/", {"q": " ".join(["card"] * 11)})
    assert response.status_code == 200
    assert "at most 10 words" in response.content.decode()
