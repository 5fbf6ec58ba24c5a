"""The outside shapes: ../shared/data/email-shapes, 325 messages built from the reply,
quote and signature fixtures of six public email-parsing projects (not written by this
project; read its README). Never copied into the repository: read from ../shared/.

Held out: the messages from three of the six source repositories
(github/email_reply_parser, willdurand/EmailReplyParser, zapier/email-reply-parser) are
reported apart, as a check that rules written while looking at the other three
repositories' shapes hold on shapes from projects they were not tuned on.
"""

from __future__ import annotations

import csv
from pathlib import Path

from shapecase import Case

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT.parent / "shared" / "data" / "email-shapes"
HELD_OUT = frozenset(
    {"github/email_reply_parser", "willdurand/EmailReplyParser", "zapier/email-reply-parser"}
)


def outside_cases(folder: Path = DEFAULT_DIR) -> list[Case]:
    """Every message of the set, with its labels; ``group`` is "held-out" or "tuned-on"."""
    with (folder / "labels.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        Case(
            raw=(folder / "messages" / row["file"]).read_bytes(),
            query=row["query"],
            intent=row["intent"],
            family=row["family"] or "none",
            lang=row["lang"] or "?",
            post=row["post"] or "none",
            group="held-out" if row["source_repo"] in HELD_OUT else "tuned-on",
            name=row["file"],
        )
        for row in rows
    ]
