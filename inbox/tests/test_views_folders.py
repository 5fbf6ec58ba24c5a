"""The inbox home and a folder's list: counts, review queue, search, filters, polling."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox.models import Email
from inbox.tests.factories import EmailFactory

pytestmark = pytest.mark.django_db


def routed(intent: str, confidence: float = 0.93, **kw) -> Email:
    return EmailFactory(
        intent=intent, predicted_intent=intent, confidence=confidence,
        status=Email.Status.CLASSIFIED, model_version="tfidf-test", **kw,
    )  # fmt: skip


def to_review(intent: str, confidence: float = 0.31, **kw) -> Email:
    return EmailFactory(
        intent=intent, predicted_intent=intent, confidence=confidence,
        status=Email.Status.NEEDS_REVIEW, model_version="tfidf-test", **kw,
    )  # fmt: skip


def listed_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'data-id="(\d+)"', response.content.decode())]


def count_of(html: str, key: str) -> int:
    return int(re.search(rf'data-count="{re.escape(key)}">(\d+)<', html).group(1))


@pytest.fixture
def logged_in(client, agent):
    client.force_login(agent)
    return client


def test_home_shows_queues_and_families_with_counts(logged_in):
    routed("card_arrival")
    routed("card_arrival")
    routed("atm_support")
    to_review("card_arrival")
    EmailFactory(status=Email.Status.PENDING)
    html = logged_in.get(reverse("inbox:home")).content.decode()
    assert count_of(html, "review") == 1
    assert count_of(html, "unclassified") == 1
    assert count_of(html, "card_arrival") == 2  # the one waiting for review is not routed yet
    assert count_of(html, "atm_support") == 1
    assert 'data-count="failed"' not in html  # shown only when something failed
    for family in ("Cards", "Top-ups", "Cash &amp; ATM", "Account &amp; identity"):
        assert f"<h2>{family}</h2>" in html
    assert "Card arrival" in html
    assert "The customer&#x27;s ordered card has not arrived yet." in html
    assert html.index("Needs review") < html.index("<h2>Cards</h2>")


def test_failed_appears_when_something_failed(logged_in):
    EmailFactory(status=Email.Status.FAILED)
    assert count_of(logged_in.get(reverse("inbox:home")).content.decode(), "failed") == 1


def test_an_intent_folder_lists_its_routed_emails_longest_waiting_first(logged_in):
    now = timezone.now()
    old = routed("card_arrival", received_at=now - timedelta(hours=5))
    new = routed(
        "card_arrival",
        received_at=now - timedelta(minutes=5),
        subject="Where is it",
        sender_name="Ada Lovelace",
        body_text="\n> quoted\nStill waiting for my card.\nThanks",
    )
    routed("atm_support")
    to_review("card_arrival")
    response = logged_in.get(reverse("inbox:folder", args=["card_arrival"]))
    assert listed_ids(response) == [old.pk, new.pk]
    html = response.content.decode()
    assert "Ada Lovelace" in html and "Where is it" in html
    assert "Still waiting for my card." in html  # first line of the customer's own words
    assert "93%" in html
    assert "The customer&#x27;s ordered card has not arrived yet." in html


def test_needs_review_lists_low_confidence_emails_with_their_guess(logged_in):
    doubtful = to_review("lost_or_stolen_card", confidence=0.22)
    routed("card_arrival")
    response = logged_in.get(reverse("inbox:folder", args=["review"]))
    assert listed_ids(response) == [doubtful.pk]
    html = response.content.decode()
    assert "Lost or stolen card" in html and "22%" in html
    assert 'name="status"' not in html  # a queue is its status


def test_search_covers_subject_and_body_within_the_folder(logged_in):
    by_subject = routed("card_arrival", subject="Parcel never came")
    by_body = routed("card_arrival", body_text="the parcel with my card is lost")
    routed("card_arrival", subject="Other", body_text="nothing relevant")
    routed("atm_support", subject="parcel at the ATM")
    response = logged_in.get(reverse("inbox:folder", args=["card_arrival"]), {"q": "PARCEL"})
    assert sorted(listed_ids(response)) == sorted([by_subject.pk, by_body.pk])
    all_mail = logged_in.get(reverse("inbox:folder", args=["all"]), {"q": "parcel"})
    assert len(listed_ids(all_mail)) == 3


def test_status_filter_and_any_status_survive_in_links(logged_in):
    ok = routed("card_arrival")
    doubtful = to_review("card_arrival")
    url = reverse("inbox:folder", args=["card_arrival"])
    assert listed_ids(logged_in.get(url, {"status": "needs_review"})) == [doubtful.pk]
    response = logged_in.get(url, {"status": "any"})
    assert sorted(listed_ids(response)) == sorted([ok.pk, doubtful.pk])
    assert "status=any" in response.content.decode()  # email links keep the agent's choice


def test_date_filter_includes_the_whole_last_day(logged_in):
    today = timezone.localdate()
    start = timezone.make_aware(timezone.datetime.combine(today, timezone.datetime.min.time()))
    late_today = routed("card_arrival", received_at=start + timedelta(hours=23))
    routed("card_arrival", received_at=start - timedelta(days=3))
    url = reverse("inbox:folder", args=["card_arrival"])
    params = {"after": today.isoformat(), "before": today.isoformat()}
    assert listed_ids(logged_in.get(url, params)) == [late_today.pk]


def test_a_bad_date_range_is_explained_not_a_crash(logged_in):
    response = logged_in.get(
        reverse("inbox:folder", args=["all"]), {"after": "2024-05-02", "before": "2024-05-01"}
    )
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()


def test_lists_are_paginated_25_to_a_page(logged_in):
    now = timezone.now()
    emails = [routed("card_arrival", received_at=now + timedelta(minutes=i)) for i in range(30)]
    url = reverse("inbox:folder", args=["card_arrival"])
    first = logged_in.get(url)
    assert listed_ids(first) == [e.pk for e in emails[:25]]
    assert "1–25 of 30" in first.content.decode()
    second = logged_in.get(url, {"page": 2})
    assert listed_ids(second) == [e.pk for e in emails[25:]]
    assert "hx-trigger" not in second.content.decode()  # only the first page polls


def test_an_unknown_folder_is_404(logged_in):
    assert logged_in.get(reverse("inbox:folder", args=["no_such_intent"])).status_code == 404


def test_the_intent_with_a_question_mark_has_a_working_folder(logged_in):
    email = routed("reverted_card_payment?")
    url = reverse("inbox:folder", args=["reverted_card_payment?"])
    assert "%3F" in url
    assert listed_ids(logged_in.get(url)) == [email.pk]


def test_the_first_page_polls_its_rows_and_gets_204_until_something_changes(logged_in):
    routed("card_arrival")
    page = logged_in.get(reverse("inbox:folder", args=["card_arrival"])).content.decode()
    poll_url = re.search(r'hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert "hx-trigger=\"every 5s [document.visibilityState === 'visible']\"" in page
    assert logged_in.get(poll_url).status_code == 204

    newcomer = routed("card_arrival")
    fresh = logged_in.get(poll_url, HTTP_HX_REQUEST="true")
    assert fresh.status_code == 200
    assert newcomer.pk in listed_ids(fresh)
    html = fresh.content.decode()
    assert 'id="nav-queues" hx-swap-oob="true"' in html  # queue counts refresh too
    assert '<span class="count" id="list-total" hx-swap-oob="true">2</span>' in html


def test_polling_notices_a_new_email_in_another_queue(logged_in):
    routed("card_arrival")
    page = logged_in.get(reverse("inbox:folder", args=["card_arrival"])).content.decode()
    poll_url = re.search(r'hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    to_review("atm_support")
    fresh = logged_in.get(poll_url, HTTP_HX_REQUEST="true")
    assert fresh.status_code == 200  # same rows, but the review count must refresh
    assert count_of(fresh.content.decode(), "review") == 1


def test_polling_after_the_session_ended_sends_the_whole_page_to_login(client):
    response = client.get(reverse("inbox:folder-rows", args=["all"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("login") + "?next=/folders/all/")


def test_htmx_is_served_from_our_own_static_files(logged_in):
    html = logged_in.get(reverse("inbox:home")).content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert any(s.endswith("htmx-2.min.js") for s in scripts)
    assert all(s.startswith("/static/") for s in scripts)
    assert "http://" not in html and "https://" not in html


def test_untrusted_sender_and_subject_are_escaped_in_lists(logged_in):
    routed(
        "card_arrival",
        subject='<img src=x onerror="alert(1)">',
        sender_name="<script>alert('name')</script>",
        body_text="<b>bold</b> first line",
    )
    html = logged_in.get(reverse("inbox:folder", args=["card_arrival"])).content.decode()
    assert "<script>alert(" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; first line" in html


def test_clear_appears_only_when_the_agent_filtered(logged_in):
    url = reverse("inbox:folder", args=["card_arrival"])
    assert ">Clear</a>" not in logged_in.get(url).content.decode()
    assert ">Clear</a>" not in logged_in.get(url, {"status": "classified"}).content.decode()
    filtered = logged_in.get(url, {"q": "nothing-matches"}).content.decode()
    assert ">Clear</a>" in filtered and "No emails match these filters." in filtered
