"""Raw RFC 5322 messages into cleaninbox: the one path shared by POST /api/emails/raw/,
``manage.py import_emails`` and the IMAP poller.

``inbox.mail.parsing`` reads whatever it can and lists what was wrong; this module decides
what is storable. A malformed message is stored with what could be read and its
``parse_defects`` set; only a message without a sender address, or without a subject
and any readable text, is rejected, with a reason a person can act on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import nh3
from django.conf import settings
from django.db import InterfaceError, OperationalError

from inbox.mail.parsing import SYNTHETIC_ID_DOMAIN, ParsedEmail, parse_message
from inbox.models import Email
from inbox.services import IncomingEmail, count_rejected, ingest_email, ingest_many

logger = logging.getLogger(__name__)

# A References header can list a whole thread; its first id (the root) and the latest
# ones are what threading needs.
_MAX_REFERENCES = 50


def _max_length(name: str) -> int:
    return Email._meta.get_field(name).max_length


class RejectedMessage(ValueError):
    """A message with nothing worth storing; ``field`` names the part that is missing."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass
class RawOutcome:
    """What happened to one raw message: stored, already stored, rejected with a reason,
    or (``error``, from :func:`ingest_raw_many` only) not stored because the database
    refused it: worth another try later."""

    result: Literal["accepted", "duplicate", "rejected", "error"]
    email: Email | None = None
    field: str = ""
    reason: str = ""

    @property
    def stored(self) -> bool:
        """True when the email is in the database (new or from before): safe to mark done."""
        return self.result in ("accepted", "duplicate")

    @property
    def flagged(self) -> bool:
        """Stored with real parse defects (something was lost, guessed or cut)."""
        return self.email is not None and bool(self.email.parse_defects)

    @property
    def noticed(self) -> bool:
        """Stored with notices only: non-standard but fully read (see inbox.mail.parsing)."""
        return self.email is not None and not self.flagged and bool(self.email.parse_notices)


def incoming_from_raw(
    raw: bytes | str, source: str, max_body_bytes: int | None = None
) -> IncomingEmail:
    """Map one raw message to an :class:`IncomingEmail`, or raise :class:`RejectedMessage`.

    Never raises anything else on bad input. Values too long for their column are cut
    (and the cut is recorded as a defect) rather than failing the insert; bodies longer
    than ``max_body_bytes`` (default CLEANINBOX_MAX_BODY_BYTES) are cut the same way.
    """
    if source not in Email.Source.values:
        raise ValueError(f"unknown source {source!r}")
    if max_body_bytes is None:
        max_body_bytes = settings.CLEANINBOX_MAX_BODY_BYTES
    parsed = parse_message(raw)
    defects = list(parsed.defects)
    _check_storable(parsed, defects)

    # PostgreSQL text cannot hold NUL; the parser drops it from parts, this covers the rest.
    body_text = _cut_bytes(
        parsed.body_text.replace("\x00", ""), max_body_bytes, "text body", defects
    )
    body_html = parsed.body_html
    if len(body_html.encode("utf-8")) > max_body_bytes:
        # Cutting HTML can leave a tag open; cleaning again closes it.
        body_html = nh3.clean(_cut_bytes(body_html, max_body_bytes, "HTML body", defects))
    return IncomingEmail(
        message_id=_message_id(parsed, raw, defects),
        sender=parsed.sender,
        sender_name=_cut(parsed.sender_name, "sender_name", defects),
        recipients=_recipients(parsed),
        subject=_cut(parsed.subject, "subject", defects),
        body_text=body_text,
        body_html=body_html,
        received_at=parsed.date,
        in_reply_to=_id_or_blank(parsed.in_reply_to, "In-Reply-To", defects),
        references=_references(parsed.references),
        attachments=[dict(a) for a in parsed.attachments],
        parse_defects=defects,
        parse_notices=list(parsed.notices),
        source=source,
        automatic=parsed.automatic,
        headers=dict(parsed.headers),
    )


def ingest_raw(raw: bytes | str, source: str, label: str = "") -> RawOutcome:
    """Parse and store one raw message; a rejected one is logged with its reason.

    ``label`` says where the message came from (a file, ``box.mbox#3``, an IMAP UID)
    and only goes to the log.
    """
    try:
        incoming = incoming_from_raw(raw, source)
    except RejectedMessage as exc:
        _log_rejected(source, label, exc)
        return RawOutcome("rejected", field=exc.field, reason=exc.reason)
    result = ingest_email(incoming)
    _log_defects(result.result, result.email, incoming, label)
    return RawOutcome(result.result, result.email)


def ingest_raw_many(messages: Sequence[tuple[str, bytes | str]], source: str) -> list[RawOutcome]:
    """Parse ``(label, raw)`` messages and store the storable ones in one bulk call
    (imports and IMAP); one outcome per message, in order.

    If the bulk insert fails for a reason other than the database being unreachable
    (which is raised: nothing was stored, try again later), each message is stored on its
    own so that one the database refuses is an ``error`` outcome and the rest are stored.
    """
    outcomes: list[RawOutcome | None] = [None] * len(messages)
    storable: list[tuple[int, IncomingEmail]] = []
    for index, (label, raw) in enumerate(messages):
        try:
            storable.append((index, incoming_from_raw(raw, source)))
        except RejectedMessage as exc:
            _log_rejected(source, label, exc)
            outcomes[index] = RawOutcome("rejected", field=exc.field, reason=exc.reason)
    try:
        results = ingest_many([incoming for _, incoming in storable])
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        logger.exception("bulk store failed; storing one message at a time")
        results = [_store_alone(incoming, messages[i][0]) for i, incoming in storable]
    for (index, incoming), result in zip(storable, results, strict=True):
        if not isinstance(result, RawOutcome):
            _log_defects(result.result, result.email, incoming, messages[index][0])
        outcomes[index] = (
            result if isinstance(result, RawOutcome) else RawOutcome(result.result, result.email)
        )
    return outcomes


def _store_alone(incoming: IncomingEmail, label: str) -> RawOutcome:
    try:
        result = ingest_email(incoming)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        logger.exception("message could not be stored", extra={"label": label})
        return RawOutcome("error", reason=f"could not be stored: {type(exc).__name__}: {exc}")
    return RawOutcome(result.result, result.email)


def _log_defects(result: str, email: Email, incoming: IncomingEmail, label: str) -> None:
    # Only for the exceptional message (clean mail logs nothing per email).
    if result == "accepted" and incoming.parse_defects:
        logger.info(
            "raw email stored with parse defects",
            extra={
                "email_id": email.pk,
                "label": label,
                "defects": len(incoming.parse_defects),
                "first_defect": incoming.parse_defects[0],
            },
        )


def _log_rejected(source: str, label: str, exc: RejectedMessage) -> None:
    count_rejected(source)
    logger.warning(
        "raw email rejected",
        extra={"source": source, "label": label, "field": exc.field, "reason": exc.reason},
    )


def _check_storable(parsed: ParsedEmail, defects: list[str]) -> None:
    if not parsed.sender:
        reason = next((d for d in defects if d.startswith("no sender")), "no sender address")
        raise RejectedMessage("sender", f"The message has {reason}.")
    if len(parsed.sender) > _max_length("sender"):
        raise RejectedMessage("sender", "The sender address is longer than any valid address.")
    readable = parsed.subject.strip() or parsed.body_text.strip() or parsed.body_html.strip()
    if not readable:
        raise RejectedMessage(
            "body_text", "Nothing readable: the message has no subject and no text in its body."
        )


def _message_id(parsed: ParsedEmail, raw: bytes | str, defects: list[str]) -> str:
    if len(parsed.message_id) <= _max_length("message_id"):
        return parsed.message_id
    defects.append("Message-ID is too long to store; a synthetic one was used")
    data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
    return f"sha256.{hashlib.sha256(data).hexdigest()}@{SYNTHETIC_ID_DOMAIN}"


def _id_or_blank(value: str | None, header: str, defects: list[str]) -> str:
    if value and len(value) > _max_length("in_reply_to"):
        defects.append(f"{header} is too long to store and was dropped")
        return ""
    return value or ""


def _references(references: list[str]) -> list[str]:
    if len(references) <= _MAX_REFERENCES:
        return list(references)
    return [references[0], *references[-(_MAX_REFERENCES - 1) :]]


def _recipients(parsed: ParsedEmail) -> list[str]:
    limit = _max_length("sender")
    return list(dict.fromkeys(a for a in [*parsed.to, *parsed.cc] if len(a) <= limit))


def _cut(value: str, field: str, defects: list[str]) -> str:
    limit = _max_length(field)
    if len(value) <= limit:
        return value
    defects.append(f"{field} was {len(value)} characters; cut to {limit}")
    return value[:limit]


def _cut_bytes(text: str, limit: int, what: str, defects: list[str]) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    defects.append(f"{what} was {len(data)} bytes; cut to the {limit}-byte limit")
    return data[:limit].decode("utf-8", "ignore")
