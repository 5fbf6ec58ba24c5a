"""What email furniture looks like: the patterns and word lists inbox.mail.cleaning uses.

Kept apart from the cleaning steps so a new client's reply header, a new language's
closing or a new disclaimer phrase is added here, in one place, as data. Patterns match
a stripped line unless their comment says otherwise.
"""

from __future__ import annotations

import re

# Zero-width characters, and U+1427, the dot Gmail read-tracking extensions append.
INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u1427]")
SPACE_LIKE = re.compile("[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]")

FORWARD_MARKER = re.compile(
    r"^[-=_ ]{2,}\s*(?:forwarded message|forwarded e-?mail|weitergeleitete nachricht|"
    r"message transf[ée]r[ée]|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|"
    r"mensagem encaminhada|пересылаемое сообщение|videresendt meddelelse|"
    r"vidarebefordrat meddelande|videresendt melding|välitetty viesti|"
    r"wiadomość przekazana|przekazana wiadomość|továbbított üzenet|přeposlaná zpráva|"
    r"переслане повідомлення|转发的邮件|転送されたメッセージ)\s*[-=_ ]{2,}$"
    r"|^begin forwarded message\s*:$|^d[ée]but du message r[ée]exp[ée]di[ée]\s*:$",
    re.IGNORECASE,
)
ORIGINAL_MARKER = re.compile(
    r"^[-_ ]{3,}\s*(?:original message|urspr[üu]ngliche nachricht|message d'origine|"
    r"mensaje original|messaggio originale|oorspronkelijk bericht|mensagem original|"
    r"исходное сообщение|oprindelig meddelelse|ursprungligt meddelande|oprindelig besked|"
    r"opprinnelig melding|originalmeddelande|alkuperäinen viesti|wiadomość oryginalna|"
    r"oryginalna wiadomość|původní zpráva|eredeti üzenet|оригінальне повідомлення|"
    r"原始邮件|元のメッセージ|reply message|original e-?mail)\s*[-_ ]{3,}$",
    re.IGNORECASE,
)
SEPARATOR = re.compile(r"^(?:[-_=*~]{10,}|[—–]{3,}|[-_=*~—–]{4,})$")
# A short rule that may stand above a header block ("====", "-----").
SHORT_RULE = re.compile(r"^[-_=*~—–]{3,}$")
# "-------- Oprindelig besked --------", "---------- Forwarded message ---------": a title
# between rules, in whatever language.
DASHED_TITLE = re.compile(r"^[-=_]{2,}\s*[^\W\d_][^-=_\n]{2,40}?\s*[-=_]{2,}$")
FORWARD_WORD = re.compile(
    r"forward|weiterge|transf[ée]r|reenv|inoltr|doorgest|encaminh|videresend|vidarebefordr|"
    r"przekaz|välitet|továbbít|přeposl|пересл|转发|転送|r[ée]exp[ée]di|weitergeleitet",
    re.IGNORECASE,
)
SIG_DELIMITER = re.compile(r"^(?:--|__|—|–)$")

HEADER_KEY = re.compile(
    r"^\*{0,2}(from|von|de|da|van|od|от|від|fra|från|lähettäjä|expéditeur|remitente|mittente|"
    r"feladó|kimden|发件人|寄件者|差出人|보낸 사람|"
    r"sent|date|to|cc|bcc|subject|gesendet|datum|an|betreff|envoyé(?: le)?|à|objet|sujet|"
    r"copie à|enviado(?: el)?|enviada(?: em)?|fecha|para|asunto|assunto|inviato|data|a|oggetto|"
    r"verzonden|aan|onderwerp|отправлено|надіслано|дата|кому|тема|skickat|till|ämne|sendt|"
    r"til|emne|dato|wysłano|do|temat|lähetetty|vastaanottaja|aihe|päivämäärä|odesláno|komu|"
    r"předmět|elküldve|címzett|tárgy|dátum|gönderildi|kime|konu|tarih|发送时间|收件人|主题|"
    r"日期|抄送|寄件日期|收件者|主旨|送信日時|宛先|件名|받는 사람|보낸 날짜|제목|reply-to|"
    r"antwort an|répondre à|responder a|rispondi a|risposta)\*{0,2}\s*[:：]\*{0,2}",
    re.IGNORECASE,
)
# Any "Key: value" line, for telling a header block's unknown or wrapped lines apart.
ANY_KEY = re.compile(r"^[^\W\d_][\w .'-]{0,24}\s?[:：]\s*\S")
# fmt: off
FROM_KEYS = {
    "from", "von", "de", "da", "van", "od", "от", "від", "fra", "från", "lähettäjä",
    "expéditeur", "remitente", "mittente", "feladó", "kimden", "发件人", "寄件者", "差出人",
    "보낸 사람"
}
# fmt: on

# "wrote" as mail clients write it, in the languages we receive and a few more.
WROTE = (
    r"wrote|writes|has written|a écrit|a ecrit|schrieb|geschrieben|escribió|escribio|"
    r"ha escrito|ha scritto|scrisse|schreef|geschreven|escreveu|skrev|skriver|kirjoitti|"
    r"napsal(?:\(a\)|a)?|napísal(?:\(a\)|a)?|napisał(?:\(a\)|a)?|napisala|pisze|"
    r"пишет|написал(?:\(а\)|а)?|написав|написала|пише|írta|yazdı|έγραψε|rašė|rakstīja|"
    r"kirjutas|je napisao|a scris|写道|寫道|đã viết|が書きました"
)
# The verb, then up to 200 characters (a date, "Uhr", "het volgende") and usually a colon.
WROTE_LINE = re.compile(rf"^(?=.{{0,500}}$).*(?:^|\W)(?:{WROTE})(?:\W.{{0,200}})?$", re.IGNORECASE)
WROTE_END = re.compile(rf"(?:{WROTE})\W{{0,3}}$", re.IGNORECASE)
WROTE_OPENER = re.compile(
    r"^(?:on|le|am|el|il(?: giorno)?|op|em|den|dne|w dniu|d\.|pada|vào|в|у|på|\d{1,4}[./-])\b",
    re.IGNORECASE,
)
# How a verbless attribution starts: a weekday or a number (Gmail in Russian, Yandex).
VERBLESS_START = re.compile(r"^(?:\d|[^\W\d_]{2,4}\.?,\s)", re.IGNORECASE)

BANNER = re.compile(
    r"^\W*(?:\[?external\]?|caution|warning|attention|notice)\b.{0,60}"
    r"(?:\bexternal\b|outside (?:of )?(?:the|your|our|this) (?:organi[sz]ation|company|bank))"
    r"|^\W*this (?:e-?mail|message) (?:originated|came|comes) from outside",
    re.IGNORECASE,
)
# Disclaimers arrive hard-wrapped, so a phrase may span lines: each space matches \s+.
DISCLAIMER = re.compile(
    (
        r"\bintended (?:solely |only |exclusively )?for the (?:sole |exclusive )?(?:use of the )?"
        r"(?:named )?(?:addressee|recipient|individual|person|entity)"
        r"|\bnot the intended recipient"
        r"|\bif you (?:have )?(?:received|got) this (?:e-?mail|message|communication|transmission)"
        r" (?:in error|by mistake)"
        r"|\b(?:this|the) (?:e-?mail|message|communication|transmission|information contained)\b"
        r"[^.]{0,100}\b(?:is|are|may be|contains?) (?:strictly |also )?(?:confidential|privileged)"
        r"|^[^\w\n]*(?:confidentiality notice|confidentiality|disclaimer|legal notice|"
        r"privileged (?:and|&) confidential)\b"
        r"|\bauthori[sz]ed and regulated by\b|\bregistered (?:in england|office|number)\b"
        r"|\bconsider the environment before printing\b|\bscanned for (?:all )?viruses\b"
        r"|\b(?:e-?mails?|communications?|calls?) (?:may be|are) (?:recorded|monitored)\b"
    ).replace(" ", r"\s+"),
    re.IGNORECASE | re.MULTILINE,
)
# Mobile and webmail footers ("Sent from my iPhone", "Gesendet von Outlook für Android",
# "Sendt fra min iPad"), matched after any <https://...> link on the line is removed.
SENT_FROM = re.compile(
    r"^(?:sent (?:from|with|via|using|on) .{1,50}|get outlook for .{1,30}|"
    r"(?:envoy[ée]|expédié) (?:de|depuis|à partir de|avec|par) .{1,40}|"
    r"von meinem .{1,30} (?:gesendet|verschickt)|(?:gesendet|verschickt) (?:von|mit|vom) .{1,40}|"
    r"(?:enviado|envío) (?:desde|con|de) .{1,40}|obtener outlook para .{1,30}|"
    r"inviato (?:da|dal|con|tramite) .{1,40}|scarica outlook per .{1,30}|"
    r"(?:verzonden|verstuurd) (?:vanaf|met|van|via) .{1,40}|outlook voor .{1,20} downloaden|"
    r"(?:enviado|enviada) (?:do|de|pelo|a partir do|a partir de|com) .{1,40}|"
    r"(?:wysłane|wysłano) (?:z|ze|przez) .{1,40}|pobierz outlook dla .{1,30}|"
    r"(?:skickat|skickades) (?:från|med|via) .{1,40}|hämta outlook för .{1,30}|"
    r"sendt (?:fra|med|via) .{1,40}|hent outlook til .{1,30}|få outlook for .{1,30}|"
    r"lähetetty .{1,40}|hanki outlook .{1,30}|odesláno z .{1,30}|küldve .{1,30}|"
    r"отправлено (?:с|из) .{1,30}|надіслано (?:з|із) .{1,30}|"
    # Outlook's mobile footers in any language: "Von Outlook für Android gesendet",
    # "Pobierz aplikację Outlook dla systemu Android", "Obter o Outlook para iOS".
    r".{0,45}\boutlook\b.{0,30}\b(?:ios|android)\b.{0,25}|"
    r"(?:sent|gesendet|envoyé|enviado|inviato|verzonden|sendt|skickat) (?:from|von|de|da|"
    r"van|fra|från) (?:my|meinem|mon|mi|meu|mio|mijn|min) .{1,30}|"
    r"\S+ (?:from|von|de|da|van|fra|från) (?:my|meinem|mon|mi|meu|mio|mijn|min) (?:iphone|ipad|"
    r"android|samsung|galaxy|mobile|smartphone|handy|phone|telefoon|telefon|puhelin).{0,20}|"
    # a whole sentence: "Diese Nachricht wurde von meinem Android-Mobiltelefon mit K-9 Mail
    # gesendet.", "This message was sent from my mobile device."
    r".{0,40}\b(?:von meinem|from my|de mon|desde mi|dal mio|vanaf mijn|fra min|från min|"
    r"z mojego|do meu|с моего) .{1,60}(?:gesendet|sent|envoyé|enviado|inviato|verzonden|sendt|"
    r"skickat|wysłan[aoy]|отправлено)\.?)$",
    re.IGNORECASE,
)
LINKED = re.compile(r"\s*<(?:https?://|mailto:)[^>]*>|\s*\[(?:https?://|mailto:)[^\]]*\]")
VALEDICTION = re.compile(
    r"^(?:(?:kind|best|warm|warmest|many|kindest|with kind|with best)\s+(?:regards|wishes)"
    r"|regards|best|cheers|thx|ty|ta|sincerely|"
    r"yours(?: sincerely| faithfully| truly)?|respectfully|take care|all the best|"
    r"(?:many |big |huge )?(?:thanks|thank you)(?: again)?(?: (?:so|very) much| a lot| a million)?"
    r"(?: again)?(?: in advance)?(?: for (?:your|the|any|all) (?:kind )?"
    r"(?:help|time|assistance|support|reply|response|understanding|patience))?(?: in advance)?|"
    r"(?:i )?look(?:ing)? forward to (?:hearing from you|your (?:reply|response|answer))(?: soon)?|"
    r"hope to hear from you(?: soon)?|"
    r"mit freundlichen gr(?:ü|ue)(?:ß|ss)en|(?:viele|liebe|beste) gr(?:ü|ue)(?:ß|ss)e|mfg|lg|"
    r"cordialement|bien (?:à|a) vous|merci(?: beaucoup| d'avance)?|saludos(?: cordiales)?|"
    r"un saludo|atentamente|gracias|cordiali saluti|distinti saluti|grazie(?: mille)?|"
    r"met vriendelijke groet(?:en)?|groeten|с уважением|спасибо|atenciosamente|obrigad[oa]|"
    r"pozdrawiam|med vänliga hälsningar|mvh|med venlig hilsen|"
    # more languages: de, fr, es, it, nl, pl, pt, sv, da, no, fi, cs, hu, ru/uk
    r"(?:viele|liebe|beste|freundliche|herzliche|schöne|sonnige) gr(?:ü|ue)(?:ß|ss)e|"
    r"gr(?:ü|ue)(?:ß|ss)e|gru(?:ß|ss)|vielen dank(?: im voraus)?|danke(?: schön| im voraus)?|"
    r"bien cordialement|salutations(?: distinguées)?|bonne (?:journée|soirée)|amicalement|"
    r"bises|merci (?:bien|encore|par avance)|un abrazo|muchas gracias|cordialmente|"
    r"saludos cordiales|un cordial saludo|saluti|un saluto|buona giornata|"
    r"(?:met )?(?:vriendelijke|hartelijke) groet(?:en)?|groetjes|mvg|alvast bedankt|bedankt|"
    r"dank(?:je| je| u)(?: wel)?|z poważaniem|pozdrowienia|serdecznie pozdrawiam|dziękuję|"
    r"pozdrawiam (?:serdecznie|cieplutko|ciepło)|z wyrazami szacunku|łączę pozdrowienia|"
    r"dzięki|cumprimentos|melhores cumprimentos|abraços?|saudações|"
    r"(?:med )?vänliga hälsningar|hälsningar|hälsning|tack(?: på förhand| så mycket)?|"
    r"(?:med )?venlig(?:st)? hilsen|(?:med )?vennlig(?:st)? hilsen|(?:de )?bedste hilsner|"
    r"kærlig hilsen|hilsen|hilsner|vh|kh|tak|takk|ystävällisin terveisin|terveisin|"
    r"parhain terveisin|kiitos|s pozdravem|děkuji|üdvözlettel|köszönöm|"
    r"з повагою|дякую|greetings|kthx(?:bai|bye)?|thnx|thanx|tks|tia)"
    # then an optional signer on the same line: "Thanks, Jane", "Cheers - Tom O'Brien"
    r"[\s,.!:;/-]*(?-i:[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,2})?[\s,.!]*$",
    re.IGNORECASE,
)
# The stems closings are built from across the European languages ("Un cordiale saluto",
# "Mit freundlichem Gruß", "Vänligen", "Ystävällisesti", "Mange hilsner", "Beste hilsen"):
# a short line holding one, over a signature, is a closing even when its exact words are
# not in VALEDICTION.
CLOSING_STEM = re.compile(
    r"(?:^|\s)(?:gr(?:ü|ue)(?:ß|ss)|salu[dt]|regard|h[äa]lsning|hilsen|hilsn|terveis|"
    r"ystävällise|pozdr|poważ|szacun|cumpriment|abra[çc]|atenciosa|cordial|groet|v[äa]nlig|"
    r"venlig|vennlig|wishes|thank|merci|danke|grazie|gracias|obrigad|bedankt|tack|takk|"
    r"kiitos|dzi[ęe]k|cheers|sincere|respectful|saudaç|herzlich|freundlich|amicale|bises|"
    r"baci|abbracci|kram|knus)",
    re.IGNORECASE,
)
POSTSCRIPT = re.compile(r"^\s*p\.?\s?s\.?(?:[\s:.-]|$)", re.IGNORECASE)
GREETING_WORD = (
    r"hi|hello|hey|hiya|dear|greetings|good (?:morning|afternoon|evening|day)|morning|"
    r"to whom it may concern|hallo|guten (?:tag|morgen|abend)|god (?:morgon|eftermiddag|kväll|"
    r"morgen|aften|ettermiddag|kveld)|godmorgen|hejsan|hej hej|hyvä|hyvää (?:iltaa|huomenta)|"
    r"buenas noches|goedenavond|goedendag|bonne journée|buon pomeriggio|boa noite|dobry wieczór|sehr geehrte[rs]?|liebe[rs]?|moin|"
    r"servus|bonjour|bonsoir|madame|monsieur|cher|chère|hola|buenos d[ií]as|buenas tardes|"
    r"estimad[oa]s?|ciao|buongiorno|buonasera|salve|gentile|gentili|egregio|spettabile|salut|"
    r"hej|hejsa|hei|moi|terve|hyvää (?:päivää|huomenta)|goddag|god dag|god morgen|kære|käre|"
    r"bästa|hoi|geachte|beste|goedemorgen|goedemiddag|ol[aá]|bom dia|boa tarde|prezad[oa]s?|"
    r"car[oa]s?|cze[sś][cć]|dzie[nń] dobry|witam|szanown[iay]|dobrý den|szia|jó napot|"
    r"здравствуйте|привет|добрый день|привіт|добрий день|вітаю"
)
GREETING_START = re.compile(rf"^(?:{GREETING_WORD})\b", re.IGNORECASE)
# A bare "Hi," / "Hello." / "Hey there," in front of the request on the same line stays:
# BANKING77's own queries start that way (about 1 in 70), so the model reads it, and
# cutting it cost queries like "Hello I changed my mind..." their own words. A greeting
# that addresses someone ("Hi team,", "Dear Support,", "Hallo,") is still cut.
BARE_GREETING = re.compile(r"^(?:hi|hello|hey)$", re.IGNORECASE)
# fmt: off
ADDRESSEE_WORDS = {
    "there", "all", "team", "everyone", "everybody", "guys", "folks", "support", "sir", "sirs",
    "madam", "or", "and", "customer", "customers", "service", "services", "care", "the",
    "bank", "people", "again", "mr", "mrs", "ms", "miss", "dr", "to", "whom", "it", "may",
    "concern", "friends", "help", "desk", "helpdesk", "colleagues", "agent", "good", "morning",
    "afternoon", "evening", "day", "hello", "hi", "dear", "at", "of", "my",
    # the same words in the languages we receive
    "allemaal", "iedereen", "heer", "mevrouw", "heren", "dames", "en", "zusammen", "alle",
    "damen", "und", "herren", "frau", "herr", "tout", "le", "monde", "à", "tous", "madame",
    "monsieur", "mesdames", "messieurs", "l'équipe", "équipe", "a", "todos", "señor", "señora",
    "señores", "equipo", "tutti", "signore", "signora", "signori", "wszystkim",
    "państwo", "pani", "panie", "zespole", "senhor", "senhora", "senhores", "equipa", "alla", "allihopa", "sammen", "kaikille", "kaikki", "y", "e", "och", "og", "ja", "i",
}
# fmt: on
PLEASANTRY = re.compile(
    r"^(?:i )?hope (?:this (?:e-?mail|message|note) finds you well|you(?: are|'re) "
    r"(?:well|doing well|keeping well|having a (?:good|great|nice) (?:day|week))|all is well)"
    r"[.!,]?\s*",
    re.IGNORECASE,
)
# Notes people type above a forwarded message; with the message below they say nothing.
FORWARD_NOTE = re.compile(
    r"^(?:(?:please )?(?:see|find|read) (?:the )?(?:below|attached|email below|message below|"
    r"my (?:previous|earlier|last) (?:e-?mail|message))|fyi|fwiw|f\.y\.i\.?|see (?:the )?"
    r"(?:e-?mail|message|thread|mail) below|below|as discussed|for your information|"
    r"siehe unten|(?:zur )?info|zur kenntnis|weitergeleitet|voir (?:ci-dessous|en dessous|"
    r"le message ci-dessous)|pour info(?:rmation)?|pour information|ci-dessous|"
    r"ver (?:abajo|más abajo|debajo)|para tu información|para su información|reenvío|"
    r"vedi (?:sotto|sopra|sotto\s)|per (?:tua |vostra )?informazione|per conoscenza|"
    r"zie (?:hieronder|onder(?:staande)?(?: (?:mail|bericht))?)|ter info(?:rmatie)?|"
    r"patrz (?:poniżej|niżej)|do wiadomości|dla informacji|ver (?:abaixo|em baixo)|"
    r"para (?:sua |tua )?informação|para conhecimento|se nedan|för kännedom|till info|"
    r"se (?:nedenfor|herunder|under)|til orientering|til info(?:rmation)?|"
    r"katso (?:alla|alta)|tiedoksi|"
    r"(?:forwarding|resending|sending) (?:this|it|my (?:e-?mail|message))(?: again)?(?: as .{0,60})?|"
    r"(?:as|since) i (?:have had|got|received|haven't had|have not had) no (?:reply|response|answer)"
    r".{0,40}|"
    # a greeting or a thanks alone says nothing either
    r"(?:hi|hello|hallo|bonjour|hola|ciao|hej|hei|hoi|dear \w+|thanks|thank you|danke|merci|"
    r"grazie|gracias|dank je|tack|takk|tak|kiitos|dziękuję|obrigad[oa]))[.!?]?$",
    re.IGNORECASE,
)
CONTACT_LINE = re.compile(
    r"^(?:(?:tel|phone|mob|mobile|cell|fax|m|t|p|e|w|email|e-mail|web|www)\.?\s*[:|]\s*\S.*"
    r"|\+?[\d\s().-]{7,}\d|\S+@\S+\.\w+|(?:https?://|www\.)\S+)$",
    re.IGNORECASE,
)
LABELLED_PHONE = re.compile(
    r"\b(?:tel|phone|mob|mobile|cell|fax|m|t)\s*[:.]\s*\+?\d[\d\s().-]{6,}", re.IGNORECASE
)
PHONE_EMAIL_URL = re.compile(r"\+?\d[\d\s().-]{7,}\d|\S+@\S+\.\w+|(?:https?://|www\.)\S+")
NAME_WORD = re.compile(r"^[-–—~]?(?:[A-Z][\w'’.-]*|[A-Z]\.?|&|\||,|at|of|and|for)$")

SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|vb|tr|rv|r|i|pd|antw|ref|odp|res|enc|rif|fs|vl|ynt|fyi|"
    r"doorst|ile|trs|wtrs|přep|továbbítás|vá|отв|пер)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*|\[(?:external|ext|spam|suspected spam)\]\s*"
    r"|\*?external\*?\s*[:-]?\s+)+",
    re.IGNORECASE,
)
FORWARD_SUBJECT = re.compile(
    r"^\s*(?:fwd?|wg|tr|rv|enc|i|vl|vb|pd|doorst|wtrs|trs|přep|továbbítás|пер)\s*[:：]",
    re.IGNORECASE,
)
TICKET_REF = re.compile(
    r"[\[(](?:[^\])]*?\d[^\])]*?)[\])]|\b(?:ref|case|ticket|#)\s*[:#]?\s*[\w-]*\d[\w-]*",
    re.IGNORECASE,
)
NO_SUBJECT = re.compile(
    r"^\(?(?:no subject|untitled|kein betreff|sans objet|sin asunto|senza oggetto|geen onderwerp|"
    r"без темы)\)?$",
    re.IGNORECASE,
)
# fmt: off
GENERIC_SUBJECT_WORDS = {
    # what a bank calls a customer's case, in the languages we receive
    "zgłoszenie", "zgłoszenia", "sprawa", "sprawie", "reklamacja", "twój", "twoja", "pana",
    "pani", "ärendet", "sag", "sak", "saken", "din", "ditt", "dine", "deres", "asia",
    "asiasi", "yhteydenottosi", "yhteydenotto", "tiedustelu", "kysely", "reclamação", "o",
    "seu", "sua", "vosso", "consulta", "reclamación", "solicitação", "segnalazione",
    "pratica", "aanvraag", "melding", "klacht", "anliegen", "vorgang", "ihres", "dossier",
    "réclamation", "requête", "votre", "ticket", "caso", "sagen", "henvendelsen",
    "förfrågan", "meddelande", "besked", "viestinne", "wiadomość", "twoje",
    # "Following up on your message", "Message from the bank", "Votre demande", "Uw vraag",
    # "Ihre Anfrage", "Din henvendelse", "Pyyntösi": a reply keeps the bank's subject.
    "following", "followup", "bank", "banking", "vos", "demande", "demandes",
    "question", "message", "uw", "vraag", "vragen", "verzoek", "bericht", "ihre",
    "anfrage", "ihr", "nachricht", "frage", "henvendelse", "forespørsel", "ärende", "fråga", "pyyntösi", "pyyntö", "kysymys", "viesti", "viestisi", "su",
    "solicitud", "pedido", "pregunta", "mensagem", "mensaje", "la",
    "richiesta", "domanda", "messaggio", "zapytanie", "pytanie", "ваш", "запрос", "вопрос", "сообщение", "de", "el", "le", "du", "van", "der", "die", "das",
    "sent", "sending", "wrote", "received", "your", "yours", "tu", "ta", "vous",
    "questions", "query", "queries", "enquiry", "enquiries", "inquiry",
    "inquiries", "help", "support", "request", "issue", "issues", "problem", "problems",
    "urgent", "important", "hello", "hi", "hey", "please", "needed", "need", "quick", "a",
    "an", "the", "my", "our", "with", "us", "you", "email", "e", "mail",
    "contact", "contacting", "from", "customer", "service", "services", "case", "reference", "ref", "number", "no", "complaint", "feedback", "asap", "account", "info",
    "information", "regarding", "about", "for", "on", "to", "of", "and", "update", "follow",
    "up", "again", "re", "fwd", "fw", "assistance", "requested", "required",
    "attention", "team", "i", "have", "is", "it", "this", "some", "general", "new", "reply",
    "response"
}
# fmt: on
