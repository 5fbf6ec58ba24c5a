"""inbox.mail.parsing: raw bytes in, a ParsedEmail out, whatever shape the bytes are in.

Messages are built with the standard library's EmailMessage around BANKING77 queries,
or written out as bytes where the point is that they are malformed.
"""

from __future__ import annotations

import json
import mailbox
import random
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from inbox.mail.parsing import (
    MAX_DEFECTS,
    SYNTHETIC_ID_DOMAIN,
    iter_eml_paths,
    iter_mbox,
    iter_messages,
    parse_message,
)

QUERY = "I still have not received my new card, it has been two weeks"


def message(
    body: str = QUERY,
    *,
    subject: str = "Card not arrived",
    charset: str = "utf-8",
    cte: str | None = None,
    message_id: str | None = "<abc123@mail.example.com>",
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Jane Doe <jane.doe@example.com>"
    msg["To"] = "Support <support@lumenbank.example>, help@lumenbank.example"
    msg["Cc"] = "John Smith <john@example.com>"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 03 Jun 2024 10:15:00 +0200"
    if message_id:
        msg["Message-ID"] = message_id
    msg.set_content(body, charset=charset, cte=cte)
    return msg


# --- headers -------------------------------------------------------------------------------


def test_it_reads_addresses_with_display_names_apart():
    parsed = parse_message(message().as_bytes())
    assert parsed.sender == "jane.doe@example.com"
    assert parsed.sender_name == "Jane Doe"
    assert parsed.to == ["support@lumenbank.example", "help@lumenbank.example"]
    assert parsed.cc == ["john@example.com"]
    assert parsed.subject == "Card not arrived"
    assert parsed.defects == []


def test_it_decodes_encoded_word_headers():
    msg = message(subject="Carte non reçue – où est-elle ?")
    msg.replace_header("From", '"Zoë Müller" <zoe@example.de>')
    parsed = parse_message(msg.as_bytes())
    assert b"=?utf-8?" in msg.as_bytes()  # really sent as RFC 2047 encoded words
    assert parsed.subject == "Carte non reçue – où est-elle ?"
    assert parsed.sender_name == "Zoë Müller"


def test_it_reads_raw_utf8_headers_that_break_the_rules():
    raw = (
        "From: José García <jose@example.es>\nSubject: Tarjeta no recibida – ¿dónde está?\n"
        "Date: Mon, 03 Jun 2024 10:15:00 +0000\nMessage-ID: <x@y>\n\n" + QUERY
    ).encode()
    parsed = parse_message(raw)
    assert parsed.subject == "Tarjeta no recibida – ¿dónde está?"
    assert parsed.sender_name == "José García"


def test_the_date_is_an_aware_datetime():
    parsed = parse_message(message().as_bytes())
    assert parsed.date == datetime(2024, 6, 3, 8, 15, tzinfo=UTC)
    assert parsed.date.utcoffset() == timedelta(hours=2)


def test_a_date_in_minus_zero_is_taken_as_utc():
    msg = message()
    msg.replace_header("Date", "Mon, 03 Jun 2024 10:15:00 -0000")
    parsed = parse_message(msg.as_bytes())
    assert parsed.date == datetime(2024, 6, 3, 10, 15, tzinfo=UTC)
    assert parsed.date.tzinfo is not None


def test_an_unreadable_date_is_none_and_flagged():
    msg = message()
    msg.replace_header("Date", "the day before yesterday")
    parsed = parse_message(msg.as_bytes())
    assert parsed.date is None
    assert any("Date" in d for d in parsed.defects)


def test_message_ids_lose_their_angle_brackets():
    msg = message(message_id="<CAF=abc.123@mail.gmail.com>")
    msg["In-Reply-To"] = "<reply-1@lumenbank.example>"
    msg["References"] = "<root@lumenbank.example> <reply-1@lumenbank.example>"
    parsed = parse_message(msg.as_bytes())
    assert parsed.message_id == "CAF=abc.123@mail.gmail.com"
    assert not parsed.message_id_synthetic
    assert parsed.in_reply_to == "reply-1@lumenbank.example"
    assert parsed.references == ["root@lumenbank.example", "reply-1@lumenbank.example"]


def test_a_missing_message_id_gets_a_stable_synthetic_one():
    raw = message(message_id=None).as_bytes()
    first, again = parse_message(raw), parse_message(raw)
    other = parse_message(message(QUERY + " now", message_id=None).as_bytes())
    assert first.message_id_synthetic
    assert first.message_id == again.message_id
    assert first.message_id.endswith("@" + SYNTHETIC_ID_DOMAIN)
    assert first.message_id != other.message_id


def test_str_and_bytes_give_the_same_message():
    text = message().as_string()
    assert parse_message(text) == parse_message(text.encode())


def test_a_message_without_from_is_flagged():
    raw = b"To: support@lumenbank.example\nSubject: card\n\n" + QUERY.encode()
    parsed = parse_message(raw)
    assert parsed.sender == ""
    assert any("sender" in d for d in parsed.defects)
    assert parsed.body_text == QUERY


# --- bodies: multipart, HTML, transfer encodings, charsets -------------------------------------


def test_multipart_alternative_prefers_the_plain_text():
    msg = message("Plain: " + QUERY)
    msg.add_alternative(f"<p>HTML: {QUERY}</p><script>alert(1)</script>", subtype="html")
    parsed = parse_message(msg.as_bytes())
    assert parsed.body_text == "Plain: " + QUERY
    assert "HTML: " + QUERY in parsed.body_html
    assert "<script>" not in parsed.body_html and "alert" not in parsed.body_html


def test_an_empty_plain_part_falls_back_to_the_html():
    msg = message("  \n")
    msg.add_alternative(f"<div>{QUERY}</div>", subtype="html")
    assert parse_message(msg.as_bytes()).body_text == QUERY


def test_html_only_mail_is_turned_into_text_with_quotes_marked():
    msg = message()
    msg.set_content(
        "<html><head><style>p {color: red}</style></head><body>"
        f"<div>Hi team,</div><div><br></div><div>{QUERY}</div>"
        "<div>-- <br></div><div>Jane&nbsp;Doe<br>+44 7700 900123</div>"
        '<div class="gmail_quote">On Mon, 3 Jun 2024 at 10:15, Lumen Bank &lt;support@lumenbank.example&gt; wrote:'
        "<blockquote>Thanks for contacting us.<br>Regards</blockquote></div>"
        "<table><tr><td>cell one</td><td>cell two</td></tr></table></body></html>",
        subtype="html",
    )
    text = parse_message(msg.as_bytes()).body_text
    assert text.split("\n") == [
        "Hi team,",
        "",
        QUERY,
        "--",
        "Jane Doe",
        "+44 7700 900123",
        "On Mon, 3 Jun 2024 at 10:15, Lumen Bank <support@lumenbank.example> wrote:",
        "",
        "> Thanks for contacting us.",
        "> Regards",
        ">",
        "cell one cell two",
    ]


@pytest.mark.parametrize("cte", ["base64", "quoted-printable", "8bit"])
def test_transfer_encodings_are_undone(cte):
    body = QUERY + " – the €25 fee too, and “why”?"
    raw = message(body, cte=cte).as_bytes()
    if cte != "8bit":
        assert body.encode() not in raw
    assert parse_message(raw).body_text == body


@pytest.mark.parametrize(
    ("charset", "text"),
    [
        ("iso-8859-1", "Où est ma carte ? Ça fait deux semaines, señor."),
        ("windows-1252", "I was charged €25 – “twice” – for one top-up."),
        ("koi8-r", "Я до сих пор не получил новую карту, прошло две недели."),
        ("shift_jis", "新しいカードがまだ届いていません。"),
        ("iso-8859-2", "Nie otrzymałem jeszcze nowej karty, minęły dwa tygodnie."),
    ],
)
def test_non_utf8_charsets_are_decoded(charset, text):
    raw = message(text, charset=charset, cte="8bit" if charset != "shift_jis" else "base64")
    assert parse_message(raw.as_bytes()).body_text == text


def test_windows_1252_labelled_as_latin1_keeps_curly_quotes():
    raw = (
        b'From: a@example.com\nMessage-ID: <q@x>\nContent-Type: text/plain; charset="iso-8859-1"\n'
        b"Content-Transfer-Encoding: 8bit\n\nI was charged \x80\x31 \x93twice\x94 \x96 why?\n"
    )
    parsed = parse_message(raw)
    assert parsed.body_text == "I was charged €1 “twice” – why?"
    assert parsed.defects == []


def test_undeclared_8bit_utf8_is_read_as_utf8():
    raw = b"From: a@example.com\nMessage-ID: <q@x>\n\nMy card\xe2\x80\x99s PIN is blocked \xe2\x80\x93 help\n"
    assert parse_message(raw).body_text == "My card’s PIN is blocked – help"


def test_an_unknown_charset_is_guessed_and_flagged():
    raw = (
        b"From: a@example.com\nMessage-ID: <q@x>\nContent-Type: text/plain; charset=x-klingon\n"
        b"Content-Transfer-Encoding: 8bit\n\nWhere is my card? Caf\xe9 \xff\n"
    )
    parsed = parse_message(raw)
    assert parsed.body_text.startswith("Where is my card? Caf")
    assert any("x-klingon" in d for d in parsed.defects)


def test_bytes_invalid_in_their_declared_charset_are_flagged():
    raw = (
        b"From: a@example.com\nMessage-ID: <q@x>\nContent-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: 8bit\n\nWhere is my card? \xe9t\xe9\n"
    )
    parsed = parse_message(raw)
    assert parsed.body_text == "Where is my card? été"
    assert any("not valid utf-8" in d for d in parsed.defects)


def test_attachments_are_listed_not_read_as_text():
    msg = message()
    msg.add_attachment(
        b"%PDF-1.4 " + b"x" * 991, maintype="application", subtype="pdf", filename="statement.pdf"
    )
    msg.add_attachment(
        b"\x89PNG" + b"\0" * 96, maintype="image", subtype="png", filename="déclin.png"
    )
    msg.add_attachment("a,b\n1,2\n", subtype="csv", filename="rows.csv")
    parsed = parse_message(msg.as_bytes())
    assert parsed.body_text == QUERY
    assert parsed.attachments == [
        {"filename": "statement.pdf", "content_type": "application/pdf", "size": 1000},
        {"filename": "déclin.png", "content_type": "image/png", "size": 100},
        {"filename": "rows.csv", "content_type": "text/csv", "size": 8},
    ]


def test_a_forward_sent_as_attachment_brings_its_text_when_nothing_was_typed():
    original = message(QUERY)
    outer = EmailMessage()
    outer["From"] = "jane.doe@example.com"
    outer["Subject"] = "Fwd: Card not arrived"
    outer["Message-ID"] = "<fwd@example.com>"
    outer.set_content("")
    outer.add_attachment(original)
    parsed = parse_message(outer.as_bytes())
    assert parsed.body_text == QUERY
    assert parsed.attachments[0]["content_type"] == "message/rfc822"
    assert parsed.attachments[0]["filename"] == "Card not arrived"


def test_mime_classes_built_the_old_way_parse_too():
    outer = MIMEMultipart("alternative")
    outer["From"] = "Jane <jane@example.com>"
    outer["Subject"] = "Card"
    outer.attach(MIMEText(QUERY, "plain", "iso-8859-1"))
    outer.attach(MIMEText(f"<b>{QUERY}</b>", "html", "utf-8"))
    parsed = parse_message(outer.as_bytes())
    assert parsed.body_text == QUERY
    assert parsed.message_id_synthetic


# --- malformed input ---------------------------------------------------------------------------


def test_broken_headers_and_garbage_bytes_are_stored_and_flagged():
    raw = (
        b'From: "Broken <jane@\nTo: ,,, <<>>\nSubject: =?x-unknown?q?caf=E9?= \xff\xfe\n'
        b"Date: 32 Foo 2024 99:99\nMessage-ID: not an id at all\nContent-Type: text/plain; charset=\n"
        b"\x00\x01 garbage line without colon\n\n" + QUERY.encode() + b"\n\xff\xfe\xfd"
    )
    parsed = parse_message(raw)
    assert any("From" in d for d in parsed.defects)
    assert parsed.sender == ""  # '"Broken <jane@' is not an address to reply to
    assert QUERY in parsed.body_text
    assert "\x00" not in parsed.body_text and "\x01" not in parsed.body_text
    assert parsed.message_id_synthetic
    json.dumps(parsed.as_dict())  # storable as JSON as-is


def test_a_multipart_without_boundary_is_flagged_and_read():
    raw = (
        b"From: a@example.com\nMessage-ID: <m@x>\nContent-Type: multipart/mixed\n\n"
        + QUERY.encode()
        + b"\n"
    )
    parsed = parse_message(raw)
    assert any("boundary" in d for d in parsed.defects)


def test_a_truncated_multipart_keeps_the_text_it_has():
    raw = message().as_bytes()
    msg = message()
    msg.add_attachment(b"x" * 3000, maintype="application", subtype="pdf", filename="a.pdf")
    raw = msg.as_bytes()
    parsed = parse_message(raw[: len(raw) // 2])
    assert parsed.body_text == QUERY
    assert parsed.defects


def test_broken_base64_is_flagged():
    raw = (
        b"From: a@example.com\nMessage-ID: <b@x>\nContent-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: base64\n\nSSBzdGlsbCBoYXZlIG5vdCByZWNlaXZlZA=!*\n"
    )
    parsed = parse_message(raw)
    assert parsed.body_text.startswith("I still have not received")
    assert parsed.defects


@pytest.mark.parametrize("seed", range(4))
def test_it_never_raises_on_damaged_or_random_bytes(seed):
    rng = random.Random(seed)
    good = message(QUERY, cte="base64")
    good.add_alternative(f"<p>{QUERY}</p>", subtype="html")
    good.add_attachment(b"x" * 300, maintype="image", subtype="png", filename="p.png")
    raw = bytearray(good.as_bytes())
    for _ in range(50):
        damaged = bytearray(raw)
        for _ in range(rng.randrange(1, 40)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        parsed = parse_message(bytes(damaged))
        assert isinstance(parsed.body_text, str) and parsed.message_id
        noise = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 400)))
        assert parse_message(noise).message_id


@pytest.mark.parametrize("charset", ["base64", "rot13", "zlib", "undefined", "x-klingon"])
def test_a_charset_label_naming_no_text_encoding_is_guessed_not_fatal(charset):
    raw = f"From: a@example.com\nContent-Type: text/plain; charset={charset}\n\n{QUERY}\n"
    parsed = parse_message(raw.encode())
    assert parsed.body_text == QUERY
    assert any(charset in d for d in parsed.defects)


def test_deeply_nested_multiparts_are_flagged_with_a_bounded_list():
    raw = b"From: a@example.com\nContent-Type: multipart/mixed; boundary=A\n\n" + (
        b"--A\nContent-Type: multipart/mixed; boundary=A\n\n" * 3000
    )
    parsed = parse_message(raw)
    assert len(parsed.defects) == MAX_DEFECTS
    assert parsed.defects[-1].endswith("more defects")


def test_an_empty_message_is_flagged_not_fatal():
    parsed = parse_message(b"")
    assert parsed.body_text == "" and parsed.message_id_synthetic
    assert parsed.defects


# --- sources -----------------------------------------------------------------------------------


def test_iter_eml_paths_reads_a_folder_in_order(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.eml").write_bytes(message("second").as_bytes())
    (tmp_path / "a.eml").write_bytes(message("first").as_bytes())
    (tmp_path / "sub" / "c.eml").write_bytes(message("third").as_bytes())
    (tmp_path / "notes.txt").write_text("not mail")
    items = list(iter_eml_paths(tmp_path))
    assert [label.removeprefix(str(tmp_path)) for label, _ in items] == [
        "/a.eml",
        "/b.eml",
        "/sub/c.eml",
    ]
    assert [parse_message(raw).body_text for _, raw in items] == ["first", "second", "third"]


def test_iter_mbox_labels_each_message_with_its_number(tmp_path):
    path = tmp_path / "export.mbox"
    box = mailbox.mbox(str(path))
    for body in ("one", "From the start of a line", "three"):
        box.add(message(body))
    box.flush()
    box.close()
    items = list(iter_mbox(path))
    assert [label for label, _ in items] == [f"{path}#1", f"{path}#2", f"{path}#3"]
    assert parse_message(items[2][1]).body_text == "three"
    assert list(iter_messages(path)) == items


def test_iter_messages_takes_one_eml_file(tmp_path):
    path = tmp_path / "one.eml"
    path.write_bytes(message().as_bytes())
    assert list(iter_messages(path)) == [(str(path), path.read_bytes())]
    assert [label for label, _ in iter_messages(tmp_path)] == [str(path)]


def test_obsolete_but_readable_header_syntax_is_a_notice_not_a_defect():
    parsed = parse_message(
        b"From: John Q. Public <john@example.com>\nMessage-ID: <n@x>\nSubject: Card\n\n"
        b"Where is my card?\n"
    )
    assert (parsed.sender, parsed.sender_name) == ("john@example.com", "John Q. Public")
    assert parsed.defects == []
    assert parsed.notices == ["header From: obsolete header: period in 'phrase'"]
    missing_boundary = parse_message(
        b"From: a@example.com\nMessage-ID: <m@x>\nContent-Type: multipart/mixed\n\nhello\n"
    )
    assert missing_boundary.defects and missing_boundary.notices == []
