"""inbox.mail.cleaning: the model sees what the customer wrote, not the email around it.

Bodies are written the way mail clients write them (Gmail, Outlook, Apple Mail,
Thunderbird, phones) around BANKING77 queries; the assertion is the query itself.
"""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from inbox.mail.cleaning import (
    clean_subject,
    customer_text,
    is_generic_subject,
    mask_pii,
    model_input,
    truncate,
)
from inbox.mail.parsing import parse_message

QUERY = "I still have not received my new card, it has been two weeks."

FULL_EMAIL = f"""Hi team,

{QUERY}

Kind regards,
John Smith
Operations Manager | Northwind Traders Ltd
+44 7700 900123

This e-mail and any attachments are confidential and intended solely for the
use of the individual to whom it is addressed. If you are not the intended
recipient, please notify the sender immediately.

On Mon, 3 Jun 2024 at 10:15, Lumen Bank Support <support@lumenbank.example> wrote:
> Thank you for contacting us. Could you tell us when you ordered the card?
>
> Kind regards,
> Lumen Bank
"""


def test_greeting_signature_disclaimer_and_quote_all_go():
    assert model_input("Re: Your enquiry", FULL_EMAIL) == QUERY


@pytest.mark.parametrize(
    "body",
    [
        # Outlook: a rule line, then a From/Sent/To/Subject block, quoted text unmarked.
        f"{QUERY}\n\n________________________________\nFrom: Lumen Bank <support@lumenbank.example>\n"
        "Sent: 03 June 2024 10:15\nTo: John Smith <john@example.com>\nSubject: RE: Card\n\n"
        "Thank you for contacting us.\n",
        f"{QUERY}\n\n-----Original Message-----\nFrom: Lumen Bank [mailto:support@lumenbank.example]\n"
        "Sent: Monday, June 3, 2024 10:15 AM\nTo: John Smith\nSubject: RE: Card\n\nThanks for your email.",
        # Outlook's own HTML reply, as parse_message turns it into text.
        f"{QUERY}\n\nFrom: Lumen Bank\nSent: Monday, June 3, 2024 10:15 AM\nTo: me\nSubject: RE: Card\n"
        "Thank you for contacting us.",
        # Gmail wraps a long attribution line.
        f"{QUERY}\n\nOn Mon, 3 Jun 2024 at 10:15, Lumen Bank Customer Support Team <\n"
        "support@lumenbank.example> wrote:\n\n> Thank you for contacting us.\n",
        # Apple Mail and Thunderbird.
        f"{QUERY}\n\nSent from my iPhone\n\n> On 3 Jun 2024, at 10:15, Lumen Bank <s@lumenbank.example> wrote:\n"
        "> \n> Thank you for contacting us.",
        f"{QUERY}\n\nOn 03/06/2024 10:15, Lumen Bank wrote:\n> Thank you for contacting us.",
        # Other languages' clients.
        f"{QUERY}\n\nLe lun. 3 juin 2024 à 10:15, Lumen Bank <s@lumenbank.example> a écrit :\n> Merci.",
        f"{QUERY}\n\nAm Mo., 3. Juni 2024 um 10:15 Uhr schrieb Lumen Bank <s@lumenbank.example>:\n> Danke.",
        f"{QUERY}\n\nEl lun, 3 jun 2024 a las 10:15, Lumen Bank (<s@lumenbank.example>) escribió:\n> Gracias.",
        f"{QUERY}\n\nOp ma 3 jun. 2024 om 10:15 schreef Lumen Bank <s@lumenbank.example>:\n> Bedankt.",
        f"{QUERY}\n\nпн, 3 июн. 2024 г. в 10:15, Lumen Bank <s@lumenbank.example>:\n> Спасибо.",
        # Yahoo indents its attribution; Japanese Gmail writes no verb; some clients put
        # Date before From.
        f"{QUERY}\n\n    On Monday, 3 June 2024, 10:15:00 BST, Lumen Bank <s@lumenbank.example> wrote:"
        "\n\n Thanks for contacting us.",
        f"{QUERY}\n\n2024年6月3日(月) 10:15 Lumen Bank <s@lumenbank.example>:\n> ありがとう",
        f"{QUERY}\n\nDate: Mon, 3 Jun 2024 10:15\nFrom: Lumen Bank <s@lumenbank.example>\n"
        "To: jane@example.com\nSubject: Re: card\n\nThanks for your message",
        f"{QUERY}\n\nVon: Lumen Bank <s@lumenbank.example>\nGesendet: Montag, 3. Juni 2024 10:15\n"
        "An: John Smith\nBetreff: AW: Karte\n\nDanke für Ihre Nachricht.",
    ],
)
def test_quoted_replies_are_removed(body):
    assert customer_text(body) == QUERY


def test_text_under_a_quote_is_kept_when_the_customer_bottom_posts():
    body = (
        "On Mon, 3 Jun 2024 at 10:15, Lumen Bank <s@lumenbank.example> wrote:\n"
        "> Could you tell us when you ordered it?\n\n"
        f"{QUERY}\n\nThanks,\nJane"
    )
    assert customer_text(body) == QUERY


def test_a_reply_with_nothing_typed_falls_back_to_the_quoted_message():
    body = f"\n\nOn Mon, 3 Jun 2024 at 10:15, Jane <jane@example.com> wrote:\n> {QUERY}\n"
    assert customer_text(body) == QUERY


@pytest.mark.parametrize(
    "signature",
    [
        "-- \nJohn Smith\nSenior Analyst",
        "--\nJ.",
        "Sent from my iPhone",
        "Sent from my Samsung Galaxy smartphone.",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Von meinem iPhone gesendet",
        "Kind regards,\nJohn Smith\n+44 20 7946 0958",
        "Thanks,\nJane",
        "Thanks, Jane",
        "Many thanks in advance.\nPriya Patel",
        "Best wishes,\nDr. Olivia Brown\nHead of Finance\nNorthwind Traders Ltd\nwww.northwind.example",
        "Mit freundlichen Grüßen\nJürgen Müller",
        "Cordialement,\nÉmilie",
        "Cheers - Tom",
        "Jane Smith | Director | +44 7700 900123",
        "Jane Smith\nTel: 0161 496 0000\njane@northwind.example",
        "Jane Smith",
        "- Jane",
        "Looking forward to hearing from you.\nJ. Doe",
        "Ta,\nDave",
        "Regards / John",
        "Warm Wishes,\nAnna",
        "Kind Regards\n\nMr J Smith\n12 Acacia Avenue\nLondon\nSW1A 1AA",
        "Sent from my BlackBerry® wireless device",
    ],
)
def test_signatures_and_closings_are_removed(signature):
    assert customer_text(f"{QUERY}\n\n{signature}\n") == QUERY


@pytest.mark.parametrize(
    "disclaimer",
    [
        "CONFIDENTIALITY NOTICE: The information contained in this email message is confidential"
        " and may be legally privileged.",
        "The information in this email is confidential and may be legally privileged. It is"
        "\nintended solely for the addressee.",
        "Northwind Traders Ltd is registered in England and Wales (no. 01234567). Registered office:"
        " 1 High Street, London.",
        "Please consider the environment before printing this e-mail.",
        "DISCLAIMER\nThis message may contain confidential information. If you have received this"
        " email in error please delete it.",
        "Northwind Bank plc is authorised and regulated by the Financial Conduct Authority.",
    ],
)
def test_legal_disclaimers_are_removed(disclaimer):
    assert customer_text(f"{QUERY}\n\n{disclaimer}") == QUERY
    assert customer_text(f"{QUERY}\nJane\n{disclaimer}") == QUERY  # no blank line before it


def test_an_external_mail_banner_on_top_is_removed():
    body = (
        "CAUTION: This email originated from outside of the organization. Do not click links or "
        f"open attachments unless you recognize the sender.\n\n{QUERY}"
    )
    assert customer_text(body) == QUERY


@pytest.mark.parametrize(
    "greeting",
    [
        "Hi team,",
        "Dear Sir or Madam,",
        "Hello,",
        "Hi there!",
        "Good morning,",
        "Dear Ms Smith,",
        "To whom it may concern,",
        "Hello Lumen Bank Support Team,",
        "Hey",
        "Bonjour,",
    ],
)
def test_a_greeting_only_line_is_dropped(greeting):
    assert customer_text(f"{greeting}\n\n{QUERY}") == QUERY
    assert customer_text(f"{greeting}\n{QUERY}") == QUERY


def test_a_greeting_that_addresses_someone_goes_but_the_request_stays():
    assert customer_text(f"Hi Sam, {QUERY}") == QUERY
    assert customer_text(f"Hello team I {QUERY[2:]}") == QUERY
    assert customer_text(f"Dear Support, {QUERY}") == QUERY


def test_a_bare_greeting_on_the_same_line_stays_as_banking77_writes_it():
    # BANKING77 has queries that start "Hi, ..." and "Hello I ...": the model reads them
    # that way, and cutting the greeting cost such queries their own words.
    assert customer_text("Hey, how do I top up by bank transfer?") == (
        "Hey, how do I top up by bank transfer?"
    )
    assert customer_text("Hello I changed my mind, refund please.") == (
        "Hello I changed my mind, refund please."
    )
    assert customer_text("Hi,  Is there any problem with app?\n--\nrick") == (
        "Hi, Is there any problem with app?"
    )


def test_a_postscript_under_the_signature_is_kept():
    body = f"{QUERY}\n\nThanks,\nJane\n\nP.S. I ordered it on the 3rd.\n\nSent from my iPhone"
    assert customer_text(body) == f"{QUERY} P.S. I ordered it on the 3rd."


def test_pleasantries_go():
    body = f"Dear Sir or Madam,\n\nI hope this email finds you well. {QUERY}\n\nThank you,\nJane"
    assert customer_text(body) == QUERY


def test_it_does_not_mistake_the_request_for_furniture():
    # Words that also start greetings, closings or headers, used as content.
    assert customer_text("Highly annoyed: my top-up failed again.") == (
        "Highly annoyed: my top-up failed again."
    )
    assert customer_text("Hi, thanks for the new card. How do I activate it?") == (
        "Hi, thanks for the new card. How do I activate it?"
    )
    pasted = "I sent money yesterday.\nFrom: my current account\nTo: John, my landlord\nIt never arrived."
    assert customer_text(pasted) == " ".join(pasted.split())
    on_line = "On Monday I tried to withdraw cash and the ATM kept my card."
    assert customer_text(on_line) == on_line
    confidential = "The letter you sent is confidential, so why was it opened?"
    assert customer_text(confidential) == confidential
    assert customer_text("Best exchange rate for USD?\n") == "Best exchange rate for USD?"
    assert customer_text("Hi,\n\nTop Up Failed\n\nThanks,\nJane") == "Top Up Failed"


def test_hard_wrapped_lines_are_joined_and_whitespace_normalised():
    body = "I still have not received my\nnew card,  it has\tbeen two\u00a0weeks.\r\n\r\n\r\n"
    assert customer_text(body) == QUERY


@pytest.mark.parametrize(
    ("subject", "note", "marker"),
    [
        (
            "Fwd: Card",
            "Please see below.",
            "---------- Forwarded message ---------\nFrom: Jane Doe <jane@example.com>\n"
            "Date: Mon, 3 Jun 2024 at 10:15\nSubject: Card\nTo: <support@lumenbank.example>",
        ),
        (
            "FW: Card",
            "Forwarding this again as I have had no reply.",
            "________________________________\nFrom: Jane Doe <jane@example.com>\n"
            "Sent: 03 June 2024 10:15\nTo: support@lumenbank.example\nSubject: Card",
        ),
        (
            "Fwd: Card",
            "",
            "Begin forwarded message:\n\nFrom: Jane Doe <jane@example.com>\n"
            "Subject: Card\nDate: 3 June 2024 at 10:15:00 BST\nTo: support@lumenbank.example",
        ),
        (
            "WG: Card",
            "FYI",
            "-------- Weitergeleitete Nachricht --------\nBetreff: Card\n"
            "Datum: Mon, 3 Jun 2024 10:15:00 +0200\nVon: Jane Doe <jane@example.com>",
        ),
    ],
)
def test_a_forward_keeps_the_forwarded_request_not_the_markers(subject, note, marker):
    body = f"{note}\n\n{marker}\n\nHello,\n\n{QUERY}\n\nThanks,\nJane\n"
    assert model_input(subject, body) == QUERY


def test_a_note_that_only_points_below_reads_what_is_below_under_any_subject():
    # Under "FW:" the header block introduces a forward; under "RE:" a quoted message.
    # Either way "See below." says nothing, so the text under it is what the model reads.
    body = (
        "See below.\n\n________________________________\nFrom: Jane <jane@example.com>\n"
        f"Sent: 03 June 2024 10:15\nTo: support@lumenbank.example\nSubject: Card\n\n{QUERY}"
    )
    assert model_input("[EXTERNAL] FW: Card", body) == QUERY
    assert model_input("RE: FW: Card", body) == QUERY
    assert model_input("SV: Card", body.replace("See below.", "Se nedenfor.")) == QUERY


def test_a_nudge_above_a_forward_is_the_note_the_thread_context_is_for():
    # "Still not sorted" says something about the thread, not the request; the forwarded
    # text is not read in its place (short replies get the thread's intent elsewhere).
    body = (
        "This is still not sorted, can you look again?\n\n---------- Forwarded message -----"
        "----\nFrom: Jane <jane@example.com>\nDate: Mon, 3 Jun 2024 at 10:15\n\n" + QUERY
    )
    assert customer_text(body) == "This is still not sorted, can you look again?"


def test_a_forward_is_classified_on_the_note_typed_above_it():
    forwarded = (
        "---------- Forwarded message ---------\nFrom: Lumen Bank <support@lumenbank.example>\n"
        "Date: Mon, 3 Jun 2024 at 10:15\nSubject: Your transfer\n\n"
        "Your transfer of 250 EUR has been sent and will arrive within two working days."
    )
    assert customer_text(f"{QUERY}\n\n{forwarded}") == QUERY


@pytest.mark.parametrize(
    "note",
    [
        "",
        "FYI",
        "See below.",
        "Siehe unten.",
        "Voir ci-dessous",
        "Zie hieronder.",
        "Se nedan.",
        "Forwarding this again as I have had no reply.",
    ],
)
def test_a_note_that_says_nothing_falls_back_to_the_forwarded_text(note):
    body = (
        f"{note}\n\n---------- Forwarded message ---------\n"
        f"From: Jane <jane@example.com>\nDate: Mon, 3 Jun 2024 at 10:15\nSubject: Card\n\n{QUERY}"
    )
    assert customer_text(body) == QUERY


# --- subjects ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "cleaned"),
    [
        ("Re: Card not arrived", "Card not arrived"),
        ("RE: Fwd: AW: WG: Card not arrived", "Card not arrived"),
        ("Re[2]: Card not arrived", "Card not arrived"),
        ("[EXTERNAL] Re: Card not arrived", "Card not arrived"),
        ("(no subject)", ""),
        ("I still have not received my new...", "I still have not received my new"),
    ],
)
def test_subject_prefixes_are_stripped(subject, cleaned):
    assert clean_subject(subject) == cleaned


@pytest.mark.parametrize(
    "subject",
    [
        "",
        "Question",
        "Help",
        "Help needed!",
        "Urgent",
        "Quick question",
        "Account query",
        "Your enquiry [Case #00123456]",
        "Support request (Ref: 10234)",
        "Re:",
    ],
)
def test_a_generic_subject_is_dropped(subject):
    assert is_generic_subject(clean_subject(subject))
    assert model_input(subject, QUERY) == QUERY


def test_an_informative_subject_goes_in_front():
    assert model_input("Re: Card not arrived", "It has been two weeks now.") == (
        "Card not arrived. It has been two weeks now."
    )
    assert model_input("Where is my card?", "It has been two weeks.") == (
        "Where is my card? It has been two weeks."
    )


def test_a_subject_the_body_already_says_is_dropped():
    assert model_input("Re: I still have not received my new card", FULL_EMAIL) == QUERY
    assert model_input("Hi. I still have not received my new...", QUERY) == QUERY


def test_a_body_that_only_repeats_the_subject_leaves_the_subject():
    assert model_input(QUERY, "Hi,\n\nI still have not received my new card\n\nJane") == QUERY


def test_an_email_of_only_furniture_still_gives_the_model_some_text():
    assert model_input("(no subject)", "Hi team,\n\nThanks,\nJane") == "Hi team, Thanks, Jane"
    assert model_input("", "") == ""


def test_the_input_is_cut_on_a_word_boundary():
    long_body = "word " * 200
    cut = model_input("", long_body, max_chars=52)
    assert len(cut) <= 52 and cut == ("word " * 10).strip()
    assert truncate("abcdefghij", 4) == "abcd"
    assert truncate("short", 512) == "short"


# --- from raw email to model input -------------------------------------------------------------


def _email(subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Jane Doe <jane@example.com>"
    msg["To"] = "support@lumenbank.example"
    msg["Subject"] = subject
    return msg


def test_an_html_only_gmail_reply_comes_out_as_the_query():
    msg = _email("Re: Your enquiry")
    msg.set_content(
        f'<div dir="ltr"><div>Hi team,</div><div><br></div><div>{QUERY}</div><div><br></div>'
        '<div>Thanks,</div><div>Jane</div><br><div class="gmail_quote"><div class="gmail_attr">'
        "On Mon, 3 Jun 2024 at 10:15, Lumen Bank &lt;support@lumenbank.example&gt; wrote:<br></div>"
        '<blockquote class="gmail_quote">Thank you for contacting us.<br>Lumen Bank</blockquote></div></div>',
        subtype="html",
    )
    parsed = parse_message(msg.as_bytes())
    assert model_input(parsed.subject, parsed.body_text) == QUERY


def test_an_outlook_html_reply_with_a_table_signature_comes_out_as_the_query():
    msg = _email("RE: Card")
    msg.set_content(
        '<html><body><p class="MsoNormal">Dear Sir/Madam,<o:p></o:p></p>'
        '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
        f'<p class="MsoNormal">{QUERY}<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
        "<table><tr><td><b>John Smith</b><br>Operations Manager</td>"
        "<td>Tel: 0161 496 0000<br>www.northwind.example</td></tr></table>"
        '<hr><div id="divRplyFwdMsg"><b>From:</b> Lumen Bank &lt;support@lumenbank.example&gt;<br>'
        "<b>Sent:</b> Monday, June 3, 2024 10:15 AM<br><b>To:</b> John Smith<br>"
        "<b>Subject:</b> RE: Card</div><div>Thank you for contacting us.</div></body></html>",
        subtype="html",
    )
    parsed = parse_message(msg.as_bytes())
    assert model_input(parsed.subject, parsed.body_text) == QUERY


@pytest.mark.parametrize(
    ("charset", "cte"),
    [("iso-8859-1", "quoted-printable"), ("windows-1252", "base64"), ("koi8-r", "8bit")],
)
def test_a_non_utf8_multipart_email_comes_out_as_the_query(charset, cte):
    msg = _email("Question")
    body = f"Bonjour,\n\n{QUERY}\n\nCordialement,\nRené\n\nEnvoyé de mon iPhone"
    if charset == "koi8-r":
        body = f"Здравствуйте,\n\n{QUERY}\n\nС уважением,\nИван"
    msg.set_content(body, charset=charset, cte=cte)
    msg.add_alternative(f"<p>{body}</p>", subtype="html", charset=charset, cte=cte)
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")
    parsed = parse_message(msg.as_bytes())
    assert parsed.defects == []
    assert model_input(parsed.subject, parsed.body_text) == QUERY


# --- masking card numbers and IBANs ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("card 4111 1111 1111 1111 declined", "card **** **** **** 1111 declined"),
        ("4111-1111-1111-1234", "**** **** **** 1234"),
        ("number 5500000000000004.", "number **** **** **** 0004."),
        ("not luhn 1234 5678 9012 3456", "not luhn **** **** **** 3456"),
        ("odd grouping 41111 11111 11111 2", "odd grouping **** **** **** 1112"),
        ("IBAN GB82 WEST 1234 5698 7654 32 please", "IBAN GB** **** **** **** **** 5432 please"),
        ("to DE89370400440532013000", "to DE** **** **** **** **** 3000"),
        ("nl91abna0417164300 lower case", "NL** **** **** **** 4300 lower case"),
        (
            "pay DE89 3704 0044 0532 0130 00 and 4111 1111 1111 1111",
            "pay DE** **** **** **** **** 3000 and **** **** **** 1111",
        ),
    ],
)
def test_card_numbers_and_ibans_are_masked(text, masked):
    assert mask_pii(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "call me on +44 7700 900123",
        "sort code 12-34-56, account 12345678",
        "amount 1234.56 on 2024-06-03",
        "a 17-digit reference 12345678901234567",
        "GB12 I AM ANGRY ABOUT THIS",
        "already masked **** **** **** 1111",
    ],
)
def test_other_numbers_and_words_are_left_alone(text):
    assert mask_pii(text) == text


def test_masking_leaves_no_digits_of_a_card_but_the_last_four():
    masked = mask_pii("My card 4539 1488 0343 6467 and my IBAN GB33BUKB20201555555555")
    assert "4539" not in masked and "1488" not in masked and "0343" not in masked
    assert "2020155" not in masked and masked.endswith("5555")


@pytest.mark.timeout(10)
def test_huge_bodies_and_tokens_are_cleaned_quickly():
    # One 200,000-character token with a pipe took minutes before line lengths were bounded.
    # The token is longer than the 512-character budget, so the cut leaves the query.
    assert model_input("", f"{QUERY}\n\n" + "a@" * 100_000 + "|") == QUERY
    pasted_log = f"{QUERY}\n\n" + "ERROR 2024-06-03 10:15 transfer failed | code=51\n" * 50_000
    assert model_input("", pasted_log).startswith(QUERY)
