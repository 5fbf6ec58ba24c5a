"""The "Why this intent" panel in a real browser, with the real baseline and its index."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from inbox.models import Explanation, ExplanationFlag
from tests.e2e.conftest import PHONE
from tests.e2e.test_inbox import wider

pytestmark = pytest.mark.timeout(180)

SWALLOWED = ("ATM kept my card", "The ATM swallowed my card this morning, what should I do?")


@pytest.fixture
def indexed(active_model, banking77_dir, settings):
    settings.CLEANINBOX_DATA_DIR = banking77_dir
    call_command("build_explanation_index", verbosity=0)
    return active_model


def test_the_panel_loads_on_demand_highlights_words_shows_neighbours_and_takes_a_flag(
    browse, deliver, agent, indexed
):
    email = deliver(*SWALLOWED)
    assert email.predicted_intent == "card_swallowed"
    b = browse()
    page = b.login("agent", "agent-pass-123")
    page.goto(f"/emails/{email.pk}/")
    panel = page.locator("#explanation")
    expect(panel).to_be_visible()
    expect(page.locator("#explained-text")).to_have_count(0)
    assert not Explanation.objects.exists()  # nothing computed until the agent asks

    page.wait_for_load_state()
    page.keyboard.press("w")  # the shortcut opens it, as a click on the summary does
    marks = page.locator("#explained-text mark.is-top")
    expect(marks.first).to_be_visible()
    top = page.locator("#top-words li").first
    expect(top).to_contain_text(re.compile("ATM|swallowed"))
    expect(top.locator(".without")).to_contain_text("without it: ")
    neighbours = page.locator("#neighbours li")
    expect(neighbours).to_have_count(5)
    expect(neighbours.first).to_contain_text("Card swallowed")
    expect(page.locator("#neighbours .tag.agree").first).to_be_visible()
    assert Explanation.objects.filter(email=email).count() == 1
    panel.scroll_into_view_if_needed()
    b.screenshot("email-explanation")

    page.fill(".explain-flag input[name=reason]", "highlights the word 'my'")
    page.click("#flag-explanation")
    expect(page.locator("#explain-flagged")).to_contain_text("flagged for review")
    flag = ExplanationFlag.objects.get()
    assert (flag.email_id, flag.reason, flag.model_version) == (
        email.pk,
        "highlights the word 'my'",
        indexed.version,
    )

    # Opened again, it comes from the cache and counts the flag.
    page.reload()
    page.click("#explanation summary")
    expect(page.locator(".explain-meta")).to_contain_text("cached")
    expect(page.locator(".explain-meta")).to_contain_text("flagged 1 time")
    assert b.errors == [] and b.offsite == []

    # On a phone the panel fits the screen (long words wrap, the bars shrink).
    phone = browse(viewport=PHONE)
    small = phone.login("agent", "agent-pass-123")
    small.goto(f"/emails/{email.pk}/")
    small.click("#explanation summary")
    expect(small.locator("#neighbours li")).to_have_count(5)
    assert wider(small) == []
    small.locator("#explanation").scroll_into_view_if_needed()
    phone.screenshot("narrow-explanation")
