"""What email furniture looks like: the patterns and word lists inbox.mail.cleaning uses.

Kept apart from the cleaning steps so a new client's reply header, a new language's
closing or a new disclaimer phrase is added here, in one place, as data. Patterns match
a stripped line unless their comment says otherwise.
"""

from __future__ import annotations

import re

INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
SPACE_LIKE = re.compile("[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]")

FORWARD_MARKER = re.compile(
    r"^[-=_ ]{2,}\s*(?:forwarded message|forwarded e-?mail|weitergeleitete nachricht|"
    r"message transf[ée]r[ée]|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|"
    r"mensagem encaminhada|пересылаемое сообщение|videresendt meddelelse|"
    r"vidarebefordrat meddelande)\s*[-=_ ]{2,}$"
    r"|^begin forwarded message\s*:$|^d[ée]but du message r[ée]exp[ée]di[ée]\s*:$",
    re.IGNORECASE,
)
ORIGINAL_MARKER = re.compile(
    r"^[-_ ]{3,}\s*(?:original message|urspr[üu]ngliche nachricht|message d'origine|"
    r"mensaje original|messaggio originale|oorspronkelijk bericht|mensagem original|"
    r"исходное сообщение|oprindelig meddelelse|ursprungligt meddelande)\s*[-_ ]{3,}$",
    re.IGNORECASE,
)
SEPARATOR = re.compile(r"^[-_=*~]{10,}$")
SIG_DELIMITER = re.compile(r"^(?:--|__|—|–)$")

HEADER_KEY = re.compile(
    r"^\*{0,2}(from|von|de|da|van|od|от|fra|från|lähettäjä|expéditeur|remitente|mittente|"
    r"sent|date|to|cc|bcc|subject|gesendet|datum|an|betreff|envoyé|à|objet|enviado|fecha|"
    r"para|asunto|inviato|data|a|oggetto|verzonden|aan|onderwerp|отправлено|дата|кому|тема|"
    r"skickat|till|ämne|sendt|til|emne|wysłano|do|temat|reply-to)\*{0,2}\s*:\*{0,2}(\s|$)",
    re.IGNORECASE,
)
# fmt: off
FROM_KEYS = {
    "from", "von", "de", "da", "van", "od", "от", "fra", "från", "lähettäjä", "expéditeur",
    "remitente", "mittente"
}
# fmt: on

WROTE = (
    r"wrote|writes|a écrit|schrieb|escribió|ha scritto|schreef|escreveu|skrev|kirjoitti|"
    r"napsal\(a\)|napisał\(a\)|napisała?|pisze|пишет|написал\(а\)|написала?"
)
WROTE_LINE = re.compile(rf"^(?=.{{0,400}}$).*\b(?:{WROTE})\b[^:]{{0,120}}\s?:$", re.IGNORECASE)
WROTE_OPENER = re.compile(r"^(?:on|le|am|el|il|op|em|den|dne|w dniu)\b", re.IGNORECASE)
# Gmail in some languages writes no verb: "пн, 3 июн. 2024 г. в 10:15, Name <a@b.c>:".
VERBLESS_ATTRIBUTION = re.compile(r"^.{0,200}\d{1,2}:\d{2}.{0,200}<[^<>\s]+@[^<>\s]+>\)?\s?:$")

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
SENT_FROM = re.compile(
    r"^(?:sent (?:from|with|via|using) .{1,50}|get outlook for .{1,30}|"
    r"envoy[ée] (?:de|depuis) mon .{1,30}|von meinem .{1,30} gesendet|gesendet von .{1,40}|"
    r"enviado desde mi .{1,30}|inviato da(?:l mio)? .{1,30}|verzonden (?:vanaf|met) .{1,30}|"
    r"отправлено с .{1,30}|enviado do meu .{1,30}|wysłane z .{1,30}|skickat från .{1,30})$",
    re.IGNORECASE,
)
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
    r"pozdrawiam|med vänliga hälsningar|mvh|med venlig hilsen)"
    # then an optional signer on the same line: "Thanks, Jane", "Cheers - Tom O'Brien"
    r"[\s,.!:;/-]*(?-i:[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,2})?[\s,.!]*$",
    re.IGNORECASE,
)
POSTSCRIPT = re.compile(r"^\s*p\.?\s?s\.?(?:[\s:.-]|$)", re.IGNORECASE)
GREETING_WORD = (
    r"hi|hello|hey|hiya|dear|greetings|good (?:morning|afternoon|evening|day)|morning|"
    r"to whom it may concern|hallo|guten (?:tag|morgen)|bonjour|hola|buenos d[ií]as|ciao|"
    r"buongiorno|salut|hej|hoi|ol[aá]|здравствуйте|привет|добрый день"
)
GREETING_START = re.compile(rf"^(?:{GREETING_WORD})\b", re.IGNORECASE)
# fmt: off
ADDRESSEE_WORDS = {
    "there", "all", "team", "everyone", "everybody", "guys", "folks", "support", "sir", "sirs",
    "madam", "or", "and", "customer", "customers", "service", "services", "care", "the",
    "bank", "people", "again", "mr", "mrs", "ms", "miss", "dr", "to", "whom", "it", "may",
    "concern", "friends", "help", "desk", "helpdesk", "colleagues", "agent", "good", "morning",
    "afternoon", "evening", "day", "hello", "hi", "dear", "at", "of", "my"
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
    r"my (?:previous|earlier|last) (?:e-?mail|message))|fyi|fwiw|"
    r"(?:forwarding|resending|sending) (?:this|it|my (?:e-?mail|message))(?: again)?(?: as .{0,60})?|"
    r"(?:as|since) i (?:have had|got|received|haven't had|have not had) no (?:reply|response|answer)"
    r".{0,40})[.!]?$",
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
    r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|tr|rv|r|antw|ref|odp|res|enc|rif|fs|vl|ynt|fyi)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*|\[(?:external|ext|spam|suspected spam)\]\s*"
    r"|\*?external\*?\s*[:-]?\s+)+",
    re.IGNORECASE,
)
FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|wg|tr|rv|enc|i|vl|doorst)\s*[:：]", re.IGNORECASE)
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
    "question", "questions", "query", "queries", "enquiry", "enquiries", "inquiry",
    "inquiries", "help", "support", "request", "issue", "issues", "problem", "problems",
    "urgent", "important", "hello", "hi", "hey", "please", "needed", "need", "quick", "a",
    "an", "the", "my", "your", "our", "with", "us", "you", "message", "email", "e", "mail",
    "contact", "contacting", "from", "customer", "service", "services", "case", "ticket",
    "reference", "ref", "number", "no", "complaint", "feedback", "asap", "account", "info",
    "information", "regarding", "about", "for", "on", "to", "of", "and", "update", "follow",
    "up", "followup", "again", "re", "fwd", "fw", "assistance", "requested", "required",
    "attention", "team", "i", "have", "is", "it", "this", "some", "general", "new", "reply",
    "response"
}
# fmt: on
