"""Reading mail: raw bytes to a ParsedEmail, and an email to the text the model reads.

Pure Python, no Django. The rest of cleaninbox uses this surface only:

- ``parse_message(raw)`` -> ``ParsedEmail`` (headers, bodies, attachments, defects, and
  ``automatic``: why the message is automatic mail, or "");
- ``model_input(subject, body_text, body_html)`` -> the customer's own words, one line;
- ``automatic_reason(headers, ...)`` -> "auto_reply" | "bounce" | "mailing_list" | "";
- ``html_to_text(html)`` for showing an HTML-only body;
- ``routing_headers(items)`` -> the few header fields routing rules may read.

The modules behind it: ``parsing`` (MIME), ``htmltext`` (HTML to text), ``cleaning``
(split quotes and forwards, cut furniture), ``furniture`` (the patterns, as data, per
language), ``automatic`` (auto-replies, bounces, lists).
"""

from __future__ import annotations

from inbox.mail.automatic import automatic_reason
from inbox.mail.htmltext import html_to_text
from inbox.mail.parsing import ParsedEmail, parse_message, routing_headers

__all__ = [
    "ParsedEmail", "automatic_reason", "html_to_text", "model_input", "parse_message",
    "routing_headers",
]  # fmt: skip


def model_input(subject: str, body_text: str, body_html: str = "", max_chars: int = 512) -> str:
    """The text the classifier reads for one email: what the customer wrote (quoted
    history, reply headers, signatures, footers and greetings removed), with the subject in
    front when it says something, on one line of at most ``max_chars`` characters.

    ``body_html`` is read only when there is no plain-text body.
    """
    from inbox.mail.cleaning import model_input as clean

    text = body_text or (html_to_text(body_html) if body_html else "")
    return clean(subject, text, max_chars)
