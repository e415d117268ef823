"""What a question asks for (a number, a date, a person, a place) and where that is in a sentence."""

from __future__ import annotations

import re

NUMBER, DATE, PERSON, PLACE, OTHER = "number", "date", "person", "place", "other"

_NUMBER_Q = re.compile(
    r"\bhow (many|much|far|long|old|big|large|high|tall)\b|\b(what|which) (number|percentage|"
    r"share|proportion|amount|distance|population|size|figure|total)\b|\bhow many\b", re.I)
_DATE_Q = re.compile(r"\bwhen\b|\b(what|which) (year|day|date|month|time|decade|century|era)\b"
                     r"|\bsince when\b|\bhow long ago\b", re.I)
_PERSON_Q = re.compile(r"\bwhom?\b|\b(what|which) (official|minister|leader|person|president|"
                       r"spokesperson|spokesman|spokeswoman|man|woman)\b|\bname of the\b", re.I)
_PLACE_Q = re.compile(r"\bwhere\b|\b(what|which) (city|town|village|country|region|place|"
                      r"location|capital|province|district|area|street)\b|\bin which\b", re.I)

_NUM_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
              "thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|"
              "thousands|million|millions|billion|dozen|dozens|half")
_QUANT = r"(?:(?:approximately|about|around|almost|nearly|some|roughly|more than|over|at least|" \
         r"up to|fewer than|less than|an estimated|a mere|only)\s+)?"
NUMBER_SPAN = re.compile(
    rf"\b{_QUANT}(?:\d[\d,.]*\d|\d)(?:\s*(?:%|per ?cent|million|billion|thousand))?"
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
    rf"|(?:19|20)\d{{2}}s?"
    rf"|(?i:earlier|later|last|next|this) (?:week|month|year|weekend|spring|summer|autumn|winter)"
    rf"|(?i:yesterday|today|tomorrow)"
    rf"|(?:the )?(?:past|last|next) (?:\w+ )?(?:days?|weeks?|months?|years?)"
    rf"|(?:(?:the )?(?:past|last|next) )?(?:\w+ )?(?:days?|weeks?|months?|years?) (?:ago|earlier|later))\b")
_CAP = r"[A-Z][\w'’-]+"
NAME_SPAN = re.compile(rf"\b{_CAP}(?:\s+(?:{_CAP}|de|van|von|al|bin)){{1,5}}\b")
_SINGLE_CAP = re.compile(rf"(?<![.!?]\s)\b{_CAP}")
PLACE_SPAN = re.compile(rf"\b(?:in|at|near|from|to|of|outside)\s+(?:the\s+)?({_CAP}(?:[\s-]+{_CAP}){{0,2}})")


def answer_type(question: str) -> str:
    if _NUMBER_Q.search(question):
        return NUMBER
    if _DATE_Q.search(question):
        return DATE
    if _PERSON_Q.search(question):
        return PERSON
    if _PLACE_Q.search(question):
        return PLACE
    return OTHER


def spans_of(kind: str, sentence: str) -> list[tuple[int, int]]:
    """Character spans in the sentence that could answer a question of this kind."""
    if kind == NUMBER:
        found = [m.span() for m in NUMBER_SPAN.finditer(sentence)]
        # A bare year is a date, not a count.
        return [s for s in found if not re.fullmatch(r"(?:19|20)\d\d", sentence[s[0]:s[1]].strip())]
    if kind == DATE:
        return [m.span() for m in DATE_SPAN.finditer(sentence)]
    if kind == PERSON:
        # Full names, or a single proper noun inside the sentence (an agency, a capital).
        spans = [m.span() for m in NAME_SPAN.finditer(sentence)]
        spans += [m.span() for m in _SINGLE_CAP.finditer(sentence) if m.start() > 0
                  and not any(a <= m.start() < b for a, b in spans)]
        return spans
    if kind == PLACE:
        return [m.span(1) for m in PLACE_SPAN.finditer(sentence)]
    return []


def key_phrase(kind: str, sentence: str, question_terms: set[str], stem) -> str | None:
    """The span of the sentence that answers the question, preferring ones the question lacks."""
    best, best_score = None, None
    lowered_q = question_terms
    for start, end in spans_of(kind, sentence):
        phrase = sentence[start:end].strip(" ,;:")
        words = [stem(w.lower()) for w in re.findall(r"[^\W_]+", re.sub(r"['’]s\b", "", phrase))]
        if words and all(w in lowered_q for w in words):
            continue  # the question already says this: not the answer
        # Prefer spans near the words the question asks about.
        distance = _distance_to_terms(sentence, start, lowered_q, stem)
        score = (distance, start)
        if best_score is None or score < best_score:
            best, best_score = phrase, score
    return best


def _distance_to_terms(sentence: str, pos: int, terms: set[str], stem) -> int:
    best = len(sentence)
    for m in re.finditer(r"[\w'-]+", sentence):
        if stem(m.group().lower()) in terms:
            best = min(best, abs(m.start() - pos))
    return best


_SPLIT = re.compile(
    r"\s*(?:\?\s+|,?\s+and\s+(?=(?:what|who|whom|whose|when|where|why|how|which|did|does|do|is|"
    r"are|was|were|has|have)\b)|;\s+)", re.I)


def split_parts(question: str) -> list[str]:
    """'When did it start and who ordered it?' -> ['When did it start', 'who ordered it?']."""
    parts = [p.strip() for p in _SPLIT.split(question) if p and len(p.split()) >= 2]
    return parts if len(parts) > 1 else [question]
