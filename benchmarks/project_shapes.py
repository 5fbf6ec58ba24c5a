"""The project's own email shapes (written by this project's authors): each BANKING77
query wrapped in a seeded random email (greetings, pleasantries, closings, signatures,
mobile footers, disclaimers, external-mail banners, quoted Gmail/Outlook/Apple threads,
forwards, HTML-only and multipart/alternative bodies, base64 / quoted-printable,
latin-1 / cp1252 / koi8-r, attachments, missing Message-IDs). The shapes are email
furniture only; nothing in them depends on a query's content. Measured by
benchmarks/email_shapes.py (``--set project``).
"""

from __future__ import annotations

import random
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape

from shapecase import Case

# fmt: off
FIRST = ["John", "Jane", "Priya", "Mohammed", "Olivia", "Chen", "José", "Zoë", "Jürgen", "Aoife",
         "Tom", "Sarah", "Ahmed", "Marta", "Lukas", "Emma"]
LAST = ["Smith", "Doe", "Patel", "Khan", "Brown", "Wei", "García", "Müller", "O'Brien", "Nowak",
        "Taylor", "Jones", "Silva", "Rossi", "Dubois", "Ivanova"]
GREETINGS = ["Hi,", "Hi team,", "Hello,", "Dear Sir or Madam,", "Dear Sir/Madam,", "Good morning,",
             "Hi there,", "Hello Support Team,", "To whom it may concern,", "Hey,",
             "Dear Customer Service,", "Hi all,", "Hello!", "Good afternoon,", "Dear {bank} team,",
             "Hi {bank} support,", "Hello there", "Dear Support,", "Dear Ms Smith,", "Hi Sam,",
             "Hello {bank},", "Hi guys", "Morning,", "Bonjour,", "Hallo,"]
PLEASANTRIES = ["I hope this email finds you well.", "Hope you're well.", "I hope you are doing well."]
CLOSINGS = ["Thanks,", "Thank you,", "Kind regards,", "Best regards,", "Regards,", "Many thanks,",
            "Cheers,", "Best,", "Thanks in advance,", "Thank you for your help.", "Sincerely,",
            "Yours faithfully,", "Looking forward to hearing from you.", "Thanks!", "Warm regards,",
            "Thank you in advance for your help!", "Best wishes,", "Mit freundlichen Grüßen",
            "Cordialement,", "Saludos,", "Thanks again,", "Many thanks in advance.", "Kind Regards"]
TITLES = ["Senior Analyst", "Operations Manager", "Freelance Designer", "Director", "Student",
          "Head of Finance | Northwind Ltd", "Account Executive"]
COMPANIES = ["Northwind Traders Ltd", "Acme Corporation", "Globex GmbH", "Initech Inc."]
MOBILE = ["Sent from my iPhone", "Sent from my Samsung Galaxy smartphone.", "Get Outlook for Android",
          "Sent from Yahoo Mail on Android", "Sent from Mail for Windows", "Sent from my iPad",
          "Envoyé de mon iPhone", "Von meinem iPhone gesendet", "Sent with Proton Mail secure email.",
          "Get Outlook for iOS<https://aka.ms/o0ukef>"]
BANNERS = [
    "CAUTION: This email originated from outside of the organization. Do not click links or open "
    "attachments unless you recognize the sender and know the content is safe.",
    "EXTERNAL EMAIL: This message came from outside your organisation. Please be careful with "
    "links and attachments.",
]
DISCLAIMERS = [
    "This e-mail and any attachments are confidential and intended solely for the use of the "
    "individual to whom it is addressed. If you are not the intended recipient, please notify "
    "the sender immediately and delete this e-mail.",
    "CONFIDENTIALITY NOTICE: The information contained in this email message is confidential and "
    "may be legally privileged. It is intended only for the use of the addressee. Any "
    "unauthorised use, disclosure or copying is prohibited.",
    "DISCLAIMER: {company} is registered in England and Wales, company number 01234567. "
    "Registered office: 1 High Street, London EC1A 1AA.",
    "Please consider the environment before printing this e-mail.",
    "The information in this email is confidential and may be legally privileged. If you have "
    "received this email in error please notify us and delete it. Emails may be monitored.",
]
BANK_REPLIES = [
    "Thank you for contacting us. Could you please provide a few more details so that we can "
    "look into this for you?",
    "Thanks for getting in touch. We have passed your request to the relevant team and will "
    "come back to you within two working days.",
    "Hello, we are sorry for the inconvenience. Please reply to this email with any further "
    "information and we will be happy to help.",
]
GENERIC_SUBJECTS = ["(no subject)", "", "Question", "Help", "Help needed", "Urgent", "Query",
                    "Enquiry", "Account query", "Quick question", "Support request", "Hello",
                    "Help please!", "Customer enquiry", "Re: Your enquiry [Case #00{case}]",
                    "RE: Your message to Support (Ref: {case})", "Important", "Issue"]
FORWARD_NOTES = ["", "Please see below.", "FYI", "Forwarding this again as I have had no reply.",
                 "See below", "Resending this."]
# fmt: on


@dataclass
class Body:
    """A body drafted twice, as plain text and as HTML, plus the thread headers it needs.

    ``outlook`` selects desktop Outlook's HTML (``<p class=MsoNormal>`` paragraphs and
    ``&nbsp;`` spacer paragraphs) instead of webmail's ``<div>``/``<div><br></div>``.
    """

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    in_reply_to: str | None = None
    outlook: bool = False

    def add(self, plain: str, html: str | None = None) -> None:
        self.plain.append(plain)
        self.html.append(html if html is not None else self.paragraph(plain))

    def paragraph(self, text: str) -> str:
        lines = "<br>".join(escape(line) for line in text.split("\n"))
        if self.outlook:
            return f'<p class="MsoNormal">{lines}<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
        return f"<div>{lines}</div><div><br></div>"


class ShapeMaker:
    """Seeded factory of email shapes around a query."""

    def __init__(self, seed: int, bank: str = "Lumen Bank") -> None:
        self.rng = random.Random(seed)
        self.bank = bank
        self.start = datetime(2024, 1, 1, tzinfo=UTC)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, options: Sequence[str]) -> str:
        return self.rng.choice(options)

    def person(self) -> tuple[str, str]:
        first, last = self.pick(FIRST), self.pick(LAST)
        local = f"{first}.{last}".lower().encode("ascii", "ignore").decode().replace("'", "")
        return (
            f"{first} {last}",
            f"{local}@{self.pick(['gmail.com', 'outlook.com', 'example.org'])}",
        )

    def message_id(self, domain: str) -> str:
        # Not email.utils.make_msgid: it mixes in the clock and the pid, and a seeded
        # benchmark must render the same bytes on every run.
        return f"<{self.rng.getrandbits(64):016x}@{domain}>"

    def when(self) -> datetime:
        return self.start + timedelta(minutes=self.rng.randrange(0, 525_600))

    # --- pieces ---

    def own_text(self, body: Body, query: str, name: str, plain_wrap: bool) -> None:
        if self.chance(0.06):
            body.add(self.pick(BANNERS))
        text = query.strip()
        if self.chance(0.75):
            greeting = self.pick(GREETINGS).format(bank=self.bank)
            if self.chance(0.1):
                text = f"{greeting} {text}"  # greeting and request on one line: kept as typed
            else:
                body.add(greeting)
        if self.chance(0.15):
            pleasantry = self.pick(PLEASANTRIES)
            text = f"{pleasantry} {text}" if self.chance(0.5) else f"{pleasantry}\n\n{text}"
        if plain_wrap:
            text = "\n".join(
                textwrap.fill(p, 72, break_long_words=False, break_on_hyphens=False)
                for p in text.split("\n")
            )
        body.add(text)
        self.sign_off(body, name)

    def sign_off(self, body: Body, name: str) -> None:
        first = name.split()[0]
        phone = f"+44 7{self.rng.randrange(100, 999)} {self.rng.randrange(100000, 999999)}"
        if self.chance(0.6):
            closing = self.pick(CLOSINGS)
            signer = self.pick([first, name, f"{first[0]}.", name])
            if self.chance(0.15) and closing.endswith(","):
                body.add(f"{closing} {first}")  # "Thanks, Jane" on one line
            elif self.chance(0.1):
                body.add(f"{closing}\n{signer}\n{phone}")
            else:
                body.add(f"{closing}\n{signer}")
        elif self.chance(0.2):
            body.add(self.pick([first, name, f"- {first}", f"{first[0]}."]))  # name, no closing
        style = self.rng.random()
        if style < 0.18:
            block = f"-- \n{name}\n{self.pick(TITLES)}\n{self.pick(COMPANIES)}\nM: {phone}"
            body.add(block, "<div>-- <br></div>" + body.paragraph(block.split("\n", 1)[1]))
        elif style < 0.3:
            office = f"0{self.rng.randrange(1000, 9999)} {self.rng.randrange(100000, 999999)}"
            site = f"www.{self.pick(['acme', 'globex'])}.com"
            block = f"{name}\n{self.pick(TITLES)}\nTel: {office}\n{site}"
            table = (  # Outlook signatures are often a table: name and title | phone and site
                f"<table><tr><td><b>{escape(name)}</b><br>{escape(self.pick(TITLES))}</td>"
                f"<td>Tel: {office}<br>{site}</td></tr></table>"
            )
            body.add(block, table if self.chance(0.5) else None)
        elif style < 0.36:
            body.add(f"{name} | {self.pick(TITLES)} | {phone}")
        elif style < 0.55:
            body.add(self.pick(MOBILE))
        if self.chance(0.18):
            body.add(self.pick(DISCLAIMERS).format(company=self.pick(COMPANIES)))

    def quoted_thread(self, body: Body, when: datetime, quoted_only: bool = False) -> None:
        reply = self.pick(BANK_REPLIES)
        sender = f"{self.bank} Support"
        address = "support@lumenbank.example"
        style = self.rng.random()
        if quoted_only and 0.45 <= style < 0.8:
            style = 0.9
        quoted_plain = "\n".join("> " + line for line in textwrap.wrap(reply, 70))
        if style < 0.45:
            attribution = self.attribution(when, sender, address)
            body.add(
                f"{attribution}\n{quoted_plain}",
                f'<div class="gmail_quote"><div class="gmail_attr">{escape(attribution)}<br></div>'
                f'<blockquote class="gmail_quote">{escape(reply)}<br><br>{escape(sender)}'
                "</blockquote></div>",
            )
        elif style < 0.8:
            stamp = when.strftime("%d %B %Y %H:%M")
            headers = (
                f"From: {sender} <{address}>\nSent: {stamp}\nTo: me\nSubject: RE: Your enquiry"
            )
            lead = self.pick(["________________________________", "-----Original Message-----"])
            body.add(
                f"{lead}\n{headers}\n\n{reply}\n\n{sender}",
                '<hr><div id="divRplyFwdMsg">'
                + "<br>".join(
                    f"<b>{escape(h.split(':', 1)[0])}:</b>{escape(h.split(':', 1)[1])}"
                    for h in headers.split("\n")
                )
                + f"</div><div>{escape(reply)}<br><br>{escape(sender)}</div>",
            )
        else:  # Apple Mail / Thunderbird: attribution then quoted lines, no Gmail markup
            attribution = f"On {when:%d %b %Y}, at {when:%H:%M}, {sender} <{address}> wrote:"
            body.add(
                f"{attribution}\n\n{quoted_plain}",
                f'<div>{escape(attribution)}</div><blockquote type="cite">{escape(reply)}'
                "</blockquote>",
            )

    def attribution(self, when: datetime, sender: str, address: str) -> str:
        return self.pick(
            [
                f"On {when:%a, %d %b %Y} at {when:%H:%M}, {sender} <{address}> wrote:",
                f"On {when:%a, %b %d, %Y at %I:%M %p} {sender} <{address}> wrote:",
                f"On {when:%d/%m/%Y %H:%M}, {sender} wrote:",
                f"Le {when:%d/%m/%Y à %H:%M}, {sender} <{address}> a écrit :",
                f"Am {when:%d.%m.%Y} um {when:%H:%M} schrieb {sender} <{address}>:",
                f"El {when:%d/%m/%Y} a las {when:%H:%M}, {sender} (<{address}>) escribió:",
                f"Op {when:%d-%m-%Y} om {when:%H:%M} schreef {sender} <{address}>:",
            ]
        )


@dataclass
class Shaped:
    raw: bytes
    shape: str


def make_email(maker: ShapeMaker, query: str, index: int) -> Shaped:
    """One seeded email around ``query``, rendered to raw bytes."""
    name, address = maker.person()
    when = maker.when()
    container = maker.pick(["plain", "plain", "alternative", "alternative", "html"])
    wrap = container != "html" and maker.chance(0.3)
    body = Body(outlook=maker.chance(0.3))
    kind = maker.rng.random()
    subject = maker.pick(GENERIC_SUBJECTS).format(case=10_000 + index)
    if kind < 0.12:  # forwarded: a short note, a forwarding header, the original message
        shape = "forward"
        note = maker.pick(FORWARD_NOTES)
        if note:
            body.add(note)
        inner = Body(outlook=body.outlook)
        maker.own_text(inner, query, name, wrap)
        stamp = format_datetime(when - timedelta(days=3))
        original = _subject_variant(maker, subject, query)
        if maker.chance(0.6):
            head = (
                f"---------- Forwarded message ---------\nFrom: {name} <{address}>\n"
                f"Date: {stamp}\nSubject: {original}\nTo: <support@lumenbank.example>"
            )
            subject = f"Fwd: {original}"
        else:
            head = (
                f"________________________________\nFrom: {name} <{address}>\nSent: {stamp}\n"
                f"To: support@lumenbank.example\nSubject: {original}"
            )
            subject = f"FW: {original}"
        body.add(
            head + "\n\n" + "\n\n".join(inner.plain), body.paragraph(head) + "".join(inner.html)
        )
    else:
        thread = kind < 0.5
        shape = "reply" if thread else "new"
        bottom_post = thread and maker.chance(0.1)
        if bottom_post:  # bottom-posting is only readable under a ">"-quoted message
            maker.quoted_thread(body, when - timedelta(days=1), quoted_only=True)
        maker.own_text(body, query, name, wrap)
        if thread and not bottom_post:
            maker.quoted_thread(body, when - timedelta(days=1))
        if thread:
            body.in_reply_to = maker.message_id("lumenbank.example")
            if not subject.lower().startswith("re"):
                subject = "Re: " + subject
        subject = _subject_variant(maker, subject, query)

    msg = EmailMessage()
    msg["From"] = f"{name} <{address}>"
    msg["To"] = "Lumen Bank Support <support@lumenbank.example>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    if maker.chance(0.9):
        msg["Message-ID"] = maker.message_id(address.split("@")[1])
    if body.in_reply_to:
        msg["In-Reply-To"] = body.in_reply_to
        msg["References"] = body.in_reply_to
    plain = "\n\n".join(body.plain) + "\n"
    html = f'<html><body><div dir="ltr">{"".join(body.html)}</div></body></html>'
    charset = maker.pick(["utf-8", "utf-8", "iso-8859-1", "windows-1252", "koi8-r"])
    cte = maker.pick(["base64", "quoted-printable", "8bit"])
    _set_body(msg, container, plain, html, charset, cte)
    if maker.chance(0.15):
        msg.add_attachment(
            b"%PDF-1.4 statement" * 20,
            maintype="application",
            subtype="pdf",
            filename="statement.pdf",
        )
    for part in msg.walk():  # the generator's own boundaries are random: seed them too
        if part.is_multipart():
            part.set_boundary(f"=={maker.rng.getrandbits(64):016x}==")
    return Shaped(msg.as_bytes(), f"{shape}/{container}")


def _subject_variant(maker: ShapeMaker, subject: str, query: str) -> str:
    roll = maker.rng.random()
    prefix = "Re: " if subject.lower().startswith("re") else ""
    words = query.split()
    if roll < 0.15:
        return prefix + query.strip()  # the query itself; the body repeats it
    if roll < 0.3 and len(words) > 6:
        return prefix + " ".join(words[: maker.rng.randrange(3, 6)]) + "..."
    return subject


def _set_body(
    msg: EmailMessage, container: str, plain: str, html: str, charset: str, cte: str
) -> None:
    def fits(text: str) -> str:
        try:
            text.encode(charset)
        except UnicodeEncodeError:
            return "utf-8"
        return charset

    if container in ("plain", "alternative"):
        msg.set_content(plain, charset=fits(plain), cte=cte)
    if container == "alternative":
        msg.add_alternative(html, subtype="html", charset=fits(html), cte=cte)
    elif container == "html":
        msg.set_content(html, subtype="html", charset=fits(html), cte=cte)


def project_cases(queries: Sequence[str], labels: Sequence[str], seed: int) -> list[Case]:
    """One seeded email per query; the expected text is the query itself."""
    maker = ShapeMaker(seed)
    cases = []
    for i, (query, label) in enumerate(zip(queries, labels, strict=True)):
        shaped = make_email(maker, query, i)
        kind, container = shaped.shape.split("/")
        cases.append(
            Case(
                shaped.raw,
                query,
                label,
                family=kind,
                lang="en",
                # the generator forwards the customer's own earlier email under a note
                # that says nothing ("FYI", "Resending this.")
                post="forward-own" if kind == "forward" else kind,
                group=container,
                name=f"project-{i}",
            )
        )
    return cases
