"""classifier.routing.decide: one email's route, from its text and the model's answer."""

from __future__ import annotations

import pytest

from classifier import routing
from classifier.routing import Language, Thread, decide
from inbox.models import Email

THRESHOLD = 0.9
ENGLISH = Language("en", 0.99)
GERMAN = Language("de", 0.0)


def test_a_confident_english_request_is_routed_on_the_models_answer() -> None:
    d = decide("My card has not arrived yet", "card_arrival", 0.97, THRESHOLD, language=ENGLISH)
    assert (d.status, d.reason, d.intent) == ("classified", "", "card_arrival")


def test_below_the_threshold_it_goes_to_review_with_the_models_guess() -> None:
    d = decide("something about my card", "card_arrival", 0.6, THRESHOLD, language=ENGLISH)
    assert (d.status, d.reason, d.intent) == ("needs_review", "low_confidence", "card_arrival")
    assert d.label == "Low confidence"


def test_another_language_goes_to_review_however_sure_the_model_is() -> None:
    d = decide("Meine Karte ist nicht angekommen", "card_arrival", 0.99, THRESHOLD, language=GERMAN)
    assert (d.status, d.reason, d.intent) == ("needs_review", "not_english", "")
    assert d.label == "Not English"


@pytest.mark.parametrize(
    "text", ["", "   ", "statement.pdf", "Please see attached", "FYI", "IMG_2231.HEIC 12/03/2024",
             "https://example.com/x.pdf", "Sent from my iPhone"],
)  # fmt: skip
def test_an_email_without_words_to_read_has_nothing_to_classify(text: str) -> None:
    d = decide(text, "card_arrival", 0.99, THRESHOLD)
    assert (d.status, d.reason, d.intent) == ("needs_review", "nothing_to_classify", "")


def test_a_high_energy_score_means_outside_the_known_intents() -> None:
    kwargs = {"language": ENGLISH, "energy_limit": -4.0}
    off = decide("Book a table for four", "card_arrival", 0.95, THRESHOLD, energy=-2.5, **kwargs)
    ok = decide("Where is my card?", "card_arrival", 0.95, THRESHOLD, energy=-9.0, **kwargs)
    assert (off.status, off.reason, off.intent) == ("needs_review", "out_of_scope", "")
    assert (ok.status, ok.reason) == ("classified", "")
    # No limit stored with the model version: the check is off.
    unchecked = decide("Book a table", "card_arrival", 0.95, THRESHOLD, energy=-2.5)
    assert unchecked.reason == ""


@pytest.mark.parametrize("reply", ["Any update?", "Still waiting", "Thanks, that worked!"])
def test_a_short_reply_takes_its_threads_intent(reply: str) -> None:
    thread = Thread("card_arrival", "Where is my new card")
    # Whatever the model made of the few words, confident or not:
    for label, confidence in [("pending_transfer", 0.4), ("card_arrival", 0.95)]:
        d = decide(reply, label, confidence, THRESHOLD, language=ENGLISH, thread=thread)
        assert (d.status, d.reason, d.intent) == ("classified", "from_thread", "card_arrival")
        assert d.label == "Classified from the thread"


def test_a_short_reply_in_another_language_still_takes_its_threads_intent() -> None:
    thread = Thread("card_arrival", "Where is my new card")
    d = decide("Gibt es schon Neuigkeiten?", "card_arrival", 0.3, THRESHOLD, language=GERMAN,
               thread=thread)  # fmt: skip
    assert (d.status, d.reason, d.intent) == ("classified", "from_thread", "card_arrival")


def test_the_threads_subject_in_front_of_the_reply_does_not_count_as_its_words() -> None:
    thread = Thread("card_arrival", "Re: My new card has still not arrived at my address")
    text = "My new card has still not arrived at my address. Any news?"
    d = decide(text, "card_arrival", 0.5, THRESHOLD, thread=thread)
    assert d.reason == "from_thread"


def test_a_short_reply_the_model_is_sure_asks_something_else_keeps_the_models_answer() -> None:
    thread = Thread("card_arrival", "Where is my new card")
    d = decide("My card was stolen", "lost_or_stolen_card", 0.98, THRESHOLD, thread=thread)
    assert (d.status, d.reason, d.intent) == ("classified", "", "lost_or_stolen_card")


def test_a_long_reply_is_read_on_its_own() -> None:
    thread = Thread("card_arrival", "Where is my new card")
    text = "Thanks, the card came. Now I would like to know why I was charged a fee for a transfer"
    d = decide(text, "transfer_fee_charged", 0.6, THRESHOLD, language=ENGLISH, thread=thread)
    assert (d.status, d.reason, d.intent) == (
        "needs_review",
        "low_confidence",
        "transfer_fee_charged",
    )


def test_statuses_and_reasons_are_the_emails_own_codes() -> None:
    assert routing.CLASSIFIED == Email.Status.CLASSIFIED
    assert routing.NEEDS_REVIEW == Email.Status.NEEDS_REVIEW
    field = Email._meta.get_field("routing_reason")
    assert all(len(code) <= field.max_length for code in routing.REASON_LABELS)


@pytest.mark.parametrize(
    "text",
    ["Meine Karte ist noch nicht angekommen, wann wird sie geliefert?",
     "Pourquoi ai-je été facturé pour un retrait au distributeur ?",
     "Hvorfor blev min kortbetaling afvist?",
     "Korttini on varastettu, voitteko sulkea sen?"],
)  # fmt: skip
def test_the_language_identifier_sees_other_languages(text: str) -> None:
    language = routing.identify_language(text)
    assert language is not None and language.english <= routing.MAX_ENGLISH_PROBABILITY


@pytest.mark.parametrize(
    "text",
    ["Visa or Mastercard?", "Report stolen card", "passcode retrieval",
     "How do I add my new card?", "Can I get a Visa card?", "My atm withdraw is stillpending",
     "Gesendet von Outlook für Android. Why was my transfer declined?"],
)  # fmt: skip
def test_short_and_informal_english_is_not_taken_for_another_language(text: str) -> None:
    language = routing.identify_language(text)
    assert language is None or language.english > routing.MAX_ENGLISH_PROBABILITY


def test_too_short_to_tell_is_treated_as_english() -> None:
    assert routing.identify_language("PIN?") is None
