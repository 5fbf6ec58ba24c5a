"""Send one outbox row: a signed webhook POST, or a message to a team's mailbox.

Both raise ``SendError`` (with the HTTP status when there is one) on anything that should
be retried, and return normally when the destination took the row.
"""

from __future__ import annotations

import json
import smtplib

import requests
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.serializers.json import DjangoJSONEncoder

from inbox.handoff import signing
from inbox.handoff.models import Delivery

USER_AGENT = "cleaninbox-webhooks/1"


class SendError(Exception):
    """A failed send; ``status_code`` is the HTTP status or SMTP reply code when the other
    side answered, None when it could not be reached (refused, timed out)."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


def body_of(row: Delivery) -> bytes:
    """The exact bytes POSTed (and signed): compact JSON, keys in a fixed order."""
    return json.dumps(row.payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def send(row: Delivery) -> int | None:
    """Deliver one row; returns the HTTP status for webhooks."""
    if row.kind == Delivery.Kind.WEBHOOK:
        return send_webhook(row)
    send_mail(row)
    return None


def send_webhook(row: Delivery) -> int:
    if row.endpoint is None:
        raise SendError("the webhook endpoint was deleted")
    body = body_of(row)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signing.headers(row.endpoint.secret, row.webhook_id, body),
    }
    timeout = settings.CLEANINBOX_HANDOFF_TIMEOUT
    # The endpoint's URL now, not when the row was written: an admin who fixes a wrong URL
    # (or rotates the secret) fixes the retries too. The row records where it went.
    row.destination = row.endpoint.url
    try:
        # No redirects: a 3xx is an answer from the configured URL, not an instruction to
        # send a signed customer email somewhere else.
        response = requests.post(
            row.destination, data=body, headers=headers, timeout=timeout, allow_redirects=False
        )
    except requests.RequestException as exc:
        raise SendError(f"{type(exc).__name__}: {_short(exc)}") from exc
    if not 200 <= response.status_code < 300:
        raise SendError(
            f"HTTP {response.status_code}: {_short(response.text) or response.reason}",
            response.status_code,
        )
    return response.status_code


def send_mail(row: Delivery) -> None:
    message = build_message(row)
    try:
        with get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT) as connection:
            sent = connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as exc:  # the server answered: it is not down
        codes = [code for code, _ in exc.recipients.values()]
        raise SendError(f"{type(exc).__name__}: {_short(exc)}", codes[0] if codes else 0) from exc
    except smtplib.SMTPConnectError as exc:
        raise SendError(f"{type(exc).__name__}: {_short(exc)}") from exc
    except smtplib.SMTPResponseException as exc:
        raise SendError(f"{type(exc).__name__}: {_short(exc)}", exc.smtp_code) from exc
    except (smtplib.SMTPException, OSError, ValueError) as exc:  # ValueError: a bad address
        raise SendError(f"{type(exc).__name__}: {_short(exc)}") from exc
    if not sent:
        raise SendError("the email backend sent nothing")


def build_message(row: Delivery) -> EmailMessage:
    """The message a team's mailbox gets: the customer's words and the triage beside them.

    Its Message-ID is the delivery's idempotency key, so a helpdesk that threads or
    de-duplicates by Message-ID sees a retry as the same message. Replies go to the
    customer.
    """
    data = row.payload["data"]
    email, intent = data["email"], data["intent"]
    reroute = row.payload["type"] == "email.rerouted"
    subject = (
        f"[{data['priority'].capitalize()}] {intent['title']}: {email['subject'] or '(no subject)'}"
    )
    if reroute:
        subject = "[Re-routed] " + subject
    sender = email["from"]
    lines = [
        f"From: {sender['name']} <{sender['address']}>"
        if sender["name"]
        else f"From: {sender['address']}",
        f"Received: {email['received_at']}",
        f"Intent: {intent['title']} ({intent['name']}, set by {intent['set_by']}"
        + (
            f", confidence {intent['confidence']:.0%})" if intent["confidence"] is not None else ")"
        ),
        f"Team: {data['team']['name'] if data['team'] else '—'}",
        f"Priority: {data['priority']}",
        f"SLA: first handling due {data['sla_due_at'] or '—'}",
        f"Reference: {email['reference']}" + (f" · {email['url']}" if email["url"] else ""),
    ]
    if reroute and data["previous"]:
        prev = data["previous"]
        lines.append(f"Previously: {prev.get('intent') or '—'} / team {prev.get('team') or '—'}")
    lines += ["", "— The customer wrote —", "", email["text"] or email["cleaned_text"]]
    for reply in data["canned_replies"]:
        lines += ["", f"— Suggested reply: {reply['title']} —", "", reply["body"]]
    return EmailMessage(
        subject=" ".join(subject.split())[:200],
        body="\n".join(lines) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.destination],
        reply_to=[email["from"]["address"]],
        headers={
            "Message-ID": f"<{row.uuid}@cleaninbox>",
            "X-Cleaninbox-Delivery": row.webhook_id,
            "X-Cleaninbox-Event": row.payload["type"],
        },
    )


def _short(value: object, limit: int = 300) -> str:
    return " ".join(str(value).split())[:limit]
