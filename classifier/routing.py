"""Where one email goes once the model has answered: auto-routed, or to review with a reason.

``decide`` is the whole per-email rule, a pure function so that every path that classifies
(one email, a batch, a re-run) applies the same one and tests need no database. In order:

1. **Thread context.** A short reply in a thread ("Any update?", "Still waiting", "Danke,
   hat geklappt") says nothing the model can read; it takes the intent of the customer email
   it answers, unless the model is confident the reply asks for something else.
2. **Nothing to classify.** No words left after cleaning (an attachment with no text, "see
   attached", a file name).
3. **Not English.** The model was trained on English only and gives confident nonsense on
   other languages; py3langid (a language identifier whose model ships in the wheel)
   decides, and only when the text is long enough for it to be sure.
4. **Outside the known intents.** The energy score (Liu et al., 2020, "Energy-based
   Out-of-distribution Detection"): ``-T·logsumexp(logits/T)``, high when no intent's logit
   stands out. It separated off-topic mail from validation queries better than the
   confidence did (see README, "The model"); its limit is a high quantile of the scores of
   in-scope validation queries, stored with the model version.
5. **Low confidence.** Below the version's threshold (chosen with a bound, see
   mlops.thresholds).

No Django here: status and reason are plain strings equal to ``Email.Status`` values and
``Email.routing_reason`` codes.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

# Plain modules, no Django: the codes are shared with the mail reader and the templates.
from inbox.reasons import (
    FROM_THREAD,
    LOW_CONFIDENCE,
    NOT_ENGLISH,
    NOTHING_TO_CLASSIFY,
    OUT_OF_SCOPE,
)
from inbox.reasons import LABELS as REASON_LABELS

CLASSIFIED = "classified"
NEEDS_REVIEW = "needs_review"

# A reply this short carries no request of its own ("Any update on this?").
SHORT_REPLY_WORDS = 8
# Below this many letters language identification guesses ("hello, question" came out
# Italian): assume English. Short replies in a thread are handled before language anyway.
MIN_LETTERS_FOR_LANGUAGE = 20
# "Not English" when the identifier gives English at most this probability. None of the
# 10,003 BANKING77 train+validation queries scored so low; 118 of our 119 translated
# requests did, the other being too short to judge (benchmarks/routing.py).
MAX_ENGLISH_PROBABILITY = 0.05
# Languages the identifier chooses among. Restricting it to languages a European bank's
# mail comes in (plus the largest others) stops short English queries being read as one
# of its 97 rarer languages (Nigerian Pidgin, Welsh, ...).
LANGUAGES = [
    "en",
    "de",
    "fr",
    "es",
    "it",
    "nl",
    "pl",
    "pt",
    "sv",
    "da",
    "no",
    "fi",
    "is",
    "ga",
    "cy",
    "ca",
    "eu",
    "gl",
    "ro",
    "hu",
    "cs",
    "sk",
    "sl",
    "hr",
    "sr",
    "bg",
    "el",
    "tr",
    "ru",
    "uk",
    "lt",
    "lv",
    "et",
    "sq",
    "mt",
    "ar",
    "he",
    "fa",
    "hi",
    "zh",
    "ja",
    "ko",
    "vi",
    "th",
    "id",
]

_WORD = re.compile(r"[^\W\d_]{2,}")
_NOISE = re.compile(
    r"\S+\.(?:pdf|jpe?g|png|gif|heic|tiff?|docx?|xlsx?|csv|zip|txt|eml|msg)\b"  # file names
    r"|https?://\S+|www\.\S+|\S+@\S+",  # links and addresses
    re.IGNORECASE,
)
# Words that, alone, ask nothing: "Please see attached", "FYI", "Scan".
_EMPTY_WORDS = frozenset(
    ["please", "pls", "see", "find", "attached", "attachment", "attachments", "enclosed", "here", "is", "are", "the", "file", "files", "document", "documents", "doc", "scan", "scanned", "image", "photo", "picture", "fyi", "pfa", "copy", "sent", "from", "my", "iphone", "android", "ipad", "mobile"]
)  # fmt: skip


@dataclass(frozen=True)
class Language:
    """The identifier's verdict: the likeliest language and the probability of English."""

    code: str
    english: float


@dataclass(frozen=True)
class Thread:
    """The customer email a reply answers: its (trusted) intent and its subject."""

    intent: str
    subject: str = ""


@dataclass(frozen=True)
class Decision:
    """What happens to one email: status, the reason when not routed on the model, intent."""

    status: str
    reason: str
    intent: str

    @property
    def label(self) -> str:
        return REASON_LABELS.get(self.reason, "")


def decide(
    text: str,
    label: str,
    confidence: float,
    threshold: float,
    *,
    language: Language | None = None,
    energy: float | None = None,
    energy_limit: float | None = None,
    thread: Thread | None = None,
) -> Decision:
    """Route one email on the model's answer (``label`` at ``confidence``) for ``text``.

    ``language`` is ``identify_language(text)`` (None: assume English); ``energy`` and
    ``energy_limit`` the out-of-scope score and its limit (None: no check); ``thread`` the
    earlier customer email this one answers, when its intent is trusted.
    """
    if thread is not None and thread.intent and is_short_reply(text, thread.subject):
        model_is_sure_of_another = (
            label != thread.intent
            and confidence >= threshold
            and not _is_foreign(language)
            and not _is_out_of_scope(energy, energy_limit)
        )
        if not model_is_sure_of_another:
            return Decision(CLASSIFIED, FROM_THREAD, thread.intent)
    if not has_content(text):
        return Decision(NEEDS_REVIEW, NOTHING_TO_CLASSIFY, "")
    if _is_foreign(language):
        return Decision(NEEDS_REVIEW, NOT_ENGLISH, "")
    if _is_out_of_scope(energy, energy_limit):
        return Decision(NEEDS_REVIEW, OUT_OF_SCOPE, "")
    if confidence < threshold:
        return Decision(NEEDS_REVIEW, LOW_CONFIDENCE, label)
    return Decision(CLASSIFIED, "", label)


def has_content(text: str) -> bool:
    """False when nothing is left to read: no words, or only file names and "see attached"."""
    words = _WORD.findall(_NOISE.sub(" ", text or "").lower())
    return any(word not in _EMPTY_WORDS for word in words)


def is_short_reply(text: str, thread_subject: str = "") -> bool:
    """True when the reply's own words (the thread's subject, which the cleaner may have put
    in front, not counted) are at most SHORT_REPLY_WORDS."""
    own = (text or "").strip()
    subject = _subject_words(thread_subject)
    words = own.split()
    if subject and [w.lower().strip(".,:;!?") for w in words[: len(subject)]] == subject:
        words = words[len(subject) :]
    return 0 < len(words) <= SHORT_REPLY_WORDS or (not words and bool(own))


def _subject_words(subject: str) -> list[str]:
    cleaned = re.sub(
        r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|tr|ref)\s*:\s*)+", "", subject or "", flags=re.I
    )
    return [w.lower().strip(".,:;!?") for w in cleaned.split()]


def _is_foreign(language: Language | None) -> bool:
    return language is not None and language.english <= MAX_ENGLISH_PROBABILITY


def _is_out_of_scope(energy: float | None, limit: float | None) -> bool:
    return energy is not None and limit is not None and energy > limit


# --- language identification -------------------------------------------------------------

_identifier = None
_identifier_lock = threading.Lock()


def identify_language(text: str) -> Language | None:
    """The language of ``text``, or None when it is too short to tell (treated as English)."""
    if sum(ch.isalpha() for ch in text or "") < MIN_LETTERS_FOR_LANGUAGE:
        return None
    ranked = _language_identifier().rank(text)
    english = next((p for code, p in ranked if code == "en"), 0.0)
    return Language(code=ranked[0][0], english=float(english))


def _language_identifier():
    global _identifier
    with _identifier_lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(list(LANGUAGES))
            _identifier = identifier
        return _identifier
