"""Signals other parts of the app hook into, so inbox code does not import them."""

from django.dispatch import Signal

# Sent inside the transaction that gave emails their intent: ``email_ids`` (a list) and
# ``cause`` ("classified": the model's answer was written; "corrected": an agent set the
# intent). Receivers run in the same transaction, so what they write (an outbox row, say)
# commits or rolls back with the intent itself.
emails_routed = Signal()
