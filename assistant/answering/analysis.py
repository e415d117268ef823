"""What a question asks for (a number, a date, a person, a place) and where that is in a sentence."""

from __future__ import annotations

import re
from functools import lru_cache

from ..text import STOPWORDS
from . import nouns, predicate

NUMBER, DATE, PERSON, PLACE, OTHER = "number", "date", "person", "place", "other"

_NUMBER_Q = re.compile(
    r"\bhow (many|much|far|long|old|big|large|high|tall|deep|wide|heavy)\b|\b(what|which) (number|percentage|"
    r"percent|share|proportion|portion|fraction|amount|distance|population|size|figure|total|"
    r"price|cost|sum|rate)\b|\bhow many\b"
    r"|\b(?:what|which)(?: is| was|'s)? the (?:number|percentage|population|size|total|price|cost|"
    r"amount|share)\b", re.I)
_DATE_Q = re.compile(r"(?<!until )(?<!till )\bwhen\b"
                     r"|\b(what|which) (year|day|date|month|time|decade|century|era)\b"
                     r"|\bsince when\b|\bhow long ago\b", re.I)
# Who, or which company, party or newspaper: the answer is a name. ("What is it called" is not
# here: "the operation was called an 'anti-terror' campaign" answers it without one.)
_PERSON_Q = re.compile(r"\bwhom?\b|\b(what|which) (?:[a-z]+ )?(official|minister|leader|person|president|"
                       r"spokesperson|spokesman|spokeswoman|man|woman|company|firm|party|outlet|"
                       r"newspaper|paper|agency|organi[sz]ation|group|charity|airline|team|club|"
                       r"bank|channel|network|union|operator|contractor|brand)\b|\bname of the\b"
                       r"|\bwhat name\b", re.I)
_PLACE_Q = re.compile(r"\bwhere\b|\b(what|which) (city|town|village|country|region|place|"
                      r"location|capital|province|district|area|street)\b|\bin which\b", re.I)

_NUM_WORDS = ("several|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
              "thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|"
              "thousands|million|millions|billion|dozen|dozens|half")
_QUANT = r"(?:(?:approximately|about|around|almost|nearly|some|roughly|more than|over|at least|" \
         r"up to|fewer than|less than|an estimated|a mere|only)\s+)?"
NUMBER_SPAN = re.compile(
    rf"\b{_QUANT}(?:\d[\d,.]*\d|\d)(?:\s*(?:%|per ?cent|million|billion|thousand))?(?:-[A-Za-z]+)*"
    rf"(?:\s+(?!and\b|in\b|of\b|the\b|to\b|from\b|on\b|at\b|by\b|for\b)[A-Za-z][\w-]*){{0,2}}"
    rf"|\b{_QUANT}(?:{_NUM_WORDS})(?:[\s-]+(?:{_NUM_WORDS}))*"
    rf"(?:\s+(?!and\b|in\b|of\b|the\b|to\b|from\b|on\b|at\b|by\b|for\b|a\b)[A-Za-z][\w-]*){{1,2}}",
    re.I)
_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|"
           "December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec")
_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
DATE_SPAN = re.compile(
    rf"\b(?:(?:on|since|by|in|until|from)\s+)?(?:(?:{_DAYS})(?:\s+(?:morning|afternoon|evening|night))?"
    rf"|(?:\d{{1,2}}\s+)?(?:{_MONTHS})(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+\d{{4}})?"
    rf"|(?:1[0-9]|20)\d{{2}}s?"
    rf"|(?i:earlier|later|last|next|this) (?:week|month|year|weekend|spring|summer|autumn|winter)"
    rf"|(?i:yesterday|today|tomorrow)"
    rf"|(?:the )?(?:past|last|next) (?:\w+ )?(?:days?|weeks?|months?|years?)"
    rf"|(?:its |the |their )?(?i:first|second|third|fourth|fifth|sixth|seventh|\d+(?:st|nd|rd|th))"
    rf" (?:day|week|month|year)"
    rf"|(?:(?:the )?(?:past|last|next) )?(?:\w+ )?(?:days?|weeks?|months?|years?) (?:ago|earlier|later))\b")
_DAY_OF_MONTH = re.compile(rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\b")
_CAP = r"[A-Z][\w'’-]+"
NAME_SPAN = re.compile(rf"\b{_CAP}(?:\s+(?:{_CAP}|de|van|von|al|bin)){{1,5}}\b")
_SINGLE_CAP = re.compile(rf"(?<![.!?]\s)\b{_CAP}")
PLACE_SPAN = re.compile(rf"\b(?:in|at|near|from|to|of|outside)\s+(?:the\s+)?({_CAP}(?:[\s-]+{_CAP}){{0,2}})")


_FIRST_WH = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how)\b", re.I)
_BARE_WH = re.compile(r"who|whom|when|where", re.I)
_INDIRECT = re.compile(r"\b(?:say|said|know|knows|mention|mentioned|tell|told|explain|reveal|"
                       r"revealed|report|reported|announce|announced)(?:\s+(?:us|me|anyone))?\s+$",
                       re.I)
_YES_NO = re.compile(r"\s*(?:and\s+|so\s+|but\s+)?(?:is|are|was|were|do|does|did|has|have|had|can|"
                     r"could|will|would|should|isn't|aren't|wasn't|weren't|didn't|doesn't|hasn't|"
                     r"haven't|wasnt|isnt|didnt|doesnt|hasnt)\b", re.I)


def answer_type(question: str) -> str:
    """The kind of thing asked for. A bare "who", "when" or "where" after the question's own
    question word, or in a yes/no question, is a clause inside it, not what it asks ("what did he
    promise about who pays", "are any of the people who got sick in danger"), unless a verb of
    saying puts it ("did they say when it ends")."""
    first = _FIRST_WH.search(question)
    first_at = first.start() if first else len(question)
    opening = 0 if _YES_NO.match(question) else first_at
    for kind, asks in ((NUMBER, _NUMBER_Q), (DATE, _DATE_Q), (PERSON, _PERSON_Q),
                       (PLACE, _PLACE_Q)):
        for m in asks.finditer(question):
            if (m.start() <= opening or not _BARE_WH.fullmatch(m.group())
                    or first_at == m.start() and _INDIRECT.search(question, 0, m.start())):
                return kind
    return OTHER


# What a date question asks for: "which year" wants 2020, not "Tuesday".
_GRAIN_Q = (
    (re.compile(r"\bdecade\b", re.I), re.compile(r"\b(?:1[89]|20)\d0s\b")),
    (re.compile(r"\bcentury\b", re.I), re.compile(r"\bcentury\b|\b\d{2}00s\b", re.I)),
    # "which year" wants 2020; "three years ago" only partly answers it.
    (re.compile(r"\byear\b", re.I), re.compile(r"\b(?:1[0-9]|20)\d\d\b")),
    (re.compile(r"\bmonth\b", re.I), re.compile(rf"\b(?:{_MONTHS})\b|\bmonths?\b")),
    (re.compile(r"\bday\b|\bweekday\b", re.I),
     re.compile(rf"\b(?:{_DAYS}|yesterday|today|tomorrow)\b|\b\d{{1,2}}\s+(?:{_MONTHS})\b"
                rf"|\b(?:{_MONTHS})\s+\d{{1,2}}\b", re.I)),
)
_COUNTED = re.compile(r"\bhow many\s+([^\W\d_][\w'’-]*)(?:\s+([^\W\d_][\w'’-]*))?", re.I)
_NOT_COUNTED = frozenset("did do does is was were are has have had will would can could of the".split())


def _counted(question: str, stem) -> set[str]:
    """What "how many" counts ("how many dockworkers were arrested" -> dockworkers); empty when
    the question does not say it that way."""
    m = _COUNTED.search(question)
    if not m or m.group(1).lower() in _NOT_COUNTED:
        return set()
    first, second = m.group(1).lower(), (m.group(2) or "").lower()
    if second in STOPWORDS:
        second = ""  # "how many homes in Piešťany"
    if second.endswith("s") and not second.endswith(("ss", "us")) and second not in _NOT_COUNTED:
        return {stem(second)}  # "how many tram drivers" counts drivers, not trams
    out = {stem(first)}
    if second and second not in _NOT_COUNTED:
        out.add(stem(second))  # "how many people died"
    return out


_TIME_Q = re.compile(r"\bhow (long|old|soon|often|far)\b|\b(seconds|minutes|hours|days|weeks|months|years|"
                     r"decades|age)\b", re.I)
_TIME_SPAN = re.compile(r"\b(second|minute|hour|day|week|month|year|decade)s?\b", re.I)
# What a measuring question needs next to its number (the NUM subtypes of question
# classification): "how deep" is not answered by "27,000 people", nor "how much money" by
# "1,300 bookings". Each: (question pattern, what must be in or right after the number's span).
_DISTANCE = (r"(?<![^\W\d_])(?:k?m|cm|mm|metres?|meters?|kilomet(?:re|er)s?|miles?|feet|foot|ft"
             r"|yards?|inch(?:es)?|storeys?|stories)\b")
_DURATION = r"(?:second|minute|hour|day|week|month|year|decade|centur(?:y|ie))s?\b"
_LENGTH = re.compile(_DISTANCE, re.I)
_MEASURE_SPAN = re.compile(rf"{_DISTANCE}|(?<![^\W\d_])(?:tonnes?|tons?|kg|kilo(?:gram)?s?|litres?|liters?"
                           rf"|hectares?|euros?|dollars?)\b|[€$£]", re.I)
_MEASURES = (
    # A unit the question names comes first: "how long is the corridor in kilometres".
    (re.compile(rf"\b(?:in|how many)\s+{_DISTANCE}", re.I), _LENGTH),
    (re.compile(r"\bhow (?:deep|wide|high|tall)\b", re.I), _LENGTH),
    (re.compile(r"\bhow (?:far|long)\b(?!\s+(?:below|above|behind|ahead|over|under|short|off)\b)",
                re.I),
     re.compile(rf"{_DISTANCE}|\b{_DURATION}|\b(?:drive|walk|ride|journey)\b", re.I)),
    (re.compile(r"\bhow heavy\b|\bweigh", re.I),
     re.compile(r"\b(?:tonnes?|tons?|kg|kilo(?:gram)?s?|grams?|pounds?|lbs?)\b", re.I)),
    (re.compile(r"\bhow much (?:money|cash|funding)\b|\bhow much (?:did|does|will|would|do)\b.*\b"
                r"(?:cost|pay|paid|spend|spent|earn|raise|charge|lose|lost|owe)\b"
                r"|\b(?:cost|price|budget|bill|fine|salary|wage|worth)\b", re.I),
     re.compile(r"[€$£¥%]|(?<![^\W\d_])(?:euros?|dollars?|pounds?|francs?|kron(?:a|e|er|or)|korun[ay]?|"
                r"crowns?|zloty|lei|dinars?|rubles?|roubles?|lira|yen|yuan|dong|rupees?|rupiah|won|"
                r"baht|pesos?|rand|shekels?|drams?|manats?|lari|hryvnias?|forints?|cents?|pence|"
                r"per ?cent|percent|EUR|USD|GBP)\b|\b(?:half|third|quarter)\b", re.I)),
)


# An age is said in many ways ("54-year-old", "Kollárová, 54,", "opened in 1913"): it is looked
# for in the whole sentence, not next to a number.
_AGE_Q = re.compile(r"\bhow old\b|\bwhat age\b", re.I)
_AGE = re.compile(r"\byears? old\b|-year-old\b|\baged? \d|\bage of \d|,\s*\d{1,3},"
                  r"|\b(?:built|founded|opened|established|dating from|dates from|since|in)\s+"
                  r"(?:in\s+)?(?:1[5-9]|20)\d\d\b", re.I)


@lru_cache(maxsize=4096)
def _measure(question: str) -> re.Pattern | None:
    """What a measuring question's number must come with; None for a plain count (cached:
    typed_match asks it again for every candidate sentence of the question)."""
    if asks_length(question):
        return _LENGTH
    return next((unit for asks, unit in _MEASURES if asks.search(question)), None)


_COPULA = frozenset("is was are were".split())
_LONG = ("long", "long's", "long’s")
# Words that make "how long was X ..." ask how long X was in some state: "were the burglars
# inside", "were the roads shut there", "was she in France".
_IN_A_STATE = frozenset("in inside outside out away open shut down off up there here gone left ago "
                        "before after until till since for between alive missing abroad behind "
                        "ahead late together apart".split())
# Words that end the noun phrase the question is about: "the bridge | at Cigacice".
_PHRASE_ENDS = predicate.PREPOSITIONS | frozenset(
    "that which who whom where when and or near along across through around off".split())


def asks_length(question: str) -> bool:
    """Whether the question asks how long a physical thing is ("how long is the Lachin corridor"):
    "how long" and a form of "be" with no other verb, about a noun whose first WordNet sense is a
    physical thing. It wants a distance, not the nine months the corridor was blocked; "how long
    is the strike" (an act) or "how long was the road closed" (a verb) may want a time."""
    words = [w for w in (w.strip(".,;:!?\"()“”‘’") for w in question.split()) if w]
    low = [w.lower() for w in words]
    at = next((i for i in range(len(low) - 1) if low[i] == "how" and low[i + 1] in _LONG), None)
    if at is None:
        return False
    if low[at + 1] != "long":                                       # "how long's the bridge"
        rest = low[at + 2:]
    elif at + 2 < len(low) and low[at + 2] in _COPULA:
        rest = low[at + 3:]
    else:
        return False
    if not rest or _IN_A_STATE.intersection(rest) or predicate.question_verbs(words):
        return False
    phrase = next((rest[:i] for i, w in enumerate(rest) if w in _PHRASE_ENDS), rest)
    head = phrase[-1].removesuffix("'s").removesuffix("’s") if phrase else ""
    return nouns.is_physical(head)


# Words of a number question that are not the thing counted ("how long", "how many").
_NUMBER_WORDS = frozenset("long many much far old big large high tall number percentage percent "
                          "share proportion portion fraction amount distance size figure total".split())


# "how long", "how far", "what share": the words that frame the kind of answer, not what it is about.
_FRAME_Q = re.compile(r"\bhow (long|far|old|big|large|high|tall|often|soon|wide|deep|heavy|close)\b"
                      r"|\b(?:what|which) (number|percentage|percent|share|proportion|portion|"
                      r"fraction|amount|figure|total)"
                      r" of\b", re.I)


def without_frame(question: str) -> str:
    """The question without the words that only say what kind of answer it wants."""
    def drop(m: re.Match) -> str:
        g = 1 if m.group(1) else 2
        a, b = m.span(g)
        return m.group()[: a - m.start()].rstrip() + m.group()[b - m.start():]
    return _FRAME_Q.sub(drop, question)


def date_grain(question: str) -> re.Pattern | None:
    for asks, grain in _GRAIN_Q:
        if asks.search(question):
            return grain
    return None


def typed_match(kind: str, question: str, sentence: str, question_terms: set[str], stem) -> float:
    """How well the sentence holds the kind of thing asked for: 1 fits, 0.5 partly, -1 not at all.

    A number whose unit the question names ("how many stops" - "16 stops") fits; any other new
    number fits partly, except a span of time ("a 72-hour strike", "22 months after"), which
    only answers a question about time. A date of the grain asked for ("which year" - "2020")
    fits; another date fits partly.
    """
    if kind == NUMBER and _AGE_Q.search(question):
        return 1.0 if _AGE.search(sentence) else -1.0
    phrase = key_phrase(kind, sentence, question_terms, stem)
    if phrase is None:
        return -1.0
    if kind == NUMBER:
        measure = _measure(question)
        if measure is not None and not any(
                measure.search(sentence[max(0, start - 2):end + 12])
                for start, end in spans_of(kind, sentence)):
            return -1.0
        counted = _counted(question, stem)
        units = counted or question_terms - {stem(w) for w in _NUMBER_WORDS}
        about_time = bool(_TIME_Q.search(question))
        # "How many fish" is not answered by "a 12-kilometre stretch": a count of things is not
        # a length, a weight or a sum of money.
        counting = bool(counted) and measure is None
        partly = False
        for start, end in spans_of(kind, sentence):
            words = {stem(w.lower()) for w in re.findall(r"[^\W\d_]+", sentence[start:end])}
            if words & units:
                return 1.0
            span = sentence[start:end]
            partly = partly or (about_time or not _TIME_SPAN.search(span)) and not (
                counting and _MEASURE_SPAN.search(span))
        return 0.5 if partly else -1.0
    if kind == DATE:
        grain = date_grain(question)
        if grain is None:
            return 1.0
        return 1.0 if any(grain.search(sentence[a:b]) for a, b in spans_of(kind, sentence)) else 0.5
    return 1.0


@lru_cache(maxsize=65536)
def spans_of(kind: str, sentence: str) -> tuple[tuple[int, int], ...]:
    """Character spans in the sentence that could answer a question of this kind (cached: the
    same sentences come back question after question)."""
    return tuple(_spans_of(kind, sentence))


def _spans_of(kind: str, sentence: str) -> list[tuple[int, int]]:
    if kind == NUMBER:
        found = [m.span() for m in NUMBER_SPAN.finditer(sentence)]
        # A bare year or a day of a month ("31 January") is a date, not a count.
        return [s for s in found if not re.fullmatch(r"(?:1[0-9]|20)\d\d", sentence[s[0]:s[1]].strip())
                and not _DAY_OF_MONTH.match(sentence, s[0])]
    if kind == DATE:
        return [m.span() for m in DATE_SPAN.finditer(sentence)]
    if kind == PERSON:
        # Full names, or a single proper noun inside the sentence (an agency, a capital); not
        # weekdays, months, nationalities ("Armenian") or a dateline ("LEUVEN, Belgium —").
        skip = _dateline_end(sentence)
        spans = [_trim_name(sentence, m.start(), m.end()) for m in NAME_SPAN.finditer(sentence)
                 if m.start() >= skip]
        spans = [s for s in spans if s is not None]
        spans += [m.span() for m in _SINGLE_CAP.finditer(sentence) if m.start() > max(0, skip - 1)
                  and not any(a <= m.start() < b for a, b in spans)
                  and not _NOT_A_NAME.fullmatch(m.group())]
        return spans
    if kind == PLACE:
        return [m.span(1) for m in PLACE_SPAN.finditer(sentence)]
    return []


_NOT_A_NAME = re.compile(
    rf"(?:{_DAYS}|{_MONTHS}|[A-Z]\w+(?:ian|ians|ani|anis|ese|ish|ean|eans|ic)|Russian|Russians|"
    rf"American|Americans|Ethnic|Local|The|This|That|These|Those|Earlier|However|In|On|At|For|"
    rf"Since|Despite|Within|Simultaneously|According|Public|Officials|Observers|International|"
    rf"Secretary|Minister|Prime|President|Foreign|Ministry|Deputy|Council|Government|General)")
_DATELINE = re.compile(r"^[A-Z][A-Z .'’-]+,[^—–]{0,40}[—–]\s*")


def _dateline_end(sentence: str) -> int:
    m = _DATELINE.match(sentence)
    return m.end() if m else 0


def _trim_name(sentence: str, start: int, end: int) -> tuple[int, int] | None:
    """The span without the leading words that are not names; None when nothing is left."""
    for m in re.finditer(r"\S+", sentence[start:end]):
        if not _NOT_A_NAME.fullmatch(m.group().strip("’'s")):
            return start + m.start(), end
    return None


def trim_name(name: str) -> str | None:
    """A name without the titles and nationalities before it; None when nothing is left."""
    span = _trim_name(name, 0, len(name))
    return name[span[0]:] if span else None


def key_phrase(kind: str, sentence: str, question_terms: set[str], stem) -> str | None:
    """The span of the sentence that answers the question, preferring ones the question lacks."""
    best, best_score = None, None
    lowered_q = question_terms
    for start, end in spans_of(kind, sentence):
        phrase = sentence[start:end].strip(" ,;:")
        words = [stem(w.lower()) for w in re.findall(r"[^\W_]+", re.sub(r"['’]s\b", "", phrase))]
        if words and all(w in lowered_q for w in words):
            continue  # the question already says this: not the answer
        if kind == PERSON and words[-1] in lowered_q:
            continue  # "Siranush Sargsyan" is whom "which outlet does Sargsyan work for" is about
        figures = [w for w in words if w[:1].isdigit()]
        if figures and all(f in lowered_q for f in figures):
            continue  # a figure the question gives ("the 1780 cart") is not what it asks for
        # Prefer spans near the words the question asks about.
        distance = _distance_to_terms(sentence, start, end, lowered_q, stem)
        score = (distance, start)
        if best_score is None or score < best_score:
            best, best_score = phrase, score
    return best


def _distance_to_terms(sentence: str, start: int, end: int, terms: set[str], stem) -> int:
    """Characters between the span and the nearest question word (0 when the span holds one)."""
    best = len(sentence)
    for m in re.finditer(r"[\w'-]+", sentence):
        if stem(m.group().lower()) in terms:
            best = min(best, 0 if start <= m.start() < end else
                       min(abs(m.start() - start), abs(m.start() - end)))
    return best


_SPLIT = re.compile(
    r"\s*(?:\?\s+|,?\s+and\s+(?:(?:in|on|at|for|by|from|to|since|with)\s+)?"
    r"(?=(?:what|who|whom|whose|when|where|why|how|which|did|does|do|is|"
    r"are|was|were|has|have)\b)|;\s+)", re.I)
_PART_REF = re.compile(r"\b(he|she|him|his|her|it|its|they|them|their|there|that|this)\b", re.I)
_TOPIC_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_FRAME = frozenset("what which who whom whose when where why how did does do is are was were has "
                   "have the a an of in on at to for by and or many much".split())


def split_parts(question: str, borrowed: str = "") -> list[tuple[str, str]]:
    """'When did it start and who ordered it?' -> [('When did it start', ''), ('who ordered it?',
    'it start')]: each part's own words and the words it borrows.

    A later part that refers back ("and which country does he name") borrows the first part's
    words; every part keeps what the whole question borrowed from the conversation.
    """
    parts = [p.strip() for p in _SPLIT.split(question) if p and len(p.split()) >= 2]
    if len(parts) <= 1:
        return [(question, borrowed)]
    topic = " ".join(w for w in _TOPIC_WORD.findall(parts[0]) if w.lower() not in _FRAME)
    out = [(parts[0], borrowed)]
    for p in parts[1:]:
        extra = f"{topic} {borrowed}".strip() if topic and _PART_REF.search(p) else borrowed
        out.append((p, extra))
    return out
