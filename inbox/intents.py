"""The 77 BANKING77 intents as the inbox shows them: readable titles and validation."""

from __future__ import annotations

from mlops.data import BANKING77_LABELS

LABELS: tuple[str, ...] = tuple(BANKING77_LABELS)
_KNOWN = frozenset(LABELS)


def is_intent(name: str) -> bool:
    return name in _KNOWN


def title(name: str) -> str:
    """`card_arrival` -> "Card arrival"; `reverted_card_payment?` -> "Reverted card payment?"."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:].lower() if words else ""
