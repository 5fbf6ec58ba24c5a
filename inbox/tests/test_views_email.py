"""An email's page and the corrections agents make from it and from lists."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox.models import Correction, Email, Priority
from inbox.tests.factories import EmailFactory

pytestmark = pytest.mark.django_db

TOP3 = [
    {"intent": "card_arrival", "probability": 0.41},
    {"intent": "card_delivery_estimate", "probability": 0.33},
    {"intent": "lost_or_stolen_card", "probability": 0.09},
]


def to_review(**kw) -> Email:
    defaults = dict(
        intent="card_arrival", predicted_intent="card_arrival", confidence=0.41, top_k=TOP3,
        status=Email.Status.NEEDS_REVIEW, model_version="tfidf-20240501",
        classified_at=timezone.now(),
    )  # fmt: skip
    return EmailFactory(**{**defaults, **kw})


@pytest.fixture
def logged_in(client, agent):
    client.force_login(agent)
    return client


def page(client, email: Email, **params) -> str:
    response = client.get(reverse("inbox:email", args=[email.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_shows_prediction_top3_model_version_and_what_the_model_saw(logged_in):
    email = to_review(
        subject="Card?",
        body_text="Hi,\nwhere is my card?\n-- \nAda",
        model_input="Card? where is my card?",
    )
    html = page(logged_in, email)
    assert "Card arrival" in html and "41%" in html
    for title, p in [
        ("Card arrival", "41.0%"),
        ("Card delivery estimate", "33.0%"),
        ("Lost or stolen card", "9.0%"),
    ]:
        assert re.search(
            rf'class="alt-name">{title}</span>\s*<span class="alt-p">{re.escape(p)}', html
        )
    assert 'data-key="1"' in html and 'data-key="3"' in html and 'data-key="a"' in html
    assert "tfidf-20240501" in html
    assert "What the model saw" in html and "Card? where is my card?" in html
    assert "No agent has changed this email’s intent." in html
    assert 'list="intent-options"' in html and html.count("<option value=") == 77


def test_html_bodies_are_sanitised_into_a_sandboxed_frame(logged_in):
    email = to_review(
        body_text="",
        body_html='<p onclick="steal()">Hello</p><script>window.__pwned=1</script>'
        '<img src="https://tracker.example/p.gif" onerror="x()"><a href="javascript:alert(1)">x</a>',
    )
    html = page(logged_in, email)
    frame = re.search(r'<iframe class="body-frame" ([^>]*)>', html).group(1)
    assert 'sandbox=""' in frame
    srcdoc = unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1))
    assert "<p>Hello</p>" in srcdoc
    for bad in ("<script", "__pwned", "onclick", "onerror", "javascript:"):
        assert bad not in srcdoc
    assert "default-src 'none'" in srcdoc  # remote images are not fetched either
    assert "<script>window.__pwned" not in html


def test_subject_sender_and_text_are_escaped(logged_in):
    email = to_review(
        subject="<script>alert(1)</script>",
        sender_name='"><b>x</b>',
        body_text="<img src=x onerror=alert(2)>",
        model_input="<i>seen</i>",
    )
    html = page(logged_in, email)
    assert "<script>alert(1)" not in html and "<img src=x" not in html and "<i>seen</i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;i&gt;seen&lt;/i&gt;" in html


def test_one_click_on_an_alternative_records_a_ui_correction_and_moves_the_email(logged_in, agent):
    email = to_review()
    response = logged_in.post(
        reverse("inbox:correct", args=[email.pk]), {"intent": "card_delivery_estimate"}
    )
    assert response.status_code == 302
    email.refresh_from_db()
    assert (email.intent, email.status) == ("card_delivery_estimate", Email.Status.CLASSIFIED)
    correction = Correction.objects.get()
    assert (correction.via, correction.user, correction.model_intent) == (
        "ui",
        agent,
        "card_arrival",
    )
    assert not correction.agrees_with_model
    folder = logged_in.get(
        reverse("inbox:folder", args=["card_delivery_estimate"])
    ).content.decode()
    assert f'data-id="{email.pk}"' in folder
    review = logged_in.get(reverse("inbox:folder", args=["review"])).content.decode()
    assert f'data-id="{email.pk}"' not in review


def test_accept_confirms_the_prediction_and_counts_as_agreement(logged_in):
    email = to_review()
    logged_in.post(reverse("inbox:correct", args=[email.pk]), {"intent": "card_arrival"})
    correction = Correction.objects.get()
    assert correction.new_intent == correction.model_intent == "card_arrival"
    assert correction.agrees_with_model
    html = page(logged_in, email)
    assert "agrees with model" in html
    assert "Set to <strong>Card arrival</strong> by agent" in html


def test_any_intent_can_be_picked_by_its_title(logged_in):
    email = to_review()
    logged_in.post(reverse("inbox:correct", args=[email.pk]), {"intent": "refund not showing up"})
    email.refresh_from_db()
    assert email.intent == "Refund_not_showing_up"


def test_an_unknown_intent_changes_nothing_and_says_why(logged_in):
    email = to_review()
    response = logged_in.post(
        reverse("inbox:correct", args=[email.pk]), {"intent": "<b>nonsense</b>"}, follow=True
    )
    assert Correction.objects.count() == 0
    html = response.content.decode()
    assert "There is no intent called “&lt;b&gt;nonsense&lt;/b&gt;”." in html


def test_a_correction_moves_on_to_the_next_email_of_the_queue(logged_in):
    now = timezone.now()
    first = to_review(received_at=now)
    second = to_review(received_at=now - timedelta(minutes=1))
    response = logged_in.post(
        reverse("inbox:correct", args=[first.pk]) + "?folder=review",
        {"intent": "card_arrival"},
        follow=True,
    )
    assert (
        response.redirect_chain[-1][0]
        == reverse("inbox:email", args=[second.pk]) + "?folder=review"
    )
    html = response.content.decode()
    assert "Confirmed" in html and "Card arrival" in html  # the flash names the decision
    last = logged_in.post(
        reverse("inbox:correct", args=[second.pk]) + "?folder=review", {"intent": "card_arrival"}
    )
    assert last["Location"] == reverse("inbox:folder", args=["review"])


def test_the_page_links_to_the_previous_and_next_emails_of_its_list(logged_in):
    # Needs review is a work queue: most urgent first, then the longest waiting.
    now = timezone.now()
    newer = to_review(received_at=now)
    middle = to_review(received_at=now - timedelta(minutes=1))
    older = to_review(received_at=now - timedelta(minutes=2))
    to_review(received_at=now - timedelta(minutes=3), status=Email.Status.CLASSIFIED)
    html = page(logged_in, middle, folder="review")
    assert f'id="previous" href="/emails/{older.pk}/?folder=review"' in html
    assert f'id="next" href="/emails/{newer.pk}/?folder=review"' in html
    last = page(logged_in, newer, folder="review")
    assert 'id="next"' not in last  # the classified one is not in this list
    urgent = to_review(received_at=now, priority=Priority.URGENT)
    first = page(logged_in, urgent, folder="review")
    assert 'id="previous"' not in first and f'id="next" href="/emails/{older.pk}/' in first
    searched = page(logged_in, middle, folder="review", q="card")
    assert 'href="/folders/review/?q=card" id="back-to-list"' in searched


def test_bulk_relabel_moves_every_selected_email(logged_in):
    a, b, untouched = to_review(), to_review(), to_review()
    response = logged_in.post(
        reverse("inbox:relabel") + "?folder=review",
        {"ids": [a.pk, b.pk], "intent": "Card swallowed"},
        follow=True,
    )
    assert "Moved 2 emails to Card swallowed." in response.content.decode()
    assert set(Email.objects.filter(intent="card_swallowed").values_list("pk", flat=True)) == {
        a.pk,
        b.pk,
    }
    assert set(Correction.objects.values_list("via", flat=True)) == {"ui"}
    untouched.refresh_from_db()
    assert untouched.status == Email.Status.NEEDS_REVIEW


def test_bulk_relabel_without_a_selection_or_intent_changes_nothing(logged_in):
    email = to_review()
    response = logged_in.post(reverse("inbox:relabel"), {"intent": "card_swallowed"}, follow=True)
    assert "Select at least one email." in response.content.decode()
    response = logged_in.post(
        reverse("inbox:relabel"), {"ids": [email.pk], "intent": "zzz"}, follow=True
    )
    assert "There is no intent called" in response.content.decode()
    assert Correction.objects.count() == 0


def test_an_unclassified_email_can_still_be_given_an_intent(logged_in):
    email = EmailFactory(status=Email.Status.PENDING)
    html = page(logged_in, email)
    assert "The model has not classified this email yet." in html
    assert 'data-key="a"' not in html
    logged_in.post(reverse("inbox:correct", args=[email.pk]), {"intent": "card_arrival"})
    email.refresh_from_db()
    assert (email.status, email.intent) == (Email.Status.CLASSIFIED, "card_arrival")


def test_a_missing_email_is_404(logged_in):
    assert logged_in.get(reverse("inbox:email", args=[999999])).status_code == 404


def test_corrections_need_post(logged_in):
    email = to_review()
    assert logged_in.get(reverse("inbox:correct", args=[email.pk])).status_code == 405


def test_links_in_an_html_body_cannot_open_inside_the_inbox():
    from inbox.views.bodies import frame_document

    document = frame_document('<a href="https://phish.example/">verify</a>')
    assert '<base target="_blank">' in document  # refused by the sandbox: no allow-popups
    assert 'rel="noopener noreferrer nofollow"' in document
