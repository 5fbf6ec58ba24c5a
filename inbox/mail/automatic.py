"""Is this mail written by a machine? Auto-replies, bounces and list mail are set aside.

An out-of-office reply quotes the bank's message, a bounce quotes a whole message and a
newsletter is about anything: none is a customer request, and classifying them gives a
confident wrong intent. They are recognised from their headers, as the standards ask
senders to mark them, with the subject and sender as a fallback for the clients that do not:

- auto_reply: ``Auto-Submitted`` other than ``no`` (RFC 3834), ``X-Autoreply``,
  ``X-Autorespond``, ``Precedence: auto_reply``, a read receipt (``multipart/report;
  report-type=disposition-notification``), or an out-of-office subject in the languages we
  receive ("Automatic reply:", "Abwesenheitsnotiz", "Réponse automatique", ...);
- bounce: ``multipart/report`` delivery-status notifications (RFC 3464), ``X-Failed-Recipients``,
  a mailer-daemon / postmaster sender, or a bounce subject ("Undeliverable:", ...);
- mailing_list: ``List-Id`` / ``List-Unsubscribe`` (RFC 2919 / 2369), ``Precedence: bulk``,
  ``list`` or ``junk``.

A bounce wins over an auto-reply (bounces are often also marked Auto-Submitted), and an
auto-reply over list headers (an out-of-office sent by a list server is still one).
Pure Python: no Django.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from inbox.reasons import AUTO_REPLY, BOUNCE, MAILING_LIST

__all__ = ["AUTO_REPLY", "BOUNCE", "MAILING_LIST", "automatic_reason"]


_BOUNCE_SENDER = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undeliver(?:able|ed)(?: mail)?\b|delivery (?:status notification|failure|"
    r"has failed|failed|incomplete)|mail delivery (?:failed|failure|subsystem)|"
    r"returned mail\b|failure notice|non[- ]?remis|unzustellbar|nicht zustellbar|"
    r"no se puede entregar|non recapitabile|onbestelbaar|niet bezorgd|"
    r"impossible de remettre|kan ikke leveres|kunde inte levereras|"
    r"mensagem não entregue|nie dostarczono)",
    re.I,
)
# Subjects clients put on out-of-office and auto-replies, at the start of the subject.
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(?:\[?auto(?:matic|mated)?[ -]?(?:reply|response|answer)\]?|autoreply|"
    r"out of (?:the )?office|ooo\b|i am (?:currently )?out of (?:the )?office|"
    r"away from (?:the )?office|"
    r"abwesenheit(?:snotiz)?|automatische antwort|automatisch antwoord|afwezig(?:heid)?\b|"
    r"r[ée]ponse automatique|absence du bureau|absent(?:e)? du bureau|"
    r"respuesta autom[áa]tica|fuera de (?:la )?oficina|ausente\b|"
    r"risposta automatica|fuori sede|fuori ufficio|assente\b|"
    r"automatyczna odpowied[źz]|poza biurem|nieobecno[śs][ćc]|"
    r"resposta autom[áa]tica|fora do escrit[óo]rio|aus[êe]ncia\b|"
    r"autosvar|fr[åa]nvar(?:o|ande)\b|frav[æa]r(?:ende)?\b|ikke til stede|"
    r"automaattinen vastaus|poissa(?:olo)?\b|lomalla\b)",
    re.I,
)
_PRECEDENCE_LIST = {"bulk", "list", "junk"}


def automatic_reason(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    sender: str = "",
    subject: str = "",
) -> str:
    """Why this message is automatic mail ("auto_reply", "bounce", "mailing_list"), or ""
    for mail a person wrote. ``headers`` are the message's header fields (name, value),
    names in any case; ``sender`` and ``subject`` as already decoded."""
    fields = _lower(headers)
    content_type = fields.get("content-type", "").lower()
    auto_submitted = fields.get("auto-submitted", "").strip().lower()
    precedence = fields.get("precedence", fields.get("x-precedence", "")).strip().lower()
    if (
        (
            content_type.startswith("multipart/report")
            and "disposition-notification" not in content_type
        )
        or "x-failed-recipients" in fields
        or _BOUNCE_SENDER.match(sender.strip())
        or _BOUNCE_SUBJECT.match(subject)
    ):
        return BOUNCE
    if (
        (auto_submitted and not auto_submitted.startswith("no"))
        or "x-autoreply" in fields
        or "x-autorespond" in fields
        or "x-autoresponder" in fields
        or precedence == "auto_reply"
        or content_type.startswith("multipart/report")  # a read receipt
        or _AUTO_REPLY_SUBJECT.match(subject)
    ):
        return AUTO_REPLY
    if "list-id" in fields or "list-unsubscribe" in fields or precedence in _PRECEDENCE_LIST:
        return MAILING_LIST
    return ""


def _lower(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    fields: dict[str, str] = {}
    for name, value in items:
        fields.setdefault(str(name).strip().lower(), str(value if value is not None else ""))
    return fields
