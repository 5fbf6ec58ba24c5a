"""Headless Chromium against pytest-django's live server, for the inbox's end-to-end tests.

Debian's chromium is used as installed (no `playwright install`); every request that
would leave the live server is aborted and recorded, so a test can prove the inbox
fetches nothing from the network.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Playwright's sync API runs an event loop in this thread; Django would refuse ORM calls.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LAPTOP = {"width": 1366, "height": 860}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        yield browser
        browser.close()


class Browse:
    """A browser context on the live server, logged in or not, with request auditing."""

    def __init__(self, browser, base_url: str, viewport: dict) -> None:
        self.base_url = base_url
        self.context = browser.new_context(viewport=viewport, base_url=base_url)
        self.context.set_default_timeout(8000)
        self.offsite: list[str] = []
        self.context.route("**/*", self._only_live_server)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.dialogs: list[str] = []
        self.page.on("dialog", self._dialog)

    def _only_live_server(self, route) -> None:
        url = route.request.url
        if (
            url.startswith(("data:", "about:"))
            or urlsplit(url).netloc == urlsplit(self.base_url).netloc
        ):
            route.continue_()
        else:
            self.offsite.append(url)
            route.abort()

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def login(self, username: str, password: str):
        self.page.goto("/")
        assert "/accounts/login/" in self.page.url
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(self.base_url + "/")
        return self.page

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def browse(browser, live_server, settings) -> Iterator:
    """browse(viewport=...) -> Browse; contexts are closed after the test."""
    settings.CLEANINBOX_UI_POLL_SECONDS = 1
    opened: list[Browse] = []

    def open_context(viewport: dict = LAPTOP) -> Browse:
        opened.append(Browse(browser, live_server.url, viewport))
        return opened[-1]

    yield open_context
    for b in opened:
        b.context.close()


@pytest.fixture
def deliver(active_model, settings):
    """Ingest an email and classify it now with the real baseline; returns the Email."""
    from classifier.services import classify_emails
    from inbox.services import IncomingEmail, ingest_email

    # Fixed, so which example lands in review does not hinge on the trained threshold.
    settings.CLEANINBOX_REVIEW_THRESHOLD = 0.5

    def deliver_one(subject: str, body: str = "", html: str = "", **kw):
        incoming = IncomingEmail(
            message_id=f"<{uuid.uuid4()}@e2e.example>",
            sender=kw.pop("sender", "customer@mail.example"),
            sender_name=kw.pop("sender_name", "Jane Customer"),
            subject=subject,
            body_text=body,
            body_html=html,
            **kw,
        )
        email = ingest_email(incoming).email
        classify_emails([email.pk])
        email.refresh_from_db()
        return email

    return deliver_one
