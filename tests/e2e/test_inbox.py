"""The inbox in a real browser: review, correct, search, live updates, hostile emails.

Emails are ingested through inbox.services and classified by the real TF-IDF baseline
(the `active_model` fixture), exactly as the Celery task would.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inbox.models import Correction, Email
from tests.e2e.conftest import PHONE

pytestmark = pytest.mark.timeout(120)

ARRIVAL = ("My new card still hasn't arrived", "Hello, I ordered my card two weeks ago and it still has not arrived. When will I get my card?")  # fmt: skip
SWALLOWED = ("ATM kept my card", "The ATM swallowed my card this morning, what should I do?")
VAGUE = ("Question", "Hello, I have a question about something. Thanks")
VAGUE_TOO = ("Hi there", "Can you help me please?")
TOP_UP = ("Top up failed", "My top up failed, why did my top-up not work?")


def press(page, key: str) -> None:
    """Press a shortcut once the page has loaded (inbox.js is deferred)."""
    page.wait_for_load_state()
    page.keyboard.press(key)


def wider(page) -> list[str]:
    """Elements that stick out to the right of a phone's screen (for failure messages).

    An element inside a container that scrolls or clips sideways (the top bar's links on a
    phone) does not widen the page, so it does not count."""
    return page.evaluate(
        """Array.from(document.querySelectorAll('body *'))
          .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
          .filter(e => {
            for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
              if (getComputedStyle(p).overflowX !== 'visible') return false;
            }
            return true;
          })
          .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
          .slice(0, 10)"""
    )


def count(page, key: str):
    return page.locator(f'[data-count="{key}"]').first


def test_an_agent_reviews_and_corrects_emails_with_clicks_and_keys(browse, deliver, agent):
    arrival = deliver(*ARRIVAL)
    doubtful = deliver(*VAGUE)
    doubtful_too = deliver(*VAGUE_TOO)
    assert (arrival.status, arrival.intent) == (Email.Status.CLASSIFIED, "card_arrival")
    assert doubtful.status == doubtful_too.status == Email.Status.NEEDS_REVIEW

    b = browse()
    page = b.login("agent", "agent-pass-123")
    expect(count(page, "review")).to_have_text("2")
    expect(count(page, "card_arrival")).to_have_text("1")
    b.screenshot("inbox-home")

    # The confident one sits in its folder.
    page.click("a:has-text('Card arrival') >> nth=0")
    expect(page.locator("h1")).to_contain_text("Card arrival")
    expect(page.locator("#email-list tr.row")).to_have_count(1)
    expect(page.locator("#email-list")).to_contain_text(ARRIVAL[0])
    b.screenshot("inbox-folder")

    # The doubtful ones wait in Needs review, the longest waiting first (same priority);
    # open it and correct it with one click.
    page.click("#nav-queues a.queue-review")
    rows = page.locator("#email-list tr.row")
    expect(rows).to_have_count(2)
    rows.first.locator("a").click()
    expect(page.locator("h1.subject")).to_have_text(VAGUE[0])
    expect(page.locator("button.alternative")).to_have_count(3)
    expect(page.locator(".model-input pre")).to_contain_text("question about something")
    b.screenshot("email-page")
    second_choice = page.locator("button[data-key='2']")
    picked = second_choice.get_attribute("title")
    intent_title = second_choice.locator(".alt-name").inner_text()
    second_choice.click()

    # It moved: the page went on to the next email in the queue, and the count dropped.
    expect(page.locator(".message-success")).to_contain_text(f"Moved to {intent_title}")
    expect(page.locator("h1.subject")).to_have_text(VAGUE_TOO[0])
    expect(count(page, "review")).to_have_text("1")
    corrected = Email.objects.get(pk=doubtful.pk)
    assert corrected.status == Email.Status.CLASSIFIED
    assert corrected.intent == Correction.objects.get().new_intent != corrected.predicted_intent
    assert picked  # the button explains the intent it stands for

    # Keyboard: `a` accepts the model's answer; the queue is then empty.
    press(page, "a")
    expect(page.locator(".message-success")).to_contain_text("Confirmed")
    expect(page.locator("h1")).to_contain_text("Needs review")
    expect(count(page, "review")).to_have_text("0")
    expect(page.locator("#email-list")).to_contain_text("No emails here.")
    assert Email.objects.get(pk=doubtful_too.pk).corrections.get().agrees_with_model

    # The corrected email is listed in its new folder.
    page.goto(f"/folders/{corrected.intent}/")
    expect(page.locator("#email-list")).to_contain_text(VAGUE[0])

    # j/k move through a list, Enter opens, u goes back, ? shows the help.
    page.goto("/folders/all/")  # goto waits for "load": inbox.js has run
    press(page, "j")
    press(page, "j")
    expect(page.locator("tr.row.is-cursor")).to_have_count(1)
    press(page, "k")
    expect(page.locator("tr.row").first).to_have_class(re.compile("is-cursor"))
    press(page, "Enter")
    expect(page.locator("h1.subject")).to_be_visible()
    expect(page.locator("a#previous")).to_have_count(0)  # the first email of the list
    press(page, "j")
    expect(page.locator("a#previous")).to_be_visible()
    press(page, "?")
    expect(page.locator("dialog#shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("dialog#shortcuts")).to_be_hidden()
    press(page, "u")
    expect(page).to_have_url(re.compile(r"/folders/all/$"))
    assert b.errors == [] and b.offsite == []


def test_search_and_new_mail_arriving_while_the_list_is_open(browse, deliver, agent):
    deliver(*ARRIVAL)
    deliver(*SWALLOWED)
    b = browse()
    page = b.login("agent", "agent-pass-123")

    press(page, "/")
    page.keyboard.type("swallowed")
    press(page, "Enter")
    rows = page.locator("#email-list tr.row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(SWALLOWED[0])
    expect(page.locator("input[name=q]")).to_have_value("swallowed")

    page.goto("/folders/all/")
    expect(rows).to_have_count(2)
    rows.nth(1).locator("input[name=ids]").check()  # a ticked box survives the refresh
    newcomer = deliver(*TOP_UP)
    expect(rows).to_have_count(3, timeout=6000)  # polled every second in tests
    expect(rows.first).to_contain_text(TOP_UP[0])
    expect(page.locator("#list-total")).to_have_text("3")
    expect(rows.nth(2).locator("input[name=ids]")).to_be_checked()
    assert newcomer.intent == "top_up_failed"
    assert b.errors == [] and b.offsite == []


def test_scripts_in_an_email_never_run(browse, deliver, agent):
    hostile = deliver(
        subject='<script>window.__pwned=1;document.title="pwned"</script>Card not arrived',
        body="My card has not arrived yet.",
        html=(
            "<p>My card has <b>not</b> arrived yet.</p>"
            "<script>window.parent.__pwned=2;parent.document.title='pwned'</script>"
            '<img src="x" onerror="window.parent.__pwned=3;alert(3)">'
            '<img src="https://tracker.example/pixel.gif">'
            '<p><a id="phish" href="https://phish.example/login">Verify your account</a></p>'
        ),
        sender_name='<img src=x onerror="window.__pwned=4">',
    )
    b = browse()
    page = b.login("agent", "agent-pass-123")
    page.goto("/folders/all/")
    expect(page.locator("#email-list")).to_contain_text(
        '<script>window.__pwned=1;document.title="pwned"</script>Card not arrived'
    )
    page.goto(f"/emails/{hostile.pk}/")
    expect(page.locator("h1.subject")).to_contain_text("<script>")
    frame = page.frame_locator("iframe.body-frame")
    expect(frame.locator("p").first).to_contain_text("My card has not arrived yet.")
    frame.locator("a").click()  # a link in the email cannot open a page
    page.wait_for_timeout(300)
    expect(frame.locator("p").first).to_contain_text("My card has not arrived yet.")
    assert page.evaluate("window.__pwned") is None
    assert len(b.context.pages) == 1
    assert page.title().startswith("<script>window.__pwned=1")  # shown as text, not run
    assert b.dialogs == []
    assert b.offsite == []  # the tracking pixel was never requested
    b.screenshot("email-hostile")


def test_overview_and_a_narrow_screen(browse, deliver, agent):
    now = timezone.now()
    for days_ago, (subject, body) in enumerate([ARRIVAL, SWALLOWED, VAGUE, ARRIVAL, TOP_UP]):
        deliver(subject, body, received_at=now - timedelta(days=days_ago))
    b = browse()
    page = b.login("agent", "agent-pass-123")
    page.click("nav.topnav >> text=Overview")
    expect(page.locator("#kpi-received")).to_have_text("5")
    expect(page.locator("#model-version")).to_have_text(re.compile(r"^tfidf"))
    expect(page.locator("svg.chart")).to_be_visible()
    expect(page.locator("table.intent-volume tbody tr")).to_have_count(4)
    b.screenshot("overview")

    phone = browse(PHONE)
    page = phone.login("agent", "agent-pass-123")
    phone.screenshot("narrow-home")
    page.goto("/folders/all/")
    expect(page.locator(".sidebar")).to_be_hidden()
    expect(page.locator("#email-list tr.row")).to_have_count(5)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"nothing should scroll sideways on a phone: {wider(page)}"
    phone.screenshot("narrow-inbox")
    page.locator("#email-list tr.row a").first.click()
    expect(page.locator("h1.subject")).to_be_visible()
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], wider(page)
    phone.screenshot("narrow-email")
