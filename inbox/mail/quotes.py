"""Where the customer's text ends and someone else's begins: quoted replies, reply
headers and forwarded messages.

A reply's own text stands above (or between) quoted material that a client introduces in
one of a few ways, each recognised as a class rather than client by client:

- an attribution line, "On <date>, <name> wrote:" in any of the languages in
  ``furniture.WROTE``, wrapped over up to six lines, decorated ("---- … wrote ----"), with
  or without the colon, with colons inside ("schrieb am Fr., 28. Apr. 2017 um 11:53 Uhr:");
- a verbless attribution: a date and a time and an address, ending in a colon
  ("30.09.2017, 18.30, "John" <j@x.org>:"), or a line that starts with a date and time and
  then only names a sender ("2016-03-03 17:21 GMT+01:00 Some One");
- a header block (From/Sent/To/Subject in any order, in many languages, values wrapped,
  an unknown key or two among them), after an optional "---- Original Message ----" line
  or rule;
- quote prefixes ("> ", "| ").

An attribution never ends with a sentence's full stop, so a customer line directly above
one (no blank line between) is never swallowed into it. Pure Python: no Django.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from inbox.mail import furniture

__all__ = ["Split", "split"]

_DECORATION = " \t-=_*~"
# Every attribution has one of these: a date or time, an address, a colon or a rule.
_MAYBE_ATTRIBUTION = re.compile(r"[\d@:：]|--")
_ANGLE_ADDRESS = re.compile(r"<[^<>\s]*@[^<>\s]*>|\S+@\S+\.\w+")
_TIME = re.compile(r"\b\d{1,2}[:.h]\d{2}\b")
_DATE = re.compile(
    r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b|\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b"
    r"|\b\d{1,2}\.? ?[^\W\d_]{3,12}\.? \d{4}\b|\b[^\W\d_]{3,12}\.? \d{1,2},? \d{4}\b"
    r"|\d{4}年\d{1,2}月\d{1,2}日"
)
# A header line that starts with a date and time, then names a sender: old Gmail.
_DATE_LED = re.compile(
    r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\.?|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}),?\s+"
    r"(?:\d{1,2}[:.]\d{2}(?::\d{2})?\s*(?:[AaPp]\.?[Mm]\.?)?\s*(?:GMT|UTC)?[+-]?(?:\d{2}:?\d{2})?,?\s*)?"
    r"(?P<rest>.*)$"
)


@dataclass
class Split:
    """A block of lines cut in three: the writer's own lines, the message they forward
    (None when there is none) and the first quoted message."""

    own: list[str] = field(default_factory=list)
    forwarded: list[str] | None = None
    quoted: list[str] = field(default_factory=list)


def split(lines: list[str], forwarded: bool) -> Split:
    """Split ``lines``; ``forwarded`` says the subject marks a forward, so a bare header
    block introduces the forwarded message rather than a quoted one."""
    result = Split()
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if _is_quote_line(stripped):
            block, i = _take_quoted(lines, i)
            result.quoted = result.quoted or block
            if _has_text(result.own) and _starts_a_message(block):
                return result  # a whole quoted message under the reply: what follows is its end
            continue
        if _is_forward_marker(lines, i):
            result.forwarded = lines[_skip_headers(lines, i + 1) :]
            return result
        span = attribution_span(lines, i)
        if span:
            i = _skip_blank(lines, i + span)
            if not _has_text(result.own) and i < len(lines) and _is_quote_line(lines[i].strip()):
                continue  # nothing above: the reply is bottom-posted, under the quote
            result.quoted = result.quoted or lines[i:]
            return result
        header_end = header_block_end(lines, i)
        if header_end:
            if forwarded:
                result.forwarded = lines[header_end:]
            else:
                result.quoted = result.quoted or lines[header_end:]
            return result
        if furniture.SEPARATOR.match(stripped):
            # A rule line before a signature, a disclaimer or a quote: not customer text.
            return result
        result.own.append(lines[i])
        i += 1
    return result


def attribution_span(lines: list[str], i: int) -> int:
    """Number of lines (1-6) of an attribution ("On <date>, <name> wrote:") starting at
    line i, or 0. Blank lines inside are allowed once the first line looks like the start
    of one (an opener word or a date)."""
    first = lines[i].strip()
    if not first or len(first) > 400 or not _MAYBE_ATTRIBUTION.search("".join(lines[i : i + 6])):
        return 0
    if first[-1] in ".?!" and not (furniture.WROTE_LINE.match(first) or "@" in first):
        return 0  # the customer's sentence right above an attribution is not part of it
    core = first.strip(_DECORATION)
    dated = bool(_DATE.search(first[:80]) or _TIME.search(first))
    starts_like_one = bool(
        furniture.WROTE_OPENER.match(core)
        or _DATE_LED.match(core)
        or (dated and _DATE.search(first))
    )
    joined = ""
    end = i
    for _ in range(6):
        if end >= len(lines):
            return 0
        line = lines[end].strip()
        end += 1
        if not line:
            # A header wrapped around blank lines ("On Thu, 31 Mar 2016 at 11:16 Some One",
            # blank, "<mailto:...> wrote:") starts with a date; "On Monday my card..." does not.
            if not (starts_like_one and dated):
                return 0
            continue
        joined = f"{joined} {line}".strip()
        if len(joined) > 500:
            return 0
        if _is_attribution(joined, starts_like_one):
            if (
                end - i > 1
                and not starts_like_one
                and attribution_span(lines, i + 1) == end - i - 1
            ):
                return 0  # the attribution starts on the next line; this one is the customer's
            return end - i
    return 0


def _is_attribution(text: str, starts_like_one: bool) -> bool:
    decorated = text[:1] in "-=*" and text[-1:] in "-=*"
    core = text.strip(_DECORATION)
    has_date = bool(re.search(r"\d", core))
    if furniture.WROTE_LINE.match(core):
        ends_right = core.endswith((":", "：")) or bool(furniture.WROTE_END.search(core))
        evidence = starts_like_one or has_date or "@" in core or decorated
        return ends_right and evidence
    if core.endswith((":", "：")) and _ANGLE_ADDRESS.search(core) and _TIME.search(core):
        return bool(furniture.VERBLESS_START.match(core) or _DATE.search(core))
    match = _DATE_LED.match(core)
    if match:
        rest = match.group("rest").strip(" ,:")
        return (
            not rest
            or core.endswith(":")
            or "@" in rest
            or rest.endswith("<")
            or _is_sender_name(rest)
        )
    return False


def _starts_a_message(block: list[str]) -> bool:
    """Whether a quoted block is a whole earlier message: it opens with a forward line or
    a header block, not with the sentence an inline reply answers."""
    j = _skip_blank(block, 0)
    return j < len(block) and (
        _is_forward_marker(block, j)
        or bool(header_block_end(block, j))
        or bool(attribution_span(block, j))
    )


def _has_text(lines: list[str]) -> bool:
    return any(re.search(r"[^\W_]", line) for line in lines)


def _is_sender_name(text: str) -> bool:
    words = text.replace('"', " ").split()
    return 0 < len(words) <= 6 and all(w[:1].isupper() or w in {"via", "de", "van"} for w in words)


def header_block_end(lines: list[str], i: int) -> int:
    """Index after a header block that introduces a quoted or forwarded message
    ("-----Original Message-----" and/or From:/Sent:/To:/Subject: lines, in any order,
    in many languages) starting at i, or 0 when there is none at i."""
    stripped = lines[i].strip()
    marker = _is_original_marker(lines, i)
    lead_in = marker or furniture.SHORT_RULE.match(stripped)
    first = _skip_blank(lines, i + 1) if lead_in else i
    keys: set[str] = set()
    has_digit = from_has_address = False
    end = first
    strays = 0
    while end < len(lines) and end - first <= 10:
        line = lines[end].strip()
        match = furniture.HEADER_KEY.match(line)
        if match:
            key = match.group(1).lower()
            keys.add(key)
            has_digit = has_digit or bool(re.search(r"\d", line))
            from_has_address = from_has_address or (key in furniture.FROM_KEYS and "@" in line)
        elif not line:
            break
        elif lines[end].startswith((" ", "\t")):
            pass  # a folded value
        elif keys and strays < 2 and _next_is_header(lines, end + 1):
            strays += 1  # an unknown key ("Risposta:") or a subject wrapped onto a new line
        else:
            break
        end += 1
    # Clients write From, a date and To/Subject; a customer's pasted "From: my account /
    # To: John" has neither a date nor an address and stays.
    has_from = bool(keys & furniture.FROM_KEYS)
    if has_from and ((len(keys) >= 3 and has_digit) or (len(keys) >= 2 and from_has_address)):
        return _skip_blank(lines, end)
    if lead_in and len(keys) >= 2 and has_digit:
        return _skip_blank(lines, end)  # "==== / Message du : 12/12/2016 / De : ..."
    return _skip_headers(lines, i + 1) if marker else 0


def _next_is_header(lines: list[str], i: int) -> bool:
    return i < len(lines) and bool(
        furniture.HEADER_KEY.match(lines[i].strip()) or furniture.ANY_KEY.match(lines[i].strip())
    )


def _is_original_marker(lines: list[str], i: int) -> bool:
    stripped = lines[i].strip().strip("*").strip()
    if furniture.ORIGINAL_MARKER.match(stripped):
        return True
    # "-------- Oprindelig besked --------" in a language not listed: a dashed title
    # followed by a header line.
    if furniture.DASHED_TITLE.match(stripped) and not furniture.FORWARD_WORD.search(stripped):
        j = _skip_blank(lines, i + 1)
        return j >= len(lines) or bool(furniture.ANY_KEY.match(lines[j].strip()))
    return False


def _is_forward_marker(lines: list[str], i: int) -> bool:
    stripped = lines[i].strip().strip("*").strip()
    if furniture.FORWARD_MARKER.match(stripped):
        return True
    if furniture.DASHED_TITLE.match(stripped) and furniture.FORWARD_WORD.search(stripped):
        return True
    # Apple Mail's "Begin forwarded message:" in any language: a short line ending in a
    # colon that names a forward, with header lines under it.
    if (
        len(stripped) <= 60
        and stripped.endswith((":", "："))
        and furniture.FORWARD_WORD.search(stripped)
    ):
        j = _skip_blank(lines, i + 1)
        return j < len(lines) and bool(furniture.HEADER_KEY.match(lines[j].strip().lstrip("> ")))
    return False


def _is_quote_line(stripped: str) -> bool:
    return stripped.startswith(">") or (stripped.startswith("|") and not stripped.endswith("|"))


def _take_quoted(lines: list[str], i: int) -> tuple[list[str], int]:
    block: list[str] = []
    while i < len(lines) and (_is_quote_line(lines[i].strip()) or not lines[i].strip()):
        block.append(re.sub(r"^\s*[>|] ?", "", lines[i]))
        i += 1
    return block, i


def _skip_blank(lines: list[str], i: int) -> int:
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def _skip_headers(lines: list[str], i: int) -> int:
    """Index after the header lines of a forwarded message (a wrapped subject included)."""
    i = _skip_blank(lines, i)
    strays = 0
    start = i
    while i < len(lines) and lines[i].strip():
        line = lines[i]
        if furniture.HEADER_KEY.match(line.strip()) or line.startswith((" ", "\t")):
            i += 1
        elif i > start and strays < 2 and _next_is_header(lines, i + 1):
            strays += 1
            i += 1
        else:
            break
    return _skip_blank(lines, i)
