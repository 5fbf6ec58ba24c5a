"""`manage.py import_emails`: .eml files, folders and mboxes into the inbox, once each."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inbox.importing import import_path, import_paths
from inbox.models import Email
from inbox.tests.rawmail import MALFORMED, NO_SENDER, NOTHING_READABLE, mbox, raw_email

pytestmark = pytest.mark.django_db


def run(*paths) -> str:
    out = StringIO()
    call_command("import_emails", *[str(p) for p in paths], stdout=out, verbosity=0)
    return out.getvalue()


def test_it_imports_one_eml_file(tmp_path):
    path = tmp_path / "one.eml"
    path.write_bytes(raw_email(1, attachment=("id.png", "image/png", b"\x89PNG" * 10)))
    output = run(path)
    assert "imported: 1" in output and "rejected: 0" in output
    email = Email.objects.get()
    assert (email.message_id, email.source, email.status) == (
        "raw-1@customer.example",
        "import",
        "pending",
    )
    assert email.sender == "jane1@customer.example"
    assert email.attachments == [{"filename": "id.png", "content_type": "image/png", "size": 40}]


def test_it_imports_every_eml_in_a_folder_and_its_subfolders(tmp_path):
    (tmp_path / "2024" / "03").mkdir(parents=True)
    for n in range(3):
        (tmp_path / f"{n}.eml").write_bytes(raw_email(n))
    (tmp_path / "2024" / "03" / "deep.eml").write_bytes(raw_email(7))
    (tmp_path / "notes.txt").write_text("not an email")
    summary = import_path(tmp_path)
    assert (summary.imported, summary.duplicates, summary.rejected) == (4, 0, [])
    assert Email.objects.count() == 4


def test_an_mbox_with_broken_messages_in_the_middle_imports_the_rest(tmp_path):
    box = tmp_path / "support.mbox"
    box.write_bytes(mbox(raw_email(1), NO_SENDER, MALFORMED, NOTHING_READABLE, raw_email(2)))
    output = run(box)
    assert "imported: 3 (1 with parse defects)" in output
    assert "rejected: 2" in output
    assert f"{box}#2: The message has no sender address" in output
    assert f"{box}#4: Nothing readable" in output
    flagged = Email.objects.get(message_id="malformed-1@customer.example")
    assert flagged.parse_defects and flagged.body_text == "My card was declined at the shop"
    assert set(Email.objects.values_list("message_id", flat=True)) == {
        "raw-1@customer.example", "raw-2@customer.example", "malformed-1@customer.example",
    }  # fmt: skip


def test_importing_twice_stores_nothing_twice(tmp_path):
    (tmp_path / "a.eml").write_bytes(raw_email(1))
    (tmp_path / "no-id.eml").write_bytes(raw_email(2, message_id=None))
    box = tmp_path / "box.mbox"
    box.write_bytes(mbox(raw_email(3), raw_email(1)))  # raw-1 is in the folder too
    first = import_paths([tmp_path / "a.eml", tmp_path / "no-id.eml", box])
    second = import_paths([tmp_path / "a.eml", tmp_path / "no-id.eml", box])
    assert (first.imported, first.duplicates) == (3, 1)
    assert (second.imported, second.duplicates) == (0, 4)
    assert Email.objects.count() == 3


def test_a_reply_is_linked_to_the_thread_of_its_parent(tmp_path):
    (tmp_path / "1-first.eml").write_bytes(raw_email(1, message_id="<root@customer.example>"))
    (tmp_path / "2-bank.eml").write_bytes(raw_email(
        2, sender="Support <support@bank.example>", message_id="<answer@bank.example>",
        in_reply_to="<root@customer.example>", references="<root@customer.example>",
    ))  # fmt: skip
    (tmp_path / "3-reply.eml").write_bytes(raw_email(
        3, message_id="<reply@customer.example>", in_reply_to="<answer@bank.example>",
        references="<root@customer.example> <answer@bank.example>",
    ))  # fmt: skip
    import_path(tmp_path)
    root = Email.objects.get(message_id="root@customer.example")
    reply = Email.objects.get(message_id="reply@customer.example")
    assert root.thread_root is None
    assert reply.thread_root == root
    assert reply.in_reply_to == "answer@bank.example"
    assert reply.references == ["root@customer.example", "answer@bank.example"]
    assert set(root.thread_replies.values_list("message_id", flat=True)) == {
        "answer@bank.example", "reply@customer.example",
    }  # fmt: skip


def test_model_input_is_the_cleaned_text_and_body_text_the_original(tmp_path):
    body = (
        "Hello team,\n\n"
        "The ATM kept my card this morning, how do I get it back?\n\n"
        "Kind regards,\nJane Customer\n+44 20 7946 0958\n\n"
        "On Mon, 4 Mar 2024 at 10:00, Support <support@bank.example> wrote:\n"
        "> Thank you for contacting us about your statement.\n"
    )
    (tmp_path / "reply.eml").write_bytes(raw_email(1, subject="Re: your statement", body=body))
    import_path(tmp_path)
    email = Email.objects.get()
    assert email.body_text == body.strip("\n")
    assert "ATM kept my card" in email.model_input
    for gone in ("Thank you for contacting us", "Kind regards", "7946", "Hello team"):
        assert gone not in email.model_input


def test_an_oversize_body_is_cut_to_the_limit_and_flagged(tmp_path, settings):
    settings.CLEANINBOX_MAX_BODY_BYTES = 1000
    (tmp_path / "long.eml").write_bytes(raw_email(1, body="é" * 900))
    summary = import_path(tmp_path)
    assert (summary.imported, summary.flagged) == (1, 1)
    email = Email.objects.get()
    assert len(email.body_text.encode()) == 1000
    assert any("cut to the 1000-byte limit" in d for d in email.parse_defects)


def test_overlong_headers_are_cut_to_their_columns_and_flagged(tmp_path):
    (tmp_path / "long.eml").write_bytes(raw_email(1, subject="card " * 300))
    import_path(tmp_path)
    email = Email.objects.get()
    assert len(email.subject) == 998
    assert any(d.startswith("subject was") for d in email.parse_defects)


def test_a_missing_path_is_reported_and_the_others_still_import(tmp_path):
    (tmp_path / "a.eml").write_bytes(raw_email(1))
    output = run(tmp_path / "nope", tmp_path / "a.eml")
    assert "imported: 1" in output
    assert f"{tmp_path / 'nope'}: no such file or folder" in output


def test_it_fails_only_when_nothing_at_all_could_be_read(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.eml").write_bytes(NO_SENDER)
    with pytest.raises(CommandError, match="nothing could be imported"):
        run(tmp_path / "empty")
    with pytest.raises(CommandError):
        run(tmp_path / "bad.eml", tmp_path / "missing.mbox")
    # Everything already imported is a success: the mail is in the inbox.
    (tmp_path / "ok.eml").write_bytes(raw_email(1))
    run(tmp_path / "ok.eml")
    assert "duplicates: 1" in run(tmp_path / "ok.eml")


def test_the_progress_bar_goes_to_stderr_and_the_summary_to_stdout(tmp_path, capsys):
    (tmp_path / "a.eml").write_bytes(raw_email(1))
    out = StringIO()
    call_command("import_emails", str(tmp_path), stdout=out, verbosity=1)
    assert out.getvalue().splitlines()[:3] == ["imported: 1", "duplicates: 0", "rejected: 0"]
    assert "importing" in capsys.readouterr().err


DOT_IN_NAME = (
    b"From: John Q. Public <john@customer.example>\r\nTo: support@bank.example\r\n"
    b"Subject: Card\r\nMessage-ID: <dot-%d@customer.example>\r\n"
    b"Date: Sat, 05 Dec 2026 03:00:00 +0000\r\n\r\nWhere is my new card?\r\n"
)


def write_dotted(folder) -> None:
    folder.mkdir()
    for n in range(3):
        (folder / f"dot-{n}.eml").write_bytes(DOT_IN_NAME % n)


def test_a_dot_in_a_display_name_is_a_notice_not_a_parse_defect(tmp_path):
    write_dotted(tmp_path / "dots")
    (tmp_path / "broken.mbox").write_bytes(mbox(MALFORMED))
    output = run(tmp_path / "dots", tmp_path / "broken.mbox")
    assert "imported: 4 (1 with parse defects, 3 with notices only)" in output
    assert "nothing was lost" in output
    dotted = Email.objects.get(message_id="dot-0@customer.example")
    assert dotted.parse_defects == [] and dotted.sender_name == "John Q. Public"
    assert dotted.parse_notices == ["header From: obsolete header: period in 'phrase'"]


def test_the_command_keeps_per_email_log_lines_off_its_progress_bar(tmp_path, caplog):
    write_dotted(tmp_path / "dots")
    box = tmp_path / "broken.mbox"
    box.write_bytes(mbox(MALFORMED, NO_SENDER))
    caplog.set_level("INFO")
    run(tmp_path / "dots", box)
    per_email = {"raw email stored with parse defects", "raw email rejected", "emails ingested"}
    assert not per_email & {r.getMessage() for r in caplog.records}
    assert "import finished" in {r.getMessage() for r in caplog.records}

    # -v 2 asks for them (and the loggers are back to normal after a quiet run).
    Email.objects.all().delete()
    caplog.clear()
    call_command("import_emails", str(tmp_path / "dots"), str(box), stdout=StringIO(), verbosity=2)
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("raw email stored with parse defects") == 1  # the notices log nothing
    assert "raw email rejected" in messages
