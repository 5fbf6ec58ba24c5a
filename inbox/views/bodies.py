"""Safe renderings of an email's untrusted content: sanitised HTML and a preview line.

Pure Python (nh3 and the project's HTML-to-text), no Django.
"""

from __future__ import annotations

import nh3

from inbox.mail.cleaning import clean_subject
from inbox.mail.htmltext import html_to_text

# The sanitised body goes into a sandboxed iframe (no scripts, unique origin). The CSP
# also stops remote images and fonts: a tracking pixel must not learn that an agent
# opened the email, and the inbox fetches nothing from the network. Links target a new
# window, which the sandbox (no allow-popups) refuses: a phishing link cannot load its
# page inside the inbox; agents read the address by hovering.
_FRAME_HEAD = (
    '<!doctype html><html><head><meta charset="utf-8">'
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    "style-src 'unsafe-inline'; img-src data:\">"
    '<meta name="referrer" content="no-referrer"><base target="_blank">'
    "<style>body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "color:#1d2430;margin:12px;overflow-wrap:anywhere}img{max-width:100%;height:auto}"
    "blockquote{margin:0 0 0 .5em;padding-left:.75em;border-left:3px solid #ccd3de;color:#55606e}"
    "table{border-collapse:collapse}td,th{padding:2px 6px}</style></head><body>"
)
_FRAME_TAIL = "</body></html>"
PREVIEW_CHARS = 140


def sanitize_html(html: str) -> str:
    """The email's HTML with scripts, event handlers, styles and unsafe URLs removed."""
    return nh3.clean(
        html,
        link_rel="noopener noreferrer nofollow",
        url_schemes={"http", "https", "mailto"},
    )


def frame_document(html: str) -> str:
    """A complete document for an iframe's ``srcdoc``: sanitised body under a strict CSP."""
    return _FRAME_HEAD + sanitize_html(html) + _FRAME_TAIL


def first_line(body_text: str, body_html: str = "", limit: int = PREVIEW_CHARS) -> str:
    """The first line of the customer's own text (quotes skipped), cut to ``limit`` chars."""
    text = body_text or (html_to_text(body_html) if body_html else "")
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(">"):
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return ""


def preview(email, limit: int = PREVIEW_CHARS) -> str:
    """What the customer asked, for a list row: the start of the cleaned text the model
    read (greetings, quotes and signatures already cut), without the subject shown beside
    it. Emails stored before the cleaned text existed fall back to the body's first line."""
    text = email.model_input or ""
    if not text:
        return first_line(email.body_text, email.body_html, limit)
    topic = clean_subject(email.subject or "")
    if topic and text.casefold().startswith(topic.casefold()):
        text = text[len(topic) :].lstrip(" .:;!?-")
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
