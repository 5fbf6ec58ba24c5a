"""Generated multilingual shapes, WRITTEN BY THIS PROJECT (the mail-reading work of issue
11), from how the common clients format replies and forwards in the twelve languages a
European bank receives: en, de, fr, es, it, nl, pl, pt, sv, da, no, fi.

Each BANKING77 query (English: the model reads English) is the customer's new text in a
reply or forward whose furniture is in one language: a greeting and a sign-off, a mobile
footer, and the bank's earlier message quoted under a Gmail, Apple Mail, Outlook
(desktop, web, mobile), Thunderbird or Android/Samsung header, or a forward with a note.
The client formats were written from the clients' own output as the author knows it,
not copied from the outside set; some are deliberately not covered by the cleaner's word
lists (Polish Apple Mail's "Wiadomość napisana przez …", Apple's localised "Begin
forwarded message:") so the set also measures how the rules generalise. Since the same
people wrote these shapes and the cleaner, read the outside set's figures first.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from shapecase import Case

BANK = "Lumen Bank"
BANK_ADDR = "support@lumenbank.example"
LANGS = ["en", "de", "fr", "es", "it", "nl", "pl", "pt", "sv", "da", "no", "fi"]

# fmt: off
GREETINGS = {
    "en": ["Hi,", "Hello,", "Dear Sir or Madam,", "Good morning,"],
    "de": ["Hallo,", "Sehr geehrte Damen und Herren,", "Guten Tag,", "Hallo zusammen,"],
    "fr": ["Bonjour,", "Madame, Monsieur,", "Bonsoir,", "Bonjour à tous,"],
    "es": ["Hola,", "Buenos días,", "Estimados señores:", "Buenas tardes,"],
    "it": ["Buongiorno,", "Salve,", "Gentile servizio clienti,", "Buonasera,"],
    "nl": ["Hallo,", "Beste,", "Geachte heer/mevrouw,", "Goedemiddag,"],
    "pl": ["Dzień dobry,", "Witam,", "Szanowni Państwo,", "Cześć,"],
    "pt": ["Olá,", "Bom dia,", "Prezados,", "Boa tarde,"],
    "sv": ["Hej,", "Hej!", "Hejsan,", "God morgon,"],
    "da": ["Hej,", "Kære kundeservice,", "Goddag,", "Hej med jer,"],
    "no": ["Hei,", "Hallo,", "God dag,", "Hei dere,"],
    "fi": ["Hei,", "Moi,", "Hyvä vastaanottaja,", "Hyvää päivää,"],
}
SIGN_OFFS = {
    "en": ["Kind regards,\n{name}", "Thanks,\n{first}", "Best,\n{first}", "Cheers {first}"],
    "de": ["Mit freundlichen Grüßen\n{name}", "Viele Grüße\n{first}", "LG {first}",
           "Beste Grüße,\n{name}"],
    "fr": ["Cordialement,\n{name}", "Bien à vous,\n{first}", "Merci d'avance,\n{first}",
           "Bonne journée,\n{name}"],
    "es": ["Saludos,\n{first}", "Un saludo,\n{name}", "Atentamente,\n{name}", "Gracias,\n{first}"],
    "it": ["Cordiali saluti,\n{name}", "Grazie,\n{first}", "Saluti,\n{first}",
           "Distinti saluti\n{name}"],
    "nl": ["Met vriendelijke groet,\n{name}", "Groetjes,\n{first}", "Mvg,\n{name}",
           "Alvast bedankt,\n{first}"],
    "pl": ["Pozdrawiam,\n{name}", "Z poważaniem,\n{name}", "Dziękuję,\n{first}",
           "Pozdrawiam serdecznie\n{first}"],
    "pt": ["Atenciosamente,\n{name}", "Obrigado,\n{first}", "Cumprimentos,\n{name}",
           "Abraços,\n{first}"],
    "sv": ["Med vänliga hälsningar\n{name}", "Mvh {first}", "Hälsningar,\n{first}",
           "Tack på förhand!\n{first}"],
    "da": ["Med venlig hilsen\n{name}", "Hilsen {first}", "Kh {first}", "Venlig hilsen,\n{name}"],
    "no": ["Med vennlig hilsen\n{name}", "Mvh {first}", "Hilsen\n{first}", "Takk!\n{first}"],
    "fi": ["Ystävällisin terveisin\n{name}", "Terveisin {first}", "Kiitos,\n{first}",
           "Parhain terveisin\n{name}"],
}
NAMES = {
    "en": ["Jane Smith", "Tom Brown"], "de": ["Jürgen Müller", "Anna Schmidt"],
    "fr": ["Marie Dubois", "Luc Martin"], "es": ["José García", "Lucía Fernández"],
    "it": ["Marco Rossi", "Giulia Bianchi"], "nl": ["Jan de Vries", "Maarten Jansen"],
    "pl": ["Anna Nowak", "Piotr Kowalski"], "pt": ["João Silva", "Ana Costa"],
    "sv": ["Erik Andersson", "Karin Lindqvist"], "da": ["Søren Nielsen", "Mette Hansen"],
    "no": ["Ola Nordmann", "Kari Hansen"], "fi": ["Matti Virtanen", "Liisa Korhonen"],
}
IPHONE = {
    "en": "Sent from my iPhone", "de": "Von meinem iPhone gesendet",
    "fr": "Envoyé de mon iPhone", "es": "Enviado desde mi iPhone", "it": "Inviato da iPhone",
    "nl": "Verstuurd vanaf mijn iPhone", "pl": "Wysłane z iPhone'a",
    "pt": "Enviado do meu iPhone", "sv": "Skickat från min iPhone", "da": "Sendt fra min iPhone",
    "no": "Sendt fra min iPhone", "fi": "Lähetetty iPhonesta",
}
OUTLOOK_MOBILE = {
    "en": "Get Outlook for Android<https://aka.ms/AAb9ysg>",
    "de": "Von Outlook für Android gesendet<https://aka.ms/AAb9ysg>",
    "fr": "Envoyé à partir de Outlook pour Android<https://aka.ms/AAb9ysg>",
    "es": "Obtener Outlook para Android<https://aka.ms/AAb9ysg>",
    "it": "Scarica Outlook per Android<https://aka.ms/AAb9ysg>",
    "nl": "Outlook voor Android downloaden<https://aka.ms/AAb9ysg>",
    "pl": "Pobierz aplikację Outlook dla systemu Android<https://aka.ms/AAb9ysg>",
    "pt": "Obter o Outlook para Android<https://aka.ms/AAb9ysg>",
    "sv": "Hämta Outlook för Android<https://aka.ms/AAb9ysg>",
    "da": "Hent Outlook til Android<https://aka.ms/AAb9ysg>",
    "no": "Få Outlook for Android<https://aka.ms/AAb9ysg>",
    "fi": "Hanki Outlook for Android<https://aka.ms/AAb9ysg>",
}
SAMSUNG = {
    "en": "Sent from my Galaxy", "de": "Von meinem Galaxy gesendet",
    "fr": "Envoyé depuis mon Galaxy", "es": "Enviado desde mi Galaxy",
    "it": "Inviato dal mio Galaxy", "nl": "Verzonden vanaf mijn Galaxy",
    "pl": "Wysłane z mojego Galaxy", "pt": "Enviado do meu Galaxy",
    "sv": "Skickat från min Galaxy", "da": "Sendt fra min Galaxy",
    "no": "Sendt fra min Galaxy", "fi": "Lähetetty Galaxystani",
}
# The bank's earlier message, quoted under the reply (in the customer's language).
BANK_REPLY = {
    "en": "Thank you for contacting us. Could you tell us a little more so that we can help?",
    "de": "Vielen Dank für Ihre Nachricht. Können Sie uns bitte mehr Details nennen?",
    "fr": "Merci de nous avoir contactés. Pourriez-vous nous donner plus de détails ?",
    "es": "Gracias por contactar con nosotros. ¿Podría darnos más detalles?",
    "it": "Grazie per averci contattato. Può fornirci qualche dettaglio in più?",
    "nl": "Bedankt voor uw bericht. Kunt u ons wat meer details geven?",
    "pl": "Dziękujemy za wiadomość. Czy mogą Państwo podać więcej szczegółów?",
    "pt": "Obrigado pelo seu contacto. Pode dar-nos mais detalhes, por favor?",
    "sv": "Tack för ditt meddelande. Kan du berätta lite mer så att vi kan hjälpa dig?",
    "da": "Tak for din henvendelse. Kan du give os flere oplysninger?",
    "no": "Takk for henvendelsen. Kan du gi oss flere detaljer?",
    "fi": "Kiitos viestistäsi. Voisitko kertoa hieman lisää, jotta voimme auttaa?",
}
BANK_SIGN = {
    "en": "Kind regards,\nLumen Bank Customer Service", "de": "Freundliche Grüße\nIhr Lumen Bank Team",
    "fr": "Cordialement,\nLe service client Lumen Bank", "es": "Un saludo,\nAtención al cliente",
    "it": "Cordiali saluti,\nServizio clienti", "nl": "Met vriendelijke groet,\nKlantenservice",
    "pl": "Z poważaniem,\nObsługa klienta", "pt": "Com os melhores cumprimentos,\nApoio ao cliente",
    "sv": "Vänliga hälsningar,\nKundtjänst", "da": "Venlig hilsen\nKundeservice",
    "no": "Vennlig hilsen\nKundeservice", "fi": "Ystävällisin terveisin\nAsiakaspalvelu",
}
SUBJECT = {
    "en": "Your enquiry", "de": "Ihre Anfrage", "fr": "Votre demande", "es": "Su consulta",
    "it": "La sua richiesta", "nl": "Uw vraag", "pl": "Twoje zgłoszenie", "pt": "O seu pedido",
    "sv": "Ditt ärende", "da": "Din henvendelse", "no": "Din henvendelse", "fi": "Yhteydenottosi",
}
REPLY_PREFIX = {"en": "Re", "de": "AW", "fr": "RE", "es": "RE", "it": "R", "nl": "RE", "pl": "Odp",
                "pt": "RE", "sv": "SV", "da": "SV", "no": "SV", "fi": "VS"}
FORWARD_PREFIX = {"en": "Fwd", "de": "WG", "fr": "TR", "es": "RV", "it": "I", "nl": "Doorst",
                  "pl": "PD", "pt": "ENC", "sv": "VB", "da": "VS", "no": "VS", "fi": "VL"}
# Notes that say nothing, typed above a forward of the customer's own earlier email.
EMPTY_NOTES = {
    "en": ["FYI", "See below.", ""], "de": ["Siehe unten.", "Zur Info", ""],
    "fr": ["Pour info", "Voir ci-dessous.", ""], "es": ["Ver abajo.", "Para su información", ""],
    "it": ["Vedi sotto.", "Per conoscenza", ""], "nl": ["Zie hieronder.", "Ter info", ""],
    "pl": ["Patrz poniżej.", "Do wiadomości", ""], "pt": ["Ver abaixo.", "Para conhecimento", ""],
    "sv": ["Se nedan.", "För kännedom", ""], "da": ["Se nedenfor.", "Til orientering", ""],
    "no": ["Se nedenfor.", "Til info", ""], "fi": ["Katso alla.", "Tiedoksi", ""],
}
MONTHS = {
    "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    "de": "Jan. Feb. März Apr. Mai Juni Juli Aug. Sept. Okt. Nov. Dez.",
    "fr": "janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.",
    "es": "ene feb mar abr may jun jul ago sept oct nov dic",
    "it": "gen feb mar apr mag giu lug ago set ott nov dic",
    "nl": "jan feb mrt apr mei jun jul aug sep okt nov dec",
    "pl": "sty lut mar kwi maj cze lip sie wrz paź lis gru",
    "pt": "jan. fev. mar. abr. mai. jun. jul. ago. set. out. nov. dez.",
    "sv": "jan. feb. mars apr. maj juni juli aug. sep. okt. nov. dec.",
    "da": "jan. feb. mar. apr. maj jun. jul. aug. sep. okt. nov. dec.",
    "no": "jan. feb. mar. apr. mai jun. jul. aug. sep. okt. nov. des.",
    "fi": "tammik. helmik. maalisk. huhtik. toukok. kesäk. heinäk. elok. syysk. lokak. marrask. jouluk.",
}
DAYS = {
    "en": "Mon Tue Wed Thu Fri Sat Sun", "de": "Mo. Di. Mi. Do. Fr. Sa. So.",
    "fr": "lun. mar. mer. jeu. ven. sam. dim.", "es": "lun mar mié jue vie sáb dom",
    "it": "lun mar mer gio ven sab dom", "nl": "ma di wo do vr za zo",
    "pl": "pon. wt. śr. czw. pt. sob. niedz.", "pt": "seg. ter. qua. qui. sex. sáb. dom.",
    "sv": "mån tis ons tors fre lör sön", "da": "man. tir. ons. tor. fre. lør. søn.",
    "no": "man. tir. ons. tor. fre. lør. søn.", "fi": "ma ti ke to pe la su",
}
# Gmail's attribution line per language ({d} day, {m} month, {y} year, {t} time, {wd}).
GMAIL = {
    "en": "On {wd}, {d} {m} {y} at {t}, {who} <{addr}> wrote:",
    "de": "Am {wd}, {d}. {m} {y} um {t} Uhr schrieb {who} <{addr}>:",
    "fr": "Le {wd} {d} {m} {y} à {t}, {who} <{addr}> a écrit :",
    "es": "El {wd}, {d} {m} {y} a las {t}, {who} (<{addr}>) escribió:",
    "it": "Il giorno {wd} {d} {m} {y} alle ore {t} {who} <{addr}> ha scritto:",
    "nl": "Op {wd} {d} {m} {y} om {t} schreef {who} <{addr}>:",
    "pl": "{wd}, {d} {m} {y} o {t} {who} <{addr}> napisał(a):",
    "pt": "Em {wd}, {d} de {m} de {y} às {t}, {who} <{addr}> escreveu:",
    "sv": "Den {wd} {d} {m} {y} kl {t} skrev {who} <{addr}>:",
    "da": "Den {wd} {d}. {m} {y} kl. {t} skrev {who} <{addr}>:",
    "no": "{wd} {d}. {m} {y} kl. {t} skrev {who} <{addr}>:",
    "fi": "{wd} {d}. {m} {y} klo {t} {who} ({addr}) kirjoitti:",
}
APPLE = {
    "en": "On {d} {m} {y}, at {t}, {who} <{addr}> wrote:",
    "de": "Am {dd}.{mm}.{y} um {t} schrieb {who} <{addr}>:",
    "fr": "Le {d} {m} {y} à {t}, {who} <{addr}> a écrit :",
    "es": "El {d} {m} {y}, a las {t}, {who} <{addr}> escribió:",
    "it": "Il giorno {d} {m} {y}, alle ore {t}, {who} <{addr}> ha scritto:",
    "nl": "Op {d} {m} {y} om {t} heeft {who} <{addr}> het volgende geschreven:",
    "pl": "Wiadomość napisana przez {who} <{addr}> w dniu {dd}.{mm}.{y}, o godz. {t}:",
    "pt": "Em {d} de {m} de {y}, à(s) {t}, {who} <{addr}> escreveu:",
    "sv": "{d} {m} {y} kl. {t} skrev {who} <{addr}>:",
    "da": "Den {d}. {m} {y} kl. {t} skrev {who} <{addr}>:",
    "no": "{d}. {m} {y} kl. {t} skrev {who} <{addr}>:",
    "fi": "{who} <{addr}> kirjoitti {d}.{mn}.{y} kello {t}:",
}
THUNDERBIRD = {
    "en": "On {dd}/{mm}/{y} {t}, {who} wrote:", "de": "Am {dd}.{mm}.{yy} um {t} schrieb {who}:",
    "fr": "Le {dd}/{mm}/{y} à {t}, {who} a écrit :", "es": "El {d}/{mn}/{yy} a las {t}, {who} escribió:",
    "it": "Il {dd}/{mm}/{yy} {t}, {who} ha scritto:", "nl": "Op {dd}-{mm}-{y} om {t} schreef {who}:",
    "pl": "W dniu {d}.{mm}.{y} o {t}, {who} pisze:", "pt": "Às {t} de {dd}/{mm}/{y}, {who} escreveu:",
    "sv": "{y}-{mm}-{dd} kl. {t}, skrev {who}:", "da": "Den {dd}-{mm}-{y} kl. {t} skrev {who}:",
    "no": "Den {dd}.{mm}.{y} {t}, skrev {who}:", "fi": "{who} kirjoitti {d}.{mn}.{y} klo {t}:",
}
# Outlook's header block: From, Sent, To, Subject.
OUTLOOK_KEYS = {
    "en": ("From", "Sent", "To", "Subject"), "de": ("Von", "Gesendet", "An", "Betreff"),
    "fr": ("De", "Envoyé", "À", "Objet"), "es": ("De", "Enviado", "Para", "Asunto"),
    "it": ("Da", "Inviato", "A", "Oggetto"), "nl": ("Van", "Verzonden", "Aan", "Onderwerp"),
    "pl": ("Od", "Wysłano", "Do", "Temat"), "pt": ("De", "Enviado", "Para", "Assunto"),
    "sv": ("Från", "Skickat", "Till", "Ämne"), "da": ("Fra", "Sendt", "Til", "Emne"),
    "no": ("Fra", "Sendt", "Til", "Emne"), "fi": ("Lähettäjä", "Lähetetty", "Vastaanottaja", "Aihe"),
}
ORIGINAL = {
    "en": "Original message", "de": "Ursprüngliche Nachricht", "fr": "Message d'origine",
    "es": "Mensaje original", "it": "Messaggio originale", "nl": "Oorspronkelijk bericht",
    "pl": "Oryginalna wiadomość", "pt": "Mensagem original", "sv": "Originalmeddelande",
    "da": "Oprindelig besked", "no": "Opprinnelig melding", "fi": "Alkuperäinen viesti",
}
DATE_KEY = {"en": "Date", "de": "Datum", "fr": "Date", "es": "Fecha", "it": "Data", "nl": "Datum",
            "pl": "Data", "pt": "Data", "sv": "Datum", "da": "Dato", "no": "Dato", "fi": "Päivämäärä"}
GMAIL_FORWARD = {
    "en": "Forwarded message", "de": "Weitergeleitete Nachricht", "fr": "Message transféré",
    "es": "Mensaje reenviado", "it": "Messaggio inoltrato", "nl": "Doorgestuurd bericht",
    "pl": "Przekazana wiadomość", "pt": "Mensagem encaminhada", "sv": "Vidarebefordrat meddelande",
    "da": "Videresendt meddelelse", "no": "Videresendt melding", "fi": "Välitetty viesti",
}
APPLE_FORWARD = {
    "en": "Begin forwarded message:", "de": "Anfang der weitergeleiteten Nachricht:",
    "fr": "Début du message réexpédié :", "es": "Inicio del mensaje reenviado:",
    "it": "Inizio messaggio inoltrato:", "nl": "Begin doorgestuurd bericht:",
    "pl": "Początek przekazanej wiadomości:", "pt": "Início da mensagem reencaminhada:",
    "sv": "Vidarebefordrat mejl:", "da": "Start på videresendt besked:",
    "no": "Videresendt melding:", "fi": "Välitetty viesti alkaa:",
}
# fmt: on
FAMILIES = ["gmail", "apple", "outlook", "outlook-mobile", "thunderbird", "samsung"]


class _Maker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def pick(self, options: Sequence[str]) -> str:
        return self.rng.choice(list(options))

    def stamp(self, lang: str, when: datetime) -> dict[str, str]:
        months = MONTHS[lang].split()
        return {
            "d": str(when.day), "dd": f"{when.day:02d}", "mm": f"{when.month:02d}",
            "mn": str(when.month), "m": months[when.month - 1], "y": str(when.year),
            "yy": f"{when.year % 100:02d}", "t": f"{when:%H:%M}" if lang not in ("da", "fi")
            else f"{when:%H.%M}", "wd": DAYS[lang].split()[when.weekday()],
        }  # fmt: skip

    def own(self, lang: str, query: str, name: str, footer: str | None) -> list[str]:
        parts = []
        if self.rng.random() < 0.8:
            parts.append(self.pick(GREETINGS[lang]))
        parts.append(query.strip())
        if self.rng.random() < 0.8:
            parts.append(self.pick(SIGN_OFFS[lang]).format(name=name, first=name.split()[0]))
        if footer:
            parts.append(footer)
        return parts


def _quoted(lang: str) -> str:
    return f"{BANK_REPLY[lang]}\n\n{BANK_SIGN[lang]}"


def _gt(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def _email(
    maker: _Maker, lang: str, family: str, post: str, query: str, when: datetime
) -> tuple[str, str]:
    """(subject, plain body) of one message."""
    name = maker.pick(NAMES[lang])
    earlier = when - timedelta(days=2, minutes=maker.rng.randrange(600))
    s = maker.stamp(lang, earlier)
    keys = OUTLOOK_KEYS[lang]
    sent = f"{s['d']} {s['m']} {s['y']} {s['t']}"
    footer = {"apple": IPHONE[lang], "outlook-mobile": OUTLOOK_MOBILE[lang],
              "samsung": SAMSUNG[lang]}.get(family)  # fmt: skip
    if footer and maker.rng.random() < 0.3:
        footer = None
    subject = f"{REPLY_PREFIX[lang]}: {SUBJECT[lang]}"
    if post.startswith("forward"):
        subject = f"{FORWARD_PREFIX[lang]}: {SUBJECT[lang]}"
        if post == "forward-note":  # the bank's message forwarded with the question on top
            inner, inner_from = _quoted(lang), f"{BANK} <{BANK_ADDR}>"
            note = maker.own(lang, query, name, None)
        else:  # the customer's own earlier email forwarded again, with an empty note
            inner = "\n\n".join(maker.own(lang, query, name, None))
            inner_from = f"{name} <{name.split()[0].lower()}@mail.example>"
            note = [maker.pick(EMPTY_NOTES[lang])]
        if family == "apple":
            head = (
                f"{APPLE_FORWARD[lang]}\n\n{keys[0]}: {inner_from}\n{keys[3]}: "
                f"{SUBJECT[lang]}\n{DATE_KEY[lang]}: {sent}\n{keys[2]}: {BANK_ADDR}"
            )
        elif family.startswith("outlook"):
            head = (
                f"________________________________\n{keys[0]}: {inner_from}\n{keys[1]}: "
                f"{sent}\n{keys[2]}: {BANK_ADDR}\n{keys[3]}: {SUBJECT[lang]}"
            )
        else:
            head = (
                f"---------- {GMAIL_FORWARD[lang]} ---------\n{keys[0]}: {inner_from}\n"
                f"{DATE_KEY[lang]}: {sent}\n{keys[3]}: {SUBJECT[lang]}\n{keys[2]}: <{BANK_ADDR}>"
            )
        body = [*[n for n in note if n], *([footer] if footer else []), head, inner]
        return subject, "\n\n".join(body)
    own = maker.own(lang, query, name, footer)
    who = {"who": BANK, "addr": BANK_ADDR, **s}
    quoted = _quoted(lang)
    tight = maker.rng.random() < 0.2  # the attribution right under the text, no blank line
    if family in ("gmail", "apple", "thunderbird"):
        template = {"gmail": GMAIL, "apple": APPLE, "thunderbird": THUNDERBIRD}[family][lang]
        attribution = template.format(**who)
        if post == "bottom":
            return subject, "\n\n".join([attribution, _gt(quoted), *own])
        if family == "gmail" and len(attribution) > 76 and maker.rng.random() < 0.5:
            cut = attribution.rfind(" ", 0, 76)  # Gmail's plain part wraps long attributions
            attribution = attribution[:cut] + "\n" + attribution[cut + 1 :]
        sep = "\n" if tight else "\n\n"
        return subject, "\n\n".join(own) + sep + attribution + "\n" + _gt(quoted)
    if family == "samsung":
        head = (
            f"-------- {ORIGINAL[lang]} --------\n{keys[0]}: {BANK} <{BANK_ADDR}>\n"
            f"{DATE_KEY[lang]}: {s['dd']}.{s['mm']}.{s['y']} {s['t']} (GMT+01:00)\n"
            f"{keys[2]}: {name.split()[0].lower()}@mail.example\n{keys[3]}: {SUBJECT[lang]}"
        )
        return subject, "\n\n".join(own) + "\n\n" + head + "\n\n" + quoted
    # Outlook desktop and web: a rule, then the header block, the message unquoted.
    rule = maker.pick(["________________________________", "-----Original Message-----", ""])
    if rule == "-----Original Message-----" and lang != "en":
        rule = f"-----{ORIGINAL[lang]}-----"
    head = (
        f"{keys[0]}: {BANK} <{BANK_ADDR}>\n{keys[1]}: {sent}\n"
        f"{keys[2]}: {name} <{name.split()[0].lower()}@mail.example>\n{keys[3]}: {SUBJECT[lang]}"
    )
    block = f"{rule}\n{head}" if rule else head
    return subject, "\n\n".join(own) + "\n\n" + block + "\n\n" + quoted


def multilingual_cases(
    queries: Sequence[str], labels: Sequence[str], seed: int, per_cell: int = 4
) -> list[Case]:
    """``per_cell`` messages for each (language, family, post) cell: posts are top, bottom
    (Gmail/Apple/Thunderbird only), forward-note and forward-own; queries drawn in order."""
    maker = _Maker(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    order = list(range(len(queries)))
    maker.rng.shuffle(order)
    cases: list[Case] = []
    for lang in LANGS:
        for family in FAMILIES:
            posts = ["top", "top", "forward-note", "forward-own"]
            if family in ("gmail", "apple", "thunderbird"):
                posts.append("bottom")
            for post in posts:
                for _ in range(per_cell):
                    index = order[len(cases) % len(order)]
                    when = start + timedelta(minutes=maker.rng.randrange(525_600))
                    subject, body = _email(maker, lang, family, post, queries[index], when)
                    msg = EmailMessage()
                    msg["From"] = f"Customer <customer{len(cases)}@mail.example>"
                    msg["To"] = f"{BANK} <{BANK_ADDR}>"
                    msg["Subject"] = subject
                    msg["Date"] = format_datetime(when)
                    msg["Message-ID"] = f"<ml-{seed}-{len(cases)}@mail.example>"
                    msg.set_content(body + "\n")
                    if maker.rng.random() < 0.4:  # most clients also send an HTML part
                        html = "".join(
                            f"<div>{line}</div>" if line else "<div><br></div>"
                            for line in body.replace("<", "&lt;").replace(">", "&gt;").split("\n")
                        )
                        msg.add_alternative(f"<html><body>{html}</body></html>", subtype="html")
                    cases.append(
                        Case(msg.as_bytes(), queries[index], labels[index], family, lang, post,
                             group="generated", name=f"ml-{len(cases)}")
                    )  # fmt: skip
    return cases
