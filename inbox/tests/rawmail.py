"""Raw RFC 5322 messages for the raw-email tests: built with the email package, as a
mail client would send them, plus hand-written broken ones."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime


def raw_email(
    n: int = 0,
    *,
    subject: str = "Card not arrived",
    body: str = "Hi,\n\nI still have not received my new card, it has been two weeks.\n\nThanks\nJane",
    sender: str = "Jane Customer <jane{n}@customer.example>",
    message_id: str | None = "<raw-{n}@customer.example>",
    in_reply_to: str | None = None,
    references: str | None = None,
    html: str | None = None,
    attachment: tuple[str, str, bytes] | None = None,
    cc: str | None = None,
) -> bytes:
    """A well-formed message; ``{n}`` in sender and Message-ID makes each one distinct."""
    msg = EmailMessage()
    msg["From"] = sender.format(n=n)
    msg["To"] = "Support <support@bank.example>"
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2024, 3, 1, 9, 30, n % 60, tzinfo=UTC))
    if message_id:
        msg["Message-ID"] = message_id.format(n=n)
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    if attachment:
        name, mime, data = attachment
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


# Readable but wrong: a charset that does not exist, broken base64, an unparseable Date.
MALFORMED = (
    b"From: Broken Client <broken@customer.example>\r\n"
    b"To: support@bank.example\r\n"
    b"Subject: =?bogus-charset?Q?card_declined?=\r\n"
    b"Date: the day before yesterday\r\n"
    b"Message-ID: <malformed-1@customer.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=x-no-such-charset\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"TXkgY2FyZCB3YXMgZGVjbGluZWQgYXQgdGhlIHNob3A=!!\r\n"
)

# No From header at all: nothing says who to answer.
NO_SENDER = (
    b"To: support@bank.example\r\n"
    b"Subject: where is my money\r\n"
    b"Message-ID: <no-sender-1@customer.example>\r\n"
    b"\r\n"
    b"My transfer has not arrived.\r\n"
)

# A sender but not one readable word.
NOTHING_READABLE = (
    b"From: someone@customer.example\r\nMessage-ID: <empty-1@customer.example>\r\n\r\n   \r\n"
)


def mbox(*messages: bytes) -> bytes:
    """An mbox file holding ``messages`` in order (From_ lines, >From quoting)."""
    import mailbox
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "box.mbox"
        box = mailbox.mbox(str(path))
        for message in messages:
            box.add(message)
        box.flush()
        box.close()
        return path.read_bytes()
