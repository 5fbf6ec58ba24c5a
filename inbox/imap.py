"""Poll an IMAP mailbox for customer email (stdlib imaplib, UIDs throughout).

The order of operations is the safety property. A message is fetched with
``BODY.PEEK[]`` (fetching does not mark it read), stored — the whole batch in one bulk
call, through the same path as ``import_emails`` and the batch API — and only once the email is committed (accepted, or a duplicate of one
stored earlier) is it marked ``\\Seen`` or moved to the processed folder. A crash
between the two means the next poll finds a duplicate and marks it then; mail is never
lost and never stored twice.

A rejected message (no sender, nothing readable) stays unread where it is and is never
deleted; it gets the keyword ``$CleaninboxRejected`` so later polls skip it instead of
rejecting it again (and so a pile of them cannot fill every batch).

Backpressure: while the classification backlog is over its limit a poll fetches nothing
and the mail waits on the server for a later poll (``deferred`` in the summary).
"""

from __future__ import annotations

import base64
import imaplib
import ipaddress
import logging
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from inbox import backpressure, nudge
from inbox.ingest_raw import RawOutcome, ingest_raw_many
from inbox.models import Email

logger = logging.getLogger(__name__)

REJECTED_KEYWORD = "$CleaninboxRejected"
LOCK_KEY = "cleaninbox:imap-poll-lock"


class ImapError(Exception):
    """The server refused something a poll cannot do without (login, opening the folder)."""


@dataclass(frozen=True)
class ImapConfig:
    host: str
    user: str
    password: str
    port: int = 993
    tls: str = "ssl"  # ssl | starttls | plain
    folder: str = "INBOX"
    processed_folder: str = ""
    batch: int = 50
    timeout: float = 30

    @classmethod
    def from_settings(cls) -> ImapConfig:
        """The CLEANINBOX_IMAP_* settings; raises ImproperlyConfigured when polling is off."""
        if not settings.CLEANINBOX_IMAP_HOST:
            raise ImproperlyConfigured("IMAP polling is off: CLEANINBOX_IMAP_HOST is not set")
        return cls(
            host=settings.CLEANINBOX_IMAP_HOST,
            user=settings.CLEANINBOX_IMAP_USER,
            password=settings.CLEANINBOX_IMAP_PASSWORD,
            port=settings.CLEANINBOX_IMAP_PORT,
            tls=settings.CLEANINBOX_IMAP_TLS,
            folder=settings.CLEANINBOX_IMAP_FOLDER,
            processed_folder=settings.CLEANINBOX_IMAP_PROCESSED_FOLDER,
            batch=settings.CLEANINBOX_IMAP_BATCH,
            timeout=settings.CLEANINBOX_IMAP_TIMEOUT,
        )


@dataclass
class PollSummary:
    """What one poll did. ``waiting`` counts the messages the search found, ``fetched``
    those handled in this batch; the rest wait for the next poll."""

    waiting: int = 0
    fetched: int = 0
    accepted: int = 0
    duplicates: int = 0
    flagged: int = 0  # accepted with parse defects
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (uid, reason)
    errors: list[tuple[int, str]] = field(default_factory=list)  # left as they were, retried
    deferred: str = ""  # why nothing was fetched this time (the backlog), if so

    def as_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        """The summary as a person reads it after ``manage.py poll_imap``."""
        out = [f"deferred: {self.deferred}"] if self.deferred else []
        out += [
            f"fetched: {self.fetched} of {self.waiting} waiting",
            f"stored: {self.accepted}"
            + (f" ({self.flagged} with parse defects)" if self.flagged else ""),
            f"duplicates: {self.duplicates}",
            f"rejected (left unread): {len(self.rejected)}",
        ]
        out.extend(f"  UID {uid}: {reason}" for uid, reason in self.rejected)
        if self.errors:
            out.append(f"errors (left for the next poll): {len(self.errors)}")
            out.extend(f"  UID {uid}: {reason}" for uid, reason in self.errors)
        return out


def poll_mailbox(config: ImapConfig | None = None) -> PollSummary:
    """Fetch up to ``config.batch`` new messages, store them, then mark or move each one.

    Must run outside a transaction: a message is marked only after its email is
    committed, and inside an outer transaction nothing is committed yet.
    """
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("poll_mailbox must run outside a transaction (it marks mail as done)")
    config = config or ImapConfig.from_settings()
    summary = PollSummary()
    try:
        backpressure.check()
    except backpressure.Backlogged as busy:
        summary.deferred = str(busy)
        nudge.request()
        logger.info("IMAP poll deferred", extra={"backlog": busy.backlog, "limit": busy.limit})
        return summary
    with _session(config) as (conn, capabilities):
        moving = bool(config.processed_folder)
        if moving:
            _ensure_folder(conn, config.processed_folder)
        uids = _waiting_uids(conn, moving)
        summary.waiting = len(uids)
        fetched = []
        for uid in uids[: config.batch]:
            raw = _fetch(conn, uid)
            if raw is not None:  # None: expunged by another client since the search
                fetched.append((uid, raw))
        summary.fetched = len(fetched)
        # The database unreachable raises here: everything stays unread for the next poll.
        outcomes = ingest_raw_many(
            [(f"imap:{config.folder}/{uid}", raw) for uid, raw in fetched], Email.Source.IMAP
        )
        for (uid, _), outcome in zip(fetched, outcomes, strict=True):
            _handle(conn, uid, outcome, config, capabilities, summary)
    logger.info(
        "IMAP poll finished",
        extra={
            "folder": config.folder,
            "waiting": summary.waiting,
            "fetched": summary.fetched,
            "accepted": summary.accepted,
            "duplicates": summary.duplicates,
            "rejected": len(summary.rejected),
            "errors": len(summary.errors),
        },
    )
    return summary


def poll_exclusively(
    config: ImapConfig | None = None, lock_seconds: int = 180
) -> PollSummary | None:
    """:func:`poll_mailbox` unless another poll (beat task or command) holds the lock;
    returns None when it does. The lock expires after ``lock_seconds`` (longer than a
    poll may run) so a killed poll cannot block polling for good."""
    token = uuid.uuid4().hex
    # cache.add is atomic in Redis (SET NX): only one poller gets the key.
    if not cache.add(LOCK_KEY, token, timeout=lock_seconds):
        logger.info("IMAP poll skipped: another poll is running")
        return None
    try:
        return poll_mailbox(config)
    finally:
        if cache.get(LOCK_KEY) == token:
            cache.delete(LOCK_KEY)


# --- one message ---------------------------------------------------------------------------


def _handle(
    conn: imaplib.IMAP4,
    uid: int,
    outcome: RawOutcome,
    config: ImapConfig,
    capabilities: set[str],
    summary: PollSummary,
) -> None:
    label = f"imap:{config.folder}/{uid}"
    if outcome.result == "error":
        summary.errors.append((uid, outcome.reason))
        return
    if outcome.result == "rejected":
        summary.rejected.append((uid, outcome.reason))
        if not _store(conn, uid, "+FLAGS.SILENT", f"({REJECTED_KEYWORD})"):
            logger.warning("could not tag a rejected IMAP message", extra={"label": label})
        return
    if outcome.result == "duplicate":
        summary.duplicates += 1
    else:
        summary.accepted += 1
        summary.flagged += outcome.flagged
    # Committed: the batch was stored in autocommit (checked in poll_mailbox). Now mark it.
    try:
        _mark_done(conn, uid, config.processed_folder, capabilities)
    except ImapError as exc:
        logger.warning(
            "stored but not marked on the server; the next poll sees a duplicate",
            extra={"label": label, "error": str(exc)},
        )
        summary.errors.append((uid, f"stored, not marked: {exc}"))


def _fetch(conn: imaplib.IMAP4, uid: int) -> bytes | None:
    # BODY.PEEK[] is the same bytes as RFC822 without setting \Seen as a side effect.
    typ, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if typ != "OK":
        raise ImapError(f"FETCH {uid} failed: {_text(data)}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return None


def _mark_done(
    conn: imaplib.IMAP4, uid: int, processed_folder: str, capabilities: set[str]
) -> None:
    # Read in the processed folder too, so people browsing it see handled mail as read.
    if not _store(conn, uid, "+FLAGS.SILENT", r"(\Seen)"):
        raise ImapError("STORE \\Seen refused")
    if not processed_folder:
        return
    folder = _mailbox_name(processed_folder)
    if "MOVE" in capabilities:
        _check(conn.uid("MOVE", str(uid), folder), f"MOVE to {processed_folder}")
        return
    _check(conn.uid("COPY", str(uid), folder), f"COPY to {processed_folder}")
    if not _store(conn, uid, "+FLAGS.SILENT", r"(\Deleted)"):
        raise ImapError("STORE \\Deleted refused after COPY")
    if "UIDPLUS" in capabilities:
        # Expunges only this message, not others someone else marked deleted.
        _check(conn.uid("EXPUNGE", str(uid)), "UID EXPUNGE")
    else:
        _check(conn.expunge(), "EXPUNGE")


def _store(conn: imaplib.IMAP4, uid: int, how: str, flags: str) -> bool:
    typ, _ = conn.uid("STORE", str(uid), how, flags)
    return typ == "OK"


# --- session ---------------------------------------------------------------------------------


@contextmanager
def _session(config: ImapConfig) -> Iterator[tuple[imaplib.IMAP4, set[str]]]:
    conn = _connect(config)
    try:
        try:
            conn.login(config.user, config.password)
        except imaplib.IMAP4.error as exc:
            raise ImapError(f"login as {config.user!r} failed: {exc}") from exc
        # Servers announce more (MOVE, UIDPLUS) once logged in than in the greeting.
        typ, data = conn.capability()
        capabilities = set(_text(data).upper().split()) if typ == "OK" else set(conn.capabilities)
        typ, data = conn.select(_mailbox_name(config.folder))
        if typ != "OK":
            raise ImapError(f"cannot open folder {config.folder!r}: {_text(data)}")
        yield conn, capabilities
    finally:
        with suppress(imaplib.IMAP4.error, OSError):
            conn.logout()


def _connect(config: ImapConfig) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if config.tls == "ssl":
        return imaplib.IMAP4_SSL(
            config.host, config.port, ssl_context=context, timeout=config.timeout
        )
    conn = imaplib.IMAP4(config.host, config.port, timeout=config.timeout)
    if config.tls == "starttls":
        conn.starttls(ssl_context=context)
    elif not _is_loopback(config.host):
        logger.warning(
            "IMAP without TLS to a remote host: the password crosses the network in clear",
            extra={"host": config.host},
        )
    return conn


def _waiting_uids(conn: imaplib.IMAP4, moving: bool) -> list[int]:
    # Moving: everything left in the folder is unhandled, read by a person or not.
    # Marking: unread is unhandled. Either way skip rejected and half-moved mail.
    criteria = ["UNKEYWORD", REJECTED_KEYWORD, "UNDELETED"]
    if not moving:
        criteria.insert(0, "UNSEEN")
    typ, data = conn.uid("SEARCH", *criteria)
    if typ != "OK":
        raise ImapError(f"SEARCH failed: {_text(data)}")
    return sorted(int(uid) for uid in _text(data).split())


def _ensure_folder(conn: imaplib.IMAP4, name: str) -> None:
    typ, data = conn.create(_mailbox_name(name))
    if typ != "OK" and "ALREADYEXISTS" not in _text(data).upper():
        # Not fatal here: a server may refuse CREATE for a folder that exists; MOVE will say.
        logger.info(
            "could not create the processed folder", extra={"folder": name, "error": _text(data)}
        )


# --- IMAP text helpers ----------------------------------------------------------------------


def _mailbox_name(name: str) -> str:
    """A folder name as an IMAP quoted string, non-ASCII in modified UTF-7 (RFC 3501 5.1.3)."""
    encoded = _modified_utf7(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _modified_utf7(name: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _check(response: tuple[str, list], what: str) -> None:
    typ, data = response
    if typ != "OK":
        raise ImapError(f"{what} failed: {_text(data)}")


def _text(data: list) -> str:
    parts = []
    for item in data or ():
        if isinstance(item, tuple):
            item = item[0]
        if isinstance(item, bytes):
            parts.append(item.decode("utf-8", "replace"))
        elif item is not None:
            parts.append(str(item))
    return " ".join(parts)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
