"""Mask card numbers and IBANs before text goes to logs or exported training data."""

from __future__ import annotations

import re

# 16 digits, optionally split by single spaces or dashes in any grouping. Luhn is not
# checked on purpose: a mistyped card number is still a card number in a log.
_PAN = re.compile(r"(?<![\w*])(?:\d[ -]?){15}\d(?![\w*])")
# Country code, two check digits, then 11-30 letters/digits, grouped by spaces or not.
# Only the first group (a bank code such as WEST) may be all letters, so a following
# word ("... 3210 and") is not swallowed into the number.
_IBAN = re.compile(
    r"(?<![\w*])[A-Za-z]{2}\d{2} ?[A-Za-z0-9]{4}"
    r"(?: ?(?=[A-Za-z0-9]{0,3}\d)[A-Za-z0-9]{4}){1,6}"
    r"(?: ?(?=[A-Za-z0-9]{0,3}\d)[A-Za-z0-9]{1,4})?(?![\w*])"
)

# Task, request and message ids (Celery's task ids in every worker log line) are UUIDs:
# about 2% of random ones contain a run that the IBAN or card pattern takes, which made
# them unsearchable in logs. A UUID-shaped span is an id, not an account, and is kept.
_UUID = re.compile(r"(?<!\w)[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}(?!\w)")


def mask_pii(text: str) -> str:
    """``text`` with card numbers shown as ``**** **** **** 1234`` and IBANs as
    ``GB** **** **** **** **** 5432``, for logs and exported training data.

    Errs on the side of masking: any 16-digit run (spaced or dashed) counts as a card,
    Luhn-valid or not. UUIDs (task and request ids) are left whole.
    """
    parts, start = [], 0
    for uuid in _UUID.finditer(text):
        parts += [_mask(text[start : uuid.start()]), uuid.group()]
        start = uuid.end()
    return "".join([*parts, _mask(text[start:])])


def _mask(text: str) -> str:
    return _PAN.sub(_mask_pan, _IBAN.sub(_mask_iban, text))


def _mask_pan(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return f"**** **** **** {digits[-4:]}"


def _mask_iban(match: re.Match[str]) -> str:
    compact = re.sub(r"\s", "", match.group()).upper()
    if sum(c.isdigit() for c in compact[4:]) < 6:
        return match.group()  # letters-heavy: a product code or a word, not an account
    middle = "**** " * -(-(len(compact) - 8) // 4)
    return f"{compact[:2]}** {middle}{compact[-4:]}"
