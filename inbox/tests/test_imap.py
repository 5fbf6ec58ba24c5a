"""IMAP polling against a real Dovecot on loopback: stored once, marked or moved only
after storing, rejected mail left unread, and nothing imported twice."""

from __future__ import annotations

import imaplib
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import transaction

from inbox import imap
from inbox.models import Email
from inbox.tests.dovecot import DOVECOT, DovecotServer
from inbox.tests.rawmail import MALFORMED, NO_SENDER, NOTHING_READABLE, raw_email

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(DOVECOT).exists(), reason="dovecot-imapd is not installed"),
]


@pytest.fixture(scope="session")
def dovecot():
    server = DovecotServer().start()
    yield server
    server.stop()


class Mailbox:
    """A test's own account, seen through a second IMAP client (as a person would)."""

    def __init__(self, server: DovecotServer, capability: str = "") -> None:
        self.server = server
        self.account = server.add_account(capability)

    def config(self, **overrides) -> imap.ImapConfig:
        values = {"host": "127.0.0.1", "port": self.server.port, "tls": "plain",
                  "user": self.account.user, "password": self.account.password,
                  "timeout": 10, **overrides}  # fmt: skip
        return imap.ImapConfig(**values)

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.server.port, timeout=10)
        conn.login(self.account.user, self.account.password)
        return conn

    def append(self, *messages: bytes, folder: str = "INBOX", flags: str = "") -> None:
        conn = self.client()
        try:
            for message in messages:
                typ, data = conn.append(folder, flags or None, None, message)
                assert typ == "OK", data
        finally:
            conn.logout()

    def flags(
        self, folder: str = "INBOX", conn: imaplib.IMAP4 | None = None
    ) -> dict[str, set[str]]:
        """Message-ID header -> flags, for every message in ``folder`` (over ``conn`` if
        given, a logged-in client, else a new one)."""
        own = conn is None
        conn = conn or self.client()
        try:
            typ, _ = conn.select(imap._mailbox_name(folder), readonly=True)
            assert typ == "OK"
            typ, data = conn.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            result = {}
            for item in data:
                if isinstance(item, tuple):
                    flags = imaplib.ParseFlags(item[0])
                    header = item[1].decode().strip()
                    key = header.partition(":")[2].strip() or "(no id)"
                    result[key] = {f.decode() for f in flags} - {"\\Recent"}
            return result
        finally:
            if own:
                conn.logout()


@pytest.fixture
def mailbox(dovecot):
    return Mailbox(dovecot)


def test_new_mail_is_stored_once_and_marked_seen_and_rejected_mail_stays_unread(mailbox):
    mailbox.append(raw_email(1), MALFORMED, NO_SENDER, NOTHING_READABLE, raw_email(2))

    summary = imap.poll_mailbox(mailbox.config())

    assert (summary.waiting, summary.fetched, summary.accepted, summary.flagged) == (5, 5, 3, 1)
    assert [uid for uid, _ in summary.rejected] == [3, 4]
    assert "no sender" in summary.rejected[0][1]
    assert "Nothing readable" in summary.rejected[1][1]
    stored = {e.message_id: e for e in Email.objects.all()}
    assert set(stored) == {
        "raw-1@customer.example",
        "raw-2@customer.example",
        "malformed-1@customer.example",
    }
    assert {e.source for e in stored.values()} == {"imap"}
    assert stored["malformed-1@customer.example"].parse_defects
    assert "two weeks" in stored["raw-1@customer.example"].body_text

    flags = mailbox.flags()
    assert "\\Seen" in flags["<raw-1@customer.example>"]
    assert "\\Seen" in flags["<raw-2@customer.example>"]
    assert "\\Seen" in flags["<malformed-1@customer.example>"]
    assert flags["<no-sender-1@customer.example>"] == {imap.REJECTED_KEYWORD}  # unread, kept
    assert flags["<empty-1@customer.example>"] == {imap.REJECTED_KEYWORD}

    again = imap.poll_mailbox(mailbox.config())
    assert (again.waiting, again.fetched, again.accepted, again.duplicates) == (0, 0, 0, 0)
    assert Email.objects.count() == 3


def test_mail_a_person_already_read_is_left_alone_when_marking(mailbox):
    mailbox.append(raw_email(1), flags="(\\Seen)")
    mailbox.append(raw_email(2))
    summary = imap.poll_mailbox(mailbox.config())
    assert summary.accepted == 1
    assert list(Email.objects.values_list("message_id", flat=True)) == ["raw-2@customer.example"]


def test_a_message_stored_earlier_counts_as_a_duplicate_and_is_marked(mailbox, api_client):
    response = api_client.generic(
        "POST", "/api/emails/raw/", raw_email(1), content_type="message/rfc822"
    )
    assert response.status_code == 202
    mailbox.append(raw_email(1))
    summary = imap.poll_mailbox(mailbox.config())
    assert (summary.accepted, summary.duplicates) == (0, 1)
    assert "\\Seen" in mailbox.flags()["<raw-1@customer.example>"]
    assert Email.objects.get().source == "raw"


def test_a_batch_limit_leaves_the_rest_for_the_next_poll(mailbox):
    mailbox.append(*(raw_email(n) for n in range(5)))
    first = imap.poll_mailbox(mailbox.config(batch=2))
    assert (first.waiting, first.fetched, first.accepted) == (5, 2, 2)
    unread = [k for k, f in mailbox.flags().items() if "\\Seen" not in f]
    assert len(unread) == 3
    second = imap.poll_mailbox(mailbox.config(batch=10))
    assert (second.waiting, second.accepted) == (3, 3)
    assert Email.objects.count() == 5


@pytest.mark.parametrize(
    "capability", ["", "IMAP4rev1"], ids=["server-with-MOVE", "old-server-COPY-and-EXPUNGE"]
)
def test_with_a_processed_folder_stored_mail_is_moved_there(dovecot, capability):
    mailbox = Mailbox(dovecot, capability=capability)
    mailbox.append(raw_email(1), NO_SENDER)
    mailbox.append(raw_email(2), flags="(\\Seen)")  # read by a person: still unhandled
    config = mailbox.config(processed_folder="Processed/Cleaninbox")

    summary = imap.poll_mailbox(config)

    assert (summary.accepted, len(summary.rejected), summary.errors) == (2, 1, [])
    inbox = mailbox.flags()
    assert list(inbox) == ["<no-sender-1@customer.example>"]  # only the rejected one is left
    assert inbox["<no-sender-1@customer.example>"] == {imap.REJECTED_KEYWORD}
    processed = mailbox.flags("Processed/Cleaninbox")
    assert set(processed) == {"<raw-1@customer.example>", "<raw-2@customer.example>"}
    assert all("\\Seen" in f and "\\Deleted" not in f for f in processed.values())

    again = imap.poll_mailbox(config)
    assert (again.waiting, again.fetched) == (0, 0)
    assert Email.objects.count() == 2


def test_a_processed_folder_name_with_non_ascii_letters_works(mailbox):
    mailbox.append(raw_email(1))
    summary = imap.poll_mailbox(mailbox.config(processed_folder="Erledigt/Überweisungen"))
    assert summary.accepted == 1
    assert list(mailbox.flags("Erledigt/Überweisungen")) == ["<raw-1@customer.example>"]


def test_it_refuses_to_run_inside_a_transaction(mailbox):
    mailbox.append(raw_email(1))
    with transaction.atomic(), pytest.raises(RuntimeError, match="outside a transaction"):
        imap.poll_mailbox(mailbox.config())
    assert mailbox.flags()["<raw-1@customer.example>"] == set()


def _use_settings(settings, mailbox: Mailbox, **overrides) -> None:
    config = mailbox.config(**overrides)
    settings.CLEANINBOX_IMAP_HOST = config.host
    settings.CLEANINBOX_IMAP_PORT = config.port
    settings.CLEANINBOX_IMAP_TLS = "plain"
    settings.CLEANINBOX_IMAP_USER = config.user
    settings.CLEANINBOX_IMAP_PASSWORD = config.password
    settings.CLEANINBOX_IMAP_FOLDER = "INBOX"
    settings.CLEANINBOX_IMAP_PROCESSED_FOLDER = config.processed_folder
    settings.CLEANINBOX_IMAP_BATCH = config.batch


def test_the_command_polls_with_the_settings_and_prints_a_summary(mailbox, settings):
    _use_settings(settings, mailbox)
    mailbox.append(raw_email(1), NO_SENDER)
    out = StringIO()
    call_command("poll_imap", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[:4] == [
        "fetched: 2 of 2 waiting", "stored: 1", "duplicates: 0", "rejected (left unread): 1",
    ]  # fmt: skip
    assert lines[4].startswith("  UID 2: The message has no sender address")


def test_the_task_polls_and_never_runs_two_polls_at_once(mailbox, settings):
    from inbox.tasks import poll_imap

    _use_settings(settings, mailbox)
    mailbox.append(raw_email(1))
    cache.delete(imap.LOCK_KEY)
    assert cache.add(imap.LOCK_KEY, "another poll", timeout=60)
    try:
        assert poll_imap() is None  # skipped: the lock is taken
        assert Email.objects.count() == 0
    finally:
        cache.delete(imap.LOCK_KEY)
    result = poll_imap()
    assert (result["accepted"], result["fetched"]) == (1, 1)
    assert cache.get(imap.LOCK_KEY) is None  # released after the poll


def test_the_task_does_nothing_when_polling_is_off(settings):
    from inbox.tasks import poll_imap

    settings.CLEANINBOX_IMAP_HOST = ""
    assert poll_imap() is None


@pytest.mark.parametrize(("host", "scheduled"), [("", False), ("imap.bank.example", True)])
def test_beat_polls_only_when_a_host_is_set(host, scheduled):
    env = {**os.environ, "CLEANINBOX_IMAP_HOST": host, "CLEANINBOX_IMAP_INTERVAL": "45"}
    code = (
        "import cleaninbox.settings as s; e = s.CELERY_BEAT_SCHEDULE.get('poll-imap');"
        "print(e and (e['task'], e['schedule']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    expected = "('inbox.tasks.poll_imap', 45)" if scheduled else "None"
    assert result.stdout.strip() == expected


def test_the_command_says_so_when_polling_is_off_or_the_server_is_unreachable(mailbox, settings):
    from inbox.tests.dovecot import free_port

    settings.CLEANINBOX_IMAP_HOST = ""
    with pytest.raises(CommandError, match="CLEANINBOX_IMAP_HOST"):
        call_command("poll_imap", stdout=StringIO())
    _use_settings(settings, mailbox)
    settings.CLEANINBOX_IMAP_PORT = free_port()  # nothing listens there
    with pytest.raises(CommandError, match="failed"):
        call_command("poll_imap", stdout=StringIO())


# Last: after a wrong password Dovecot delays the next login from the same IP.


def test_a_wrong_password_is_an_error_and_touches_nothing(mailbox):
    mailbox.append(raw_email(1))
    person = mailbox.client()  # logged in before the failure, so not delayed by it
    try:
        with pytest.raises(imap.ImapError, match="login"):
            imap.poll_mailbox(mailbox.config(password="wrong"))
        assert Email.objects.count() == 0
        assert mailbox.flags(conn=person)["<raw-1@customer.example>"] == set()
    finally:
        person.logout()
