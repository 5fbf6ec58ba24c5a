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


# One line per intent, written for an agent deciding whether an email belongs here.
DESCRIPTIONS: dict[str, str] = {
    # Cards
    "card_arrival": "The customer's ordered card has not arrived yet.",
    "card_delivery_estimate": "How long a new card takes to be delivered, or delivery options.",
    "activate_my_card": "How to activate a card that has just arrived.",
    "order_physical_card": "How to order a physical card, or problems ordering one.",
    "get_physical_card": "Getting a physical card in addition to a virtual one.",
    "getting_spare_card": "Ordering an extra or spare card for the same account.",
    "card_about_to_expire": "The card expires soon: replacement, cost and timing.",
    "card_linking": "Linking an existing card to the app or account.",
    "visa_or_mastercard": "Whether the card is Visa or Mastercard, or choosing between them.",
    "supported_cards_and_currencies": "Which cards and currencies the bank accepts or issues.",
    "card_acceptance": "Where the card is accepted, or a merchant that refuses it.",
    "card_not_working": "The card does not work at all, in shops or online.",
    "contactless_not_working": "Contactless payments fail while chip and PIN still work.",
    # Virtual cards & wallets
    "getting_virtual_card": "How to get a virtual card, or whether it costs anything.",
    "virtual_card_not_working": "A virtual card is declined or does not work online.",
    "get_disposable_virtual_card": "How to get a disposable, single-use virtual card.",
    "disposable_card_limits": "Limits and rules of disposable virtual cards.",
    "apple_pay_or_google_pay": "Adding the card to Apple Pay or Google Pay, or it failing there.",
    # Security & access
    "lost_or_stolen_card": "The card is lost or stolen and must be blocked or replaced.",
    "compromised_card": "The card details may be compromised or used by someone else.",
    "pin_blocked": "The PIN is blocked after wrong attempts.",
    "change_pin": "How or where to change the card's PIN.",
    "passcode_forgotten": "The app passcode is forgotten or needs resetting.",
    "lost_or_stolen_phone": "The phone with the app is lost or stolen; secure the account.",
    # Card payments & refunds
    "card_payment_not_recognised": "A card payment the customer does not recognise.",
    "pending_card_payment": "A card payment is still pending and has not gone through.",
    "declined_card_payment": "A card payment was declined.",
    "reverted_card_payment?": "A card payment was reversed or returned unexpectedly.",
    "transaction_charged_twice": "The same payment was charged twice.",
    "request_refund": "The customer wants a refund for a purchase or payment.",
    "Refund_not_showing_up": "A promised refund has not appeared in the account.",
    "direct_debit_payment_not_recognised": "A direct debit the customer does not recognise.",
    # Transfers
    "transfer_into_account": "How to move money into the account by bank transfer.",
    "receiving_money": "How to receive money from someone, or money that has not arrived.",
    "transfer_timing": "How long a transfer takes to arrive.",
    "pending_transfer": "An outgoing transfer is still pending.",
    "transfer_not_received_by_recipient": "The recipient says a sent transfer never arrived.",
    "declined_transfer": "An outgoing transfer was declined.",
    "failed_transfer": "An outgoing transfer failed or was returned.",
    "cancel_transfer": "The customer wants to cancel or recall a transfer.",
    "beneficiary_not_allowed": "A payee or beneficiary cannot be added or paid.",
    "transfer_fee_charged": "A fee was charged on a transfer.",
    "balance_not_updated_after_bank_transfer": "A bank transfer in has not updated the balance.",
    # Top-ups
    "topping_up_by_card": "How to top up the account with a card.",
    "top_up_by_cash_or_cheque": "Whether and how to top up with cash or a cheque.",
    "automatic_top_up": "Setting up or troubleshooting automatic top-ups.",
    "top_up_limits": "Minimum, maximum or frequency limits on top-ups.",
    "pending_top_up": "A top-up is still pending.",
    "top_up_failed": "A top-up failed or was declined.",
    "top_up_reverted": "A top-up was reversed or cancelled after going through.",
    "verify_top_up": "Verifying a top-up card or the code sent for it.",
    "top_up_by_card_charge": "A fee was charged for topping up by card.",
    "top_up_by_bank_transfer_charge": "A fee was charged for topping up by bank transfer.",
    "balance_not_updated_after_cheque_or_cash_deposit": (
        "A cheque or cash deposit has not updated the balance."
    ),
    # Cash & ATM
    "atm_support": "Which ATMs can be used, or a problem at an ATM.",
    "pending_cash_withdrawal": "A cash withdrawal shows as pending.",
    "declined_cash_withdrawal": "An ATM declined a cash withdrawal.",
    "wrong_amount_of_cash_received": "The ATM gave out less or more cash than requested.",
    "cash_withdrawal_not_recognised": "A cash withdrawal the customer did not make.",
    "cash_withdrawal_charge": "A fee was charged for withdrawing cash.",
    "card_swallowed": "An ATM kept the customer's card.",
    # Fees & exchange
    "exchange_rate": "Which exchange rate applies, or how it is set.",
    "exchange_via_app": "How to exchange currencies in the app.",
    "exchange_charge": "A fee was charged for exchanging currency.",
    "fiat_currency_support": "Which currencies can be held, exchanged or spent.",
    "card_payment_wrong_exchange_rate": "A card payment abroad used the wrong exchange rate.",
    "wrong_exchange_rate_for_cash_withdrawal": "A cash withdrawal abroad used the wrong rate.",
    "card_payment_fee_charged": "A fee was charged on a card payment.",
    "extra_charge_on_statement": "An unexplained extra charge appears on the statement.",
    # Account & identity
    "verify_my_identity": "How to verify identity, or what documents are needed.",
    "why_verify_identity": "Why the bank asks for identity verification.",
    "unable_to_verify_identity": "Identity verification fails or gets stuck.",
    "verify_source_of_funds": "Proving where money in the account comes from.",
    "edit_personal_details": "Changing name, address or other personal details.",
    "age_limit": "Minimum age to open an account, or accounts for children.",
    "country_support": "Which countries the bank serves or where the account can be used.",
    "terminate_account": "The customer wants to close the account.",
}

# Families group the folders the way a bank's support team divides its work. Every intent
# belongs to exactly one family (tested), in the order the inbox shows them.
FAMILIES: dict[str, tuple[str, ...]] = {
    "Cards": (
        "card_arrival", "card_delivery_estimate", "activate_my_card", "order_physical_card",
        "get_physical_card", "getting_spare_card", "card_about_to_expire", "card_linking",
        "visa_or_mastercard", "supported_cards_and_currencies", "card_acceptance",
        "card_not_working", "contactless_not_working",
    ),
    "Virtual cards & wallets": (
        "getting_virtual_card", "virtual_card_not_working", "get_disposable_virtual_card",
        "disposable_card_limits", "apple_pay_or_google_pay",
    ),
    "Security & access": (
        "lost_or_stolen_card", "compromised_card", "pin_blocked", "change_pin",
        "passcode_forgotten", "lost_or_stolen_phone",
    ),
    "Card payments & refunds": (
        "card_payment_not_recognised", "pending_card_payment", "declined_card_payment",
        "reverted_card_payment?", "transaction_charged_twice", "request_refund",
        "Refund_not_showing_up", "direct_debit_payment_not_recognised",
    ),
    "Transfers": (
        "transfer_into_account", "receiving_money", "transfer_timing", "pending_transfer",
        "transfer_not_received_by_recipient", "declined_transfer", "failed_transfer",
        "cancel_transfer", "beneficiary_not_allowed", "transfer_fee_charged",
        "balance_not_updated_after_bank_transfer",
    ),
    "Top-ups": (
        "topping_up_by_card", "top_up_by_cash_or_cheque", "automatic_top_up", "top_up_limits",
        "pending_top_up", "top_up_failed", "top_up_reverted", "verify_top_up",
        "top_up_by_card_charge", "top_up_by_bank_transfer_charge",
        "balance_not_updated_after_cheque_or_cash_deposit",
    ),
    "Cash & ATM": (
        "atm_support", "pending_cash_withdrawal", "declined_cash_withdrawal",
        "wrong_amount_of_cash_received", "cash_withdrawal_not_recognised",
        "cash_withdrawal_charge", "card_swallowed",
    ),
    "Fees & exchange": (
        "exchange_rate", "exchange_via_app", "exchange_charge", "fiat_currency_support",
        "card_payment_wrong_exchange_rate", "wrong_exchange_rate_for_cash_withdrawal",
        "card_payment_fee_charged", "extra_charge_on_statement",
    ),
    "Account & identity": (
        "verify_my_identity", "why_verify_identity", "unable_to_verify_identity",
        "verify_source_of_funds", "edit_personal_details", "age_limit", "country_support",
        "terminate_account",
    ),
}  # fmt: skip

# The security intents: urgent by default wherever their family puts them (inbox.triage).
SECURITY: tuple[str, ...] = (
    "lost_or_stolen_card", "compromised_card", "card_swallowed",
    "cash_withdrawal_not_recognised", "card_payment_not_recognised",
)  # fmt: skip

_FAMILY_OF: dict[str, str] = {name: fam for fam, names in FAMILIES.items() for name in names}
_BY_TITLE: dict[str, str] = {title(name).casefold(): name for name in LABELS}


def description(name: str) -> str:
    """The one-line description of an intent ("" for an unknown name)."""
    return DESCRIPTIONS.get(name, "")


def family(name: str) -> str:
    """The family an intent's folder sits in ("" for an unknown name)."""
    return _FAMILY_OF.get(name, "")


def lookup(text: str) -> str | None:
    """The intent an agent means by ``text``: its name or its title, any case; else None."""
    text = text.strip()
    if is_intent(text):
        return text
    return _BY_TITLE.get(text.casefold()) or _BY_TITLE.get(title(text).casefold())


# Where sentence case would misspell a name or an acronym. Only the case differs from
# title(), so lookup() accepts either spelling.
_DISPLAY: dict[str, str] = {
    "atm_support": "ATM support",
    "pin_blocked": "PIN blocked",
    "change_pin": "Change PIN",
    "visa_or_mastercard": "Visa or Mastercard",
    "apple_pay_or_google_pay": "Apple Pay or Google Pay",
}


def display_title(name: str) -> str:
    """The title the inbox shows: title() with acronyms and brand names spelled right."""
    return _DISPLAY.get(name) or title(name)
