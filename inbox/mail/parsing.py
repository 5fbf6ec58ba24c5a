"""Read raw RFC 5322 email (bytes off IMAP, an .eml file, an mbox) into a ParsedEmail.

Real mail is messy: odd or wrong charsets, broken base64, headers that do not parse,
missing Message-IDs. The rule here is to keep whatever can be read and record what
was wrong in ``ParsedEmail.defects`` instead of raising, so an importer can store a
flagged message rather than lose it. Pure Python: no Django.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import mailbox
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email import errors, policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any, TypedDict

import nh3

from inbox.mail.automatic import automatic_reason
from inbox.mail.htmltext import html_to_text

SYNTHETIC_ID_DOMAIN = "cleaninbox.invalid"
MAX_DEFECTS = 50


class _CachingHeaderRegistry(HeaderRegistry):
    """The email package builds and parses a header object on every access, and reads
    Content-Type again for each get_content_type() call; that was most of the parse time.
    Header objects are immutable strings, so equal (name, value) pairs can share one."""

    @functools.lru_cache(maxsize=2048)  # noqa: B019 -- one module-level instance, never freed
    def __call__(self, name: str, value: str) -> BaseHeader:
        return super().__call__(name, value)


_POLICY = policy.default.clone(header_factory=_CachingHeaderRegistry())

# Labels as mail clients write them, mapped to the decoder browsers use: mail marked
# latin-1 is in practice often Windows-1252 (curly quotes, the euro sign), and gb2312
# text is decoded by its superset (the WHATWG encoding standard does the same).
_CHARSET_SUPERSETS = {
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
}
# Labels that say nothing useful; the bytes are guessed (UTF-8, then Windows-1252)
# without a defect of ours. ASCII is here because 8-bit text labelled ASCII is common
# and is nearly always UTF-8 or Windows-1252, both of which decode ASCII unchanged.
_NO_CHARSET = {"", "us-ascii", "ascii", "unknown-8bit", "x-unknown", "unknown", "8bit", "default"}
_ANGLE_ID = re.compile(r"<([^<>\s]+)>")
_ADDRESS = re.compile(r"^[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+$")
# Control characters other than tab and newline: never text, and some databases refuse them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CRLF = re.compile(r"\r\n?")


class AttachmentInfo(TypedDict):
    """What is kept of an attachment: enough to show it, not its bytes."""

    filename: str
    content_type: str
    size: int


@dataclass
class ParsedEmail:
    """One email as the rest of cleaninbox sees it.

    ``defects`` lists readable problems; a non-empty list means the message was malformed
    and what is here is a best effort. ``notices`` lists the email package's findings that
    lose nothing (obsolete but readable syntax such as a dot in an unquoted display name):
    worth keeping, not worth alarming anyone. ``message_id_synthetic`` is True when the message
    had no usable Message-ID and ``message_id`` was derived from the raw bytes instead.
    ``automatic`` names auto-replies, bounces and list mail (see inbox.mail.automatic).
    """

    sender: str = ""
    sender_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None
    message_id: str = ""
    message_id_synthetic: bool = False
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    body_text: str = ""
    body_html: str = ""
    attachments: list[AttachmentInfo] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    # Why this is automatic mail (auto_reply, bounce, mailing_list), "" if a person wrote it.
    automatic: str = ""
    # The header fields routing rules may read (see routing_headers).
    headers: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (date as an ISO string) for JSON fields and logs."""
        data = asdict(self)
        data["date"] = self.date.isoformat() if self.date else None
        return data


def parse_message(raw: bytes | str) -> ParsedEmail:
    """Parse one raw message. Never raises on bad input: problems go to ``defects``.

    ``body_text`` is the text/plain alternative when it has content, else the HTML part
    turned into text. ``body_html`` is the HTML part sanitised with nh3 (scripts, styles,
    event handlers removed), so it is safe to show. A message without a Message-ID gets
    a synthetic one from the sha256 of its bytes, so importing it twice dedupes.
    """
    data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
    parsed = ParsedEmail()
    if not data.strip():
        parsed.defects.append("empty message")
    try:
        msg = BytesParser(policy=_POLICY).parsebytes(data)
    except Exception as exc:  # the parser is lenient; this is a last resort
        parsed.defects.append(f"message could not be parsed at all: {exc!r}")
        _read_raw_body(data, parsed)
        _set_message_id(parsed, "", data)
        return parsed
    # The email package has known crashes on hostile input (deep nesting, odd header
    # syntax); whichever step fails, the others still run and the failure is a defect.
    try:
        _read_headers(msg, parsed)
    except Exception as exc:
        parsed.defects.append(f"headers could not be read: {exc!r}")
    try:
        message_id = _header_text(msg, "message-id", parsed.defects)
    except Exception:
        message_id = ""
    _set_message_id(parsed, message_id, data)
    try:
        _read_bodies(msg, parsed)
    except Exception as exc:
        parsed.defects.append(f"body could not be read: {exc!r}")
        _read_raw_body(data, parsed)
    try:
        found, parsed.notices = _email_package_defects(msg)
        parsed.defects[:0] = found
        parsed.notices = parsed.notices[:MAX_DEFECTS]
    except Exception as exc:
        parsed.defects.append(f"defects could not be listed: {exc!r}")
    if len(parsed.defects) > MAX_DEFECTS:
        # A hostile message can raise thousands (one per broken part); the first ones
        # say what is wrong, the rest would only bloat the stored row.
        extra = len(parsed.defects) - MAX_DEFECTS + 1
        parsed.defects[MAX_DEFECTS - 1 :] = [f"... and {extra} more defects"]
    return parsed


def _read_raw_body(data: bytes, parsed: ParsedEmail) -> None:
    """Everything after the first blank line, as text: the body of last resort."""
    _, _, body = data.replace(b"\r\n", b"\n").partition(b"\n\n")
    text = _decode_bytes(body or data, "", parsed.defects, "raw message")
    parsed.body_text = _CONTROL.sub("", text).strip("\n")


# --- headers ---------------------------------------------------------------------------


def _header_text(msg: Message, name: str, defects: list[str]) -> str:
    """The decoded, unfolded value of a header, or "" when absent or unreadable."""
    try:
        value = msg.get(name)
    except Exception as exc:  # a header the policy cannot build; fall back to raw
        defects.append(f"header {name} could not be decoded: {exc!r}")
        value = next((v for k, v in msg.raw_items() if k.lower() == name), None)
    if value is None:
        return ""
    return _clean_str(" ".join(str(value).split()))


def _addresses(msg: Message, name: str, defects: list[str]) -> list[tuple[str, str]]:
    """(display name, address) pairs of an address header, skipping empty groups."""
    raw = [_redecode(str(v)) for k, v in msg.raw_items() if k.lower() == name]
    if not raw:
        return []
    pairs: list[tuple[str, str]] = []
    if any(not value.isascii() for value in raw):
        # Raw 8-bit UTF-8 in an address header (against the RFC, but common): the header
        # classes would turn it into "?"; the plain parser reads the decoded text fine.
        pairs = getaddresses(raw)
    else:
        try:
            for address in getattr(msg.get(name), "addresses", ()):
                pairs.append((address.display_name or "", address.addr_spec or ""))
        except Exception as exc:
            defects.append(f"header {name} could not be parsed: {exc!r}")
            pairs = getaddresses(raw)
    result = []
    for display_name, address in pairs:
        address = _clean_str(address).strip("<> ")
        if _ADDRESS.match(address):
            result.append((_clean_str(display_name), address))
        elif address:
            defects.append(f"header {name}: {address[:80]!r} is not an email address")
    return result


def _redecode(value: str) -> str:
    """Header text whose 8-bit bytes the parser kept as surrogates, decoded for real."""
    if value.isascii() or not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _read_headers(msg: Message, parsed: ParsedEmail) -> None:
    defects = parsed.defects
    senders = _addresses(msg, "from", defects) or _addresses(msg, "sender", defects)
    if senders:
        parsed.sender_name, parsed.sender = senders[0]
    else:
        defects.append("no sender address (From header missing or empty)")
    parsed.to = [addr for _, addr in _addresses(msg, "to", defects)]
    parsed.cc = [addr for _, addr in _addresses(msg, "cc", defects)]
    parsed.subject = _header_text(msg, "subject", defects)
    parsed.date = _read_date(msg, defects)
    in_reply_to = _ANGLE_ID.findall(_header_text(msg, "in-reply-to", defects))
    parsed.in_reply_to = in_reply_to[0] if in_reply_to else None
    parsed.references = _ANGLE_ID.findall(_header_text(msg, "references", defects))
    items = _raw_header_items(msg)
    parsed.automatic = automatic_reason(items, parsed.sender, parsed.subject)
    parsed.headers = routing_headers(items)


# Header fields kept with an email for routing rules (inbox.triage): the X-* fields a
# gateway or CRM adds (X-Customer-Tier: vip) and a few standard ones, minus the trace and
# anti-spam fields mail servers pile up by the dozen. Bounded, so a hostile message cannot
# bloat its row.
_KEPT_HEADERS = {"importance", "priority", "organization", "sensitivity", "x-priority"}
_TRACE_PREFIXES = (
    "x-ms-", "x-microsoft-", "x-forefront-", "x-google-", "x-gm-", "x-received",
    "x-originating", "x-spam", "x-virus", "x-mailgun-", "x-ses-", "x-proofpoint",
    "x-mimecast-", "x-ironport", "x-barracuda",
)  # fmt: skip
MAX_ROUTING_HEADERS = 30
MAX_ROUTING_HEADER_CHARS = 300


def routing_headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """{lower-case name: value} of the header fields routing rules may read; the first
    of a repeated field, at most MAX_ROUTING_HEADERS fields of MAX_ROUTING_HEADER_CHARS."""
    kept: dict[str, str] = {}
    for name, value in items:
        name = str(name).strip().lower()
        if name in kept or not (name in _KEPT_HEADERS or name.startswith("x-")):
            continue
        if name.startswith(_TRACE_PREFIXES):
            continue
        kept[name] = " ".join(str(value).replace("\x00", "").split())[:MAX_ROUTING_HEADER_CHARS]
        if len(kept) >= MAX_ROUTING_HEADERS:
            break
    return kept


def _raw_header_items(msg: Message) -> list[tuple[str, str]]:
    """(name, value) of every header as it stands, without parsing structured values:
    the automatic-mail check only looks at a few names and keywords."""
    return [(name, str(value)) for name, value in msg.raw_items()]


def _read_date(msg: Message, defects: list[str]) -> datetime | None:
    text = _header_text(msg, "date", defects)
    if not text:
        return None
    try:
        header = msg.get("date")
        value = getattr(header, "datetime", None) or parsedate_to_datetime(text)
    except Exception:
        value = None
    if value is None:
        defects.append(f"unreadable Date header: {text[:80]!r}")
        return None
    # "-0000" means UTC with the sender's zone unknown; the parser returns it naive.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _set_message_id(parsed: ParsedEmail, header: str, data: bytes) -> None:
    ids = _ANGLE_ID.findall(header)
    message_id = ids[0] if ids else header.strip().strip("<>").strip()
    if message_id and " " not in message_id:
        parsed.message_id = message_id
        return
    if message_id:
        parsed.defects.append(f"unusable Message-ID {header[:80]!r}; a synthetic one was used")
    parsed.message_id = f"sha256.{hashlib.sha256(data).hexdigest()}@{SYNTHETIC_ID_DOMAIN}"
    parsed.message_id_synthetic = True


# --- bodies and attachments --------------------------------------------------------------


def _read_bodies(msg: EmailMessage, parsed: ParsedEmail) -> None:
    defects = parsed.defects
    plain_part = _find_body(msg, "plain", defects)
    html_part = _find_body(msg, "html", defects)
    if plain_part is None and html_part is None and _is_textual(msg):
        # A single text part marked as an attachment, text/enriched, or a multipart whose
        # boundary is missing so its parts could not be split: read it all as text.
        plain_part = msg
    text = _part_text(plain_part, defects) if plain_part is not None else ""
    html = _part_text(html_part, defects) if html_part is not None else ""
    if not text.strip() and html.strip():
        text = html_to_text(html)
    parsed.body_text = text.strip("\n")
    parsed.body_html = nh3.clean(html) if html.strip() else ""

    bodies = {id(plain_part), id(html_part)}
    for part in _leaf_parts(msg):
        if id(part) not in bodies:
            parsed.attachments.append(_attachment_info(part, defects))
    if not parsed.body_text.strip():
        forwarded = _first_attached_message(msg)
        if forwarded is not None:
            # Forwarded "as attachment" with nothing typed above it: the attached
            # message is the only text the customer sent.
            try:
                parsed.body_text = parse_message(forwarded.as_bytes()).body_text
            except Exception as exc:
                defects.append(f"attached message could not be read: {exc!r}")


def _is_textual(msg: Message) -> bool:
    maintype = msg.get_content_maintype()
    return maintype == "text" or (maintype == "multipart" and isinstance(msg.get_payload(), str))


def _find_body(msg: EmailMessage, subtype: str, defects: list[str]) -> EmailMessage | None:
    try:
        part = msg.get_body(preferencelist=(subtype,))
    except Exception as exc:
        defects.append(f"could not locate the {subtype} body: {exc!r}")
        return None
    return part if part is not None and part.get_content_subtype() == subtype else None


def _part_text(part: Message, defects: list[str]) -> str:
    """Decoded text of a leaf part: transfer encoding undone, charset decoded."""
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:
        defects.append(f"{part.get_content_type()} part could not be decoded: {exc!r}")
        return ""
    if payload is None:  # a multipart without boundary, or similar
        raw = part.get_payload()
        payload = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    charset = part.get_content_charset() or ""
    text = _decode_bytes(payload, charset, defects, f"{part.get_content_type()} part")
    return _CONTROL.sub("", _CRLF.sub("\n", text))


def _decode_bytes(payload: bytes, charset: str, defects: list[str], where: str) -> str:
    """Decode text in the declared charset, guessing sanely when it is absent or wrong."""
    label = charset.strip().strip("\"'").lower()
    if label not in _NO_CHARSET:
        codec = _CHARSET_SUPERSETS.get(label, label)
        try:
            # "base64", "rot13", "zlib" are codecs too, but not charsets.
            known = codecs.lookup(codec)._is_text_encoding
        except LookupError:
            known = False
        if not known:
            defects.append(f"unknown charset {charset!r} in {where}; decoded by guessing")
        else:
            try:
                return payload.decode(codec)
            except (UnicodeError, ValueError):
                defects.append(f"{where} is not valid {charset}; decoded by guessing")
    for guess in ("utf-8", "cp1252"):
        try:
            return payload.decode(guess)
        except UnicodeDecodeError:
            continue
    return payload.decode("cp1252", errors="replace")


def _leaf_parts(part: Message) -> Iterator[Message]:
    """Non-multipart parts, treating an attached message/rfc822 as one leaf."""
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        yield part
        return
    payload = part.get_payload()
    for child in payload if isinstance(payload, list) else ():
        yield from _leaf_parts(child)


def _attachment_info(part: Message, defects: list[str]) -> AttachmentInfo:
    content_type = part.get_content_type()
    try:
        filename = part.get_filename() or ""
    except Exception as exc:
        defects.append(f"unreadable attachment filename: {exc!r}")
        filename = ""
    try:
        if content_type == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                size = len(inner[0].as_bytes())
                filename = filename or _header_text(inner[0], "subject", defects)
            else:
                size = 0
        else:
            size = len(part.get_payload(decode=True) or b"")
    except Exception as exc:
        defects.append(f"unreadable {content_type} attachment: {exc!r}")
        size = 0
    return {"filename": _clean_str(filename), "content_type": content_type, "size": size}


def _first_attached_message(msg: Message) -> Message | None:
    for part in _leaf_parts(msg):
        inner = part.get_payload() if part.get_content_type() == "message/rfc822" else None
        if isinstance(inner, list) and inner:
            return inner[0]
    return None


# --- defects and text hygiene ------------------------------------------------------------


# The email package's findings after which nothing was lost or guessed: the syntax is
# obsolete or sloppy but was read as meant. Everything else (a missing boundary, bytes that
# could not be decoded, base64 with stray characters or bad padding, whose decoding may be
# off, a header that could not be parsed, ...) is a real defect.
NOTICE_DEFECTS: tuple[type[errors.MessageDefect], ...] = (
    errors.ObsoleteHeaderDefect,  # e.g. "John Q. Public <j@x>": a dot in an unquoted name
    errors.NonASCIILocalPartDefect,  # an internationalised address, read as written
    errors.MisplacedEnvelopeHeaderDefect,  # an mbox "From " line, ignored
    errors.InvalidMultipartContentTransferEncodingDefect,  # an encoding on a multipart, ignored
)


def _email_package_defects(msg: Message) -> tuple[list[str], list[str]]:
    """The email package's own findings, as readable sentences with where they were seen:
    (defects, notices), split by ``NOTICE_DEFECTS``."""
    found: list[str] = []
    notices: list[str] = []
    for index, part in enumerate(msg.walk()):
        where = "message" if index == 0 else f"part {index} ({part.get_content_type()})"
        for defect in part.defects:
            _sort(defect, f"{where}: {_describe(defect)}", found, notices)
        for name, value in part.items() if index == 0 else ():
            for defect in getattr(value, "defects", ()):
                _sort(defect, f"header {name}: {_describe(defect)}", found, notices)
    return list(dict.fromkeys(found)), list(dict.fromkeys(notices))


def _sort(defect: Exception, text: str, found: list[str], notices: list[str]) -> None:
    (notices if isinstance(defect, NOTICE_DEFECTS) else found).append(text)


def _describe(defect: Exception) -> str:
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", type(defect).__name__.removesuffix("Defect"))
    detail = str(defect)
    return f"{words.lower()}: {detail}" if detail else words.lower()


def _clean_str(text: str) -> str:
    # Undecodable header bytes arrive as lone surrogates; they cannot be stored or shown.
    return _CONTROL.sub("", text.encode("utf-8", "replace").decode("utf-8"))


# --- sources: a file, a folder of .eml files, an mbox ------------------------------------


def iter_eml_paths(path: str | Path) -> Iterator[tuple[str, bytes]]:
    """Yield (path, raw bytes) for one .eml file or every ``*.eml`` under a folder, sorted."""
    root = Path(path)
    files = sorted(p for p in root.rglob("*.eml") if p.is_file()) if root.is_dir() else [root]
    for file in files:
        yield str(file), file.read_bytes()


def iter_mbox(path: str | Path) -> Iterator[tuple[str, bytes]]:
    """Yield (``path#n``, raw bytes) for each message of an mbox file, n counting from 1."""
    box = mailbox.mbox(str(path), create=False)
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            yield f"{path}#{number}", box.get_bytes(key)
    finally:
        box.close()


def iter_messages(path: str | Path) -> Iterator[tuple[str, bytes]]:
    """Yield (source label, raw bytes) from a folder of .eml files, an mbox, or one .eml.

    A file whose first line is an mbox "From " separator is read as an mbox; any other
    file is one message. Labels name the file (and the message number in an mbox) so an
    importer can report a bad message on its own.
    """
    source = Path(path)
    if source.is_dir():
        yield from iter_eml_paths(source)
        return
    with source.open("rb") as handle:
        first = handle.readline()
    if first.startswith(b"From "):
        yield from iter_mbox(source)
    else:
        yield from iter_eml_paths(source)
