"""The intents' titles, descriptions and families as the inbox shows them."""

from __future__ import annotations

from collections import Counter

from inbox import intents


def test_every_intent_has_a_one_line_description():
    assert set(intents.DESCRIPTIONS) == set(intents.LABELS)
    for name, text in intents.DESCRIPTIONS.items():
        assert text.strip(), name
        assert "\n" not in text, name
        assert len(text) <= 100, f"{name}: keep descriptions to one short line"


def test_families_cover_all_77_intents_exactly_once():
    placed = Counter(name for names in intents.FAMILIES.values() for name in names)
    assert len(intents.LABELS) == 77
    assert set(placed) == set(intents.LABELS)
    assert [name for name, n in placed.items() if n > 1] == []


def test_families_are_a_handful_of_reasonable_size():
    assert 5 <= len(intents.FAMILIES) <= 12
    assert all(2 <= len(names) <= 15 for names in intents.FAMILIES.values())


def test_family_and_description_lookups():
    assert intents.family("card_arrival") == "Cards"
    assert intents.family("atm_support") == "Cash & ATM"
    assert intents.family("nope") == ""
    assert intents.description("card_swallowed") == "An ATM kept the customer's card."


def test_titles_read_as_sentences_including_odd_published_names():
    assert intents.title("card_arrival") == "Card arrival"
    assert intents.title("Refund_not_showing_up") == "Refund not showing up"
    assert intents.title("reverted_card_payment?") == "Reverted card payment?"


def test_lookup_accepts_names_and_titles_in_any_case():
    assert intents.lookup("card_arrival") == "card_arrival"
    assert intents.lookup("Card arrival") == "card_arrival"
    assert intents.lookup("  refund NOT showing up ") == "Refund_not_showing_up"
    assert intents.lookup("reverted card payment?") == "reverted_card_payment?"
    assert intents.lookup("card arrivals") is None
    assert intents.lookup("") is None


def test_titles_are_unique_so_a_title_names_one_intent():
    assert len({intents.title(n).casefold() for n in intents.LABELS}) == 77


def test_display_titles_fix_acronyms_and_differ_from_title_only_in_case():
    assert intents.display_title("atm_support") == "ATM support"
    assert intents.display_title("apple_pay_or_google_pay") == "Apple Pay or Google Pay"
    assert intents.display_title("card_arrival") == "Card arrival"
    for name in intents.LABELS:
        shown = intents.display_title(name)
        assert shown.casefold() == intents.title(name).casefold()
        assert intents.lookup(shown) == name
