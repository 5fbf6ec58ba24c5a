"""Email.routing_reason codes and how an agent reads them: one list for every layer.

Plain Python (no Django), so the mail reader (inbox.mail.automatic) and the routing rule
(classifier.routing) take their codes from here and the templates their labels.
"""

from __future__ import annotations

# Set aside at ingest: automatic mail, never given an intent.
AUTO_REPLY = "auto_reply"
BOUNCE = "bounce"
MAILING_LIST = "mailing_list"
# Sent to review by the routing rule.
NOT_ENGLISH = "not_english"
NOTHING_TO_CLASSIFY = "nothing_to_classify"
OUT_OF_SCOPE = "out_of_scope"
LOW_CONFIDENCE = "low_confidence"
# Routed on the thread's intent, not the model's answer.
FROM_THREAD = "from_thread"

LABELS = {
    AUTO_REPLY: "Auto-reply / out of office",
    BOUNCE: "Bounce / delivery failure",
    MAILING_LIST: "Mailing list / newsletter",
    NOT_ENGLISH: "Not English",
    NOTHING_TO_CLASSIFY: "Nothing to classify",
    OUT_OF_SCOPE: "Outside the known intents",
    LOW_CONFIDENCE: "Low confidence",
    FROM_THREAD: "Classified from the thread",
}


def label(code: str) -> str:
    """`not_english` -> "Not English"; codes without a label read as words; "" -> ""."""
    return LABELS.get(code) or (code or "").replace("_", " ").capitalize()
