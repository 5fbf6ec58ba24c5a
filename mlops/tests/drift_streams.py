"""Streams of mail for measuring the drift checks: one drawn like the training data, and
shifted ones (a few intents only, another language, a topic that is not banking, longer
mail).

The in-distribution stream draws each email's intent from the training split's prior and
then a text of that intent from the *test* split (held out from training and from the
validation split the reference is built on; the monitor's thresholds are fixed in advance,
not tuned on it). Within one window no text repeats.

There is no non-English or non-banking mail in the data we have, so those streams are built
from the phrase banks below, written for this purpose: German, Spanish and French customer
questions about cards, transfers and accounts, and English questions about broadband,
parcels, travel and a gym. Each email joins one or two sentences with a greeting or not,
so the texts vary as real mail does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FOREIGN = {
    "de": [
        "Meine Karte ist noch nicht angekommen",
        "Ich habe meine Karte verloren, bitte sperren Sie sie",
        "Warum wurde meine Überweisung abgelehnt",
        "Wie lange dauert eine Überweisung ins Ausland",
        "Auf meinem Kontoauszug steht eine Abbuchung, die ich nicht kenne",
        "Ich kann mich nicht in die App einloggen",
        "Wie ändere ich meine PIN",
        "Der Geldautomat hat meine Karte eingezogen",
        "Mir wurde eine Gebühr berechnet, die ich nicht verstehe",
        "Können Sie mir sagen, wann das Geld auf meinem Konto ist",
        "Ich möchte mein Konto kündigen",
        "Die Zahlung wird immer noch als ausstehend angezeigt",
        "Warum ist der Wechselkurs so schlecht",
        "Ich habe zweimal für denselben Einkauf bezahlt",
        "Wie kann ich mein Konto mit Bargeld aufladen",
        "Meine Kontaktlos-Zahlung funktioniert nicht mehr",
    ],
    "es": [
        "Mi tarjeta todavía no ha llegado",
        "He perdido mi tarjeta, por favor bloquéenla",
        "¿Por qué se rechazó mi transferencia?",
        "¿Cuánto tarda una transferencia internacional?",
        "Hay un cargo en mi cuenta que no reconozco",
        "No puedo entrar en la aplicación",
        "¿Cómo cambio mi número secreto?",
        "El cajero automático se tragó mi tarjeta",
        "Me han cobrado una comisión que no entiendo",
        "¿Cuándo estará el dinero en mi cuenta?",
        "Quiero cerrar mi cuenta",
        "El pago sigue apareciendo como pendiente",
        "¿Por qué el tipo de cambio es tan malo?",
        "Me cobraron dos veces la misma compra",
        "¿Puedo recargar mi cuenta con efectivo?",
        "El pago sin contacto ya no funciona",
    ],
    "fr": [
        "Ma carte n'est toujours pas arrivée",
        "J'ai perdu ma carte, pouvez-vous la bloquer",
        "Pourquoi mon virement a-t-il été refusé",
        "Combien de temps prend un virement vers l'étranger",
        "Il y a un prélèvement que je ne reconnais pas sur mon relevé",
        "Je n'arrive pas à me connecter à l'application",
        "Comment changer mon code secret",
        "Le distributeur a avalé ma carte",
        "On m'a facturé des frais que je ne comprends pas",
        "Quand l'argent sera-t-il disponible sur mon compte",
        "Je voudrais clôturer mon compte",
        "Le paiement est toujours en attente",
        "Pourquoi le taux de change est-il si mauvais",
        "J'ai été débité deux fois pour le même achat",
        "Puis-je alimenter mon compte en espèces",
        "Le paiement sans contact ne marche plus",
    ],
}
FOREIGN_OPENERS = {
    "de": ["", "Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,"],
    "es": ["", "Hola,", "Buenos días,", "Estimados señores,"],
    "fr": ["", "Bonjour,", "Madame, Monsieur,", "Salut,"],
}
FOREIGN_CLOSERS = {
    "de": ["", "Danke.", "Vielen Dank im Voraus.", "Bitte helfen Sie mir."],
    "es": ["", "Gracias.", "Muchas gracias de antemano.", "Por favor ayúdenme."],
    "fr": ["", "Merci.", "Merci d'avance.", "Aidez-moi s'il vous plaît."],
}

OFF_TOPIC = [
    "My broadband keeps dropping every evening",
    "The router lights are flashing orange and there is no internet",
    "When will the engineer come to install the fibre line",
    "My parcel was marked as delivered but it is not here",
    "Can I change the delivery address for my parcel",
    "The courier left my package with a neighbour I do not know",
    "I want to change the date of my flight to Madrid",
    "My suitcase did not arrive on the carousel",
    "Can I bring my dog into the hotel room",
    "The hotel room was not cleaned during my stay",
    "How do I freeze my gym membership over the summer",
    "The swimming pool at the gym has been closed for a week",
    "My pizza arrived cold and an hour late",
    "The washing machine I ordered makes a loud noise",
    "How do I reset the password for my streaming subscription",
    "The printer says the ink cartridge is not recognised",
    "Is the dentist open on Saturday mornings",
    "My electricity meter reading looks far too high",
    "Can I return the shoes if I already wore them outside",
    "The train was cancelled and I missed my connection",
    "How do I book a table for eight people on Friday",
    "The heating in my flat has not worked since Monday",
    "Which size should I order if I am usually a medium",
    "The app keeps crashing when I try to watch a film",
]
OFF_TOPIC_OPENERS = ["", "Hi,", "Hello there,", "Good morning,"]
OFF_TOPIC_CLOSERS = ["", "Thanks.", "Please let me know.", "Cheers."]

# Three intents only, as in an outage: card payments failing everywhere.
FEW_INTENTS = ("card_not_working", "declined_card_payment", "contactless_not_working")

SHIFTS = ("few_intents", "another_language", "off_topic", "longer")


@dataclass(frozen=True)
class Pools:
    """Texts by intent (the held-out split) and the training prior to draw intents from."""

    by_label: dict[str, list[str]]
    labels: list[str]
    prior: np.ndarray

    @classmethod
    def from_split(
        cls, texts: Sequence[str], labels: Sequence[str], prior_labels: list[str], prior: np.ndarray
    ) -> Pools:
        by_label: dict[str, list[str]] = defaultdict(list)
        for text, label in zip(texts, labels, strict=True):
            by_label[label].append(text)
        return cls(dict(by_label), prior_labels, prior)


def in_distribution(pools: Pools, n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct texts whose intents follow the training prior."""
    drawn = rng.choice(len(pools.labels), size=n, p=pools.prior)
    out = []
    for index, count in zip(*np.unique(drawn, return_counts=True), strict=True):
        pool = pools.by_label[pools.labels[index]]
        picks = rng.choice(len(pool), size=min(count, len(pool)), replace=False)
        out.extend(pool[i] for i in picks)
    rng.shuffle(out)
    return out


def shifted(kind: str, pools: Pools, n: int, rng: np.random.Generator) -> list[str]:
    """``n`` emails of one shift kind (see SHIFTS)."""
    if kind == "few_intents":
        pool = [t for label in FEW_INTENTS for t in pools.by_label[label]]
        return [pool[i] for i in rng.integers(len(pool), size=n)]
    if kind == "another_language":
        return [_compose(rng, *_lang_bank(rng)) for _ in range(n)]
    if kind == "off_topic":
        return [_compose(rng, OFF_TOPIC, OFF_TOPIC_OPENERS, OFF_TOPIC_CLOSERS) for _ in range(n)]
    if kind == "longer":
        # Customers who write more: two questions of the same intent in one email.
        base = in_distribution(pools, n, rng)
        label_of = {t: label for label, ts in pools.by_label.items() for t in ts}
        out = []
        for text in base:
            pool = pools.by_label[label_of[text]]
            out.append(f"{text} {pool[int(rng.integers(len(pool)))]}")
        return out
    raise ValueError(f"unknown shift {kind!r}; expected one of {', '.join(SHIFTS)}")


def _lang_bank(rng: np.random.Generator) -> tuple[list[str], list[str], list[str]]:
    lang = ("de", "es", "fr")[int(rng.integers(3))]
    return FOREIGN[lang], FOREIGN_OPENERS[lang], FOREIGN_CLOSERS[lang]


def _compose(
    rng: np.random.Generator, sentences: list[str], openers: list[str], closers: list[str]
) -> str:
    count = 1 + int(rng.random() < 0.4)
    body = " ".join(
        f"{sentences[int(i)]}." for i in rng.choice(len(sentences), size=count, replace=False)
    )
    parts = [
        openers[int(rng.integers(len(openers)))],
        body,
        closers[int(rng.integers(len(closers)))],
    ]
    return " ".join(p for p in parts if p)


# --- running the checks on streams (shared by the tests and benchmarks/drift_detection.py) --


class Scorer:
    """The model's probabilities for texts, each text read once (streams repeat texts)."""

    def __init__(self, model) -> None:
        self.model = model
        self._memo: dict[str, np.ndarray] = {}

    def window(self, texts: list[str]):
        from mlops import drift

        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        for start in range(0, len(missing), 256):
            batch = missing[start : start + 256]
            for text, row in zip(batch, self.model.predict_proba(batch), strict=True):
                self._memo[text] = row
        return drift.Window(texts, np.array([self._memo[t] for t in texts]))


def build_reference(model, data_dir):
    """The reference exactly as mlops.drift_runs builds it, from a prepared data folder."""
    from mlops import data, drift

    train_texts, train_labels = data.load_split(data_dir, "train")
    val_texts, _ = data.load_split(data_dir, "validation")
    return drift.Reference(
        labels=model.labels,
        prior=drift.training_prior(model.labels, train_labels),
        vocabulary=drift.vocabulary(train_texts),
        texts=val_texts,
        probabilities=model.predict_proba(val_texts),
        threshold=model.threshold if model.threshold is not None else 0.5,
    )


def test_pools(model, data_dir) -> Pools:
    from mlops import data, drift

    _, train_labels = data.load_split(data_dir, "train")
    texts, labels = data.load_split(data_dir, "test")
    return Pools.from_split(
        texts, labels, model.labels, drift.training_prior(model.labels, train_labels)
    )


@dataclass
class FalseAlarms:
    windows: int
    alarms: int
    by_check: dict[str, int]
    seconds_per_window: float


def false_alarms(
    scorer: Scorer,
    reference,
    pools: Pools,
    *,
    windows: int,
    size: int = 500,
    seed: int = 0,
    **options,
) -> FalseAlarms:
    """``windows`` consecutive in-distribution windows, each also compared with the one before."""
    import time

    from mlops import drift

    rng = np.random.default_rng(seed)
    previous, alarms, by_check, spent = None, 0, dict.fromkeys(drift.CHECKS, 0), 0.0
    for w in range(windows):
        window = scorer.window(in_distribution(pools, size, rng))
        started = time.perf_counter()
        result = drift.evaluate(window, reference, previous, seed=seed * 100_003 + w, **options)
        spent += time.perf_counter() - started
        alarms += result.alarm
        for name in result.drifted:
            by_check[name] += 1
        previous = window
    return FalseAlarms(windows, alarms, by_check, spent / max(windows, 1))


@dataclass
class Detection:
    kind: str
    delay: int | None  # emails after the shift began when the first alarm came; None: never
    alarms_before: int  # alarms on windows that ended before the shift
    checks: list[str]  # what fired first


def detection(
    scorer: Scorer, reference, pools: Pools, kind: str, *, size: int = 500, prefix: int = 1000,
    step: int = 50, horizon: int = 1500, seed: int = 0, share: float = 1.0, **options,
) -> Detection:  # fmt: skip
    """A stream of ``prefix`` in-distribution emails, then mail of which ``share`` is
    shifted; the last ``size`` emails are checked every ``step`` emails (with the ``size``
    before them as the previous window) until the first alarm or ``horizon`` emails."""
    from mlops import drift

    rng = np.random.default_rng(seed)
    if prefix < 2 * size or prefix % size:
        raise ValueError("prefix must be a multiple of size, at least two windows")
    stream = [t for _ in range(prefix // size) for t in in_distribution(pools, size, rng)]
    after: list[str] = []
    while len(after) < horizon:
        normal = in_distribution(pools, size, rng)
        bad = shifted(kind, pools, size, rng)
        after.extend(b if rng.random() < share else g for g, b in zip(normal, bad, strict=True))
    stream = stream + after[:horizon]
    alarms_before = 0
    for end in range(2 * size, len(stream) + 1, step):
        if end < prefix and end % size:
            continue
        window = scorer.window(stream[end - size : end])
        previous = scorer.window(stream[end - 2 * size : end - size])
        result = drift.evaluate(window, reference, previous, seed=seed + end, **options)
        if end <= prefix:
            alarms_before += result.alarm
        elif result.alarm:
            return Detection(kind, end - prefix, alarms_before, result.drifted)
    return Detection(kind, None, alarms_before, [])
