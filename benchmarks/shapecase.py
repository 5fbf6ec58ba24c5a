"""One email shape to measure: the raw message and what a perfect cleaner returns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    """``raw`` bytes whose customer text is ``query`` (labelled ``intent``).

    ``family`` is the mail client family, ``lang`` the language of the reply furniture,
    ``post`` where the customer's text stands (top, bottom, forward-note, forward-own, ...),
    ``group`` a split key (the outside set's source repository, a container, ...).
    """

    raw: bytes
    query: str
    intent: str
    family: str
    lang: str
    post: str
    group: str
    name: str
