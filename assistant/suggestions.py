"""Suggested questions made offline from an article's own sentences, by rules (no model).

Each rule turns one kind of sentence into a question, question word first, that the sentence
answers: a quantity ("The region houses about 120,000 ethnic Armenians" -> "How many ethnic
Armenians does the region house?"), a quoted person ("What did Elena Ruiz say?"), a year ("What
happened in 2021?"). A sentence whose grammar the rules cannot turn round gives no question
rather than a fill-in template. Deterministic: the same article always gives the same questions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from .types import Document

_HEDGE = r"(?:(?:about|approximately|around|almost|nearly|some|roughly|more than|over|up to|at least)\s+)?"
_QUANTITY = re.compile(
    rf"\b{_HEDGE}\d[\d,]*(?:\.\d+)?(?:\s+(?:million|billion|thousand|hundred))?"
    r"\s+(?P<noun>(?:[a-z][\w-]*\s+){0,2}?[A-Za-z][\w-]*?s)\b(?P<adj>\s+(?:long|wide|high|tall|deep|old))?")
_MONEY = {"euros", "dollars", "pounds", "francs", "yen", "rubles", "roubles", "manats", "drams"}
_NAME = r"[A-Z][a-z]+(?:[ -][A-Z][a-z]+){1,2}"
_SAID = re.compile(rf"\b(?P<a>{_NAME}),? (?:who )?(?:said|told|urged|warned|alleged|announced|stated|"
                   rf"argued|insisted|added)\b|\bsaid (?P<b>{_NAME})\b")
_ROLE = re.compile(
    rf"\b(?i:minister|president|mayor|secretary|secretary-general|engineer|spokesperson|spokesman|"
    rf"spokeswoman|chief|leader|director|governor|ambassador|chancellor|commander|founder|CEO|master|"
    rf"manager|officer|head|chairman|chairwoman|chair|captain|coach|professor|curator|analyst|"
    rf"economist|historian|prosecutor|judge|senator|councillor|official|researcher|scientist)"
    rf"\s+(?P<name>{_NAME})\b")
_YEAR = re.compile(r"\bin ((?:19|20)\d\d)\b(?!s)")
_WEEKDAY = re.compile(r"\bon (Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
_LEADING_LINK = re.compile(r"^(?:but|and|however|meanwhile|still|yet)\b,?\s*", re.I)
_MAX_PREFIX_WORDS = 14


def candidate_questions(doc: Document) -> list[str]:
    """Questions the article's sentences answer, best kinds first, without repeats."""
    by_kind: dict[str, list[str]] = {"quantity": [], "who": [], "said": [], "when": []}
    for sentence in doc.sentences[1:]:  # the first "sentence" is the headline
        text = sentence.text
        q = _quantity_question(text)
        if q:
            by_kind["quantity"].append(q)
        m = _SAID.search(text)
        if m:
            name = _untitled(m.group("a") or m.group("b"))
            if name:
                by_kind["said"].append(f"What did {name} say?")
        for m in _ROLE.finditer(text):
            by_kind["who"].append(f"Who is {m.group('name')}?")
        for pattern in (_YEAR, _WEEKDAY):
            m = pattern.search(text)
            if m:
                by_kind["when"].append(f"What happened {m.group(0)}?")
    # Interleave the kinds so a few suggestions cover different things.
    ordered = _round_robin(by_kind.values())
    return list(dict.fromkeys(ordered))


_TITLE = re.compile(r"^(?:(?:Prime|Deputy|Foreign|Vice|Minister|President|Mayor|Councillor|Governor|"
                    r"Senator|Chancellor|General|Secretary|Chief|Director|Dr|Mr|Mrs|Ms|Sir|Dame|"
                    r"Professor|Judge|Captain|Coach)\.?\s+)+")


def _untitled(name: str) -> str | None:
    """"Minister Nikol Pashinyan" -> "Nikol Pashinyan"; None when no name is left."""
    name = _TITLE.sub("", name)
    return name if " " in name else None


def suggest(doc: Document, n: int = 4, answerable: Callable[[str], bool] | None = None) -> list[str]:
    """Up to `n` suggested questions about `doc`; `answerable` (if given) filters out the duds."""
    out: list[str] = []
    for q in candidate_questions(doc):
        if answerable is None or answerable(q):
            out.append(q)
        if len(out) >= n:
            break
    return out


def _quantity_question(sentence: str) -> str | None:
    m = _QUANTITY.search(sentence)
    if not m:
        return None
    prefix = _LEADING_LINK.sub("", sentence[: m.start()].strip().rstrip(","))
    words = prefix.split()
    if not 2 <= len(words) <= _MAX_PREFIX_WORDS or any(ch in prefix for ch in "\"\u201c\u201d;:,"):
        return None
    noun = m.group("noun")
    if any(w.lower() in _PREPOSITION | _PRONOUN | {"his", "her", "its", "their"} for w in noun.split()):
        return None  # "... 2 study of his ...": not a counted noun
    asks = "How much" if noun.split()[-1].lower() in _MONEY else f"How many {noun}{m.group('adj') or ''}"
    rest = _turned(words, money=asks == "How much", measure=bool(m.group("adj")))
    return f"{asks} {rest}?" if rest else None


_AUX = {"is", "are", "was", "were", "has", "have", "had", "will", "would", "can", "could"}
_PREPOSITION = {"of", "to", "in", "at", "for", "from", "with", "about", "by", "on", "than", "up",
                "and", "or", "but", "some", "around", "nearly", "almost"}
_DETERMINER = {"the", "a", "an", "this", "that", "these", "those", "its", "their", "his", "her", "our"}
_IRREGULAR_PAST = {
    "drew": "draw", "cost": "cost", "had": "have", "made": "make", "took": "take", "saw": "see",
    "gave": "give", "left": "leave", "brought": "bring", "sold": "sell", "built": "build",
    "spent": "spend", "won": "win", "lost": "lose", "paid": "pay", "held": "hold", "kept": "keep",
    "sent": "send", "got": "get", "put": "put", "cut": "cut", "hit": "hit", "fell": "fall",
    "rose": "rise", "grew": "grow", "ran": "run", "met": "meet", "found": "find", "became": "become",
    "came": "come", "went": "go", "raised": "raise", "bought": "buy", "wrote": "write", "told": "tell",
    "led": "lead", "fed": "feed", "drove": "drive", "flew": "fly", "shot": "shoot", "struck": "strike",
}
_IRREGULAR_PRESENT = {"has": "have", "does": "do", "goes": "go", "is": "be"}
# Stems that lost a final "e" before "-ed" or "-es" ("relocated", "housed", "received").
_E_STEM = re.compile(r"(?:[^aeiou]at|[^aeo]iz|[^aeiou]ut|v|c|[^aeiou]g|[aiu]s|ur|[^aeiou]l|ir|ar|or|"
                     r"[^aeiou]id|[^aeiou]ud|[^aeiou]od|[^aeiou]ok|[aeiou]m|[^aeiou]in|rs|ns)$")


def _turned(words: list[str], *, money: bool, measure: bool = False) -> str | None:
    """The words before the number, turned round to follow "How many N": "the bridge is" ->
    "is the bridge", "the region houses" -> "does the region house"; None when unsure."""
    last = words[-1].lower()
    if last in _PREPOSITION and not (last == "by" and len(words) >= 3):
        return None  # "... winds of up to 180": no question reads well from that
    if last == "by":  # "a ceremony attended by 3,000 residents" -> "attended the ceremony"
        verb = words[-2]
        start = max((i for i, w in enumerate(words[:-2]) if w.lower() in {"a", "an", "the"}), default=None)
        if (not verb.lower().endswith("ed") or start is None or len(words) - 2 - start > 4
                or not _looks_like_subject(words[start:-2])):
            return None
        return " ".join([verb.lower(), "the", *words[start + 1:-2]])
    aux = next((i for i, w in enumerate(words) if w.lower() in _AUX), None)
    if aux is not None and aux >= 1 and _looks_like_subject(words[:aux]):
        subject = _subject(words[:aux])
        rest = words[aux + 1:]
        if (not rest and money) or len(rest) > 3 or [w.lower() for w in rest] == ["been"] or any(
                w.lower() in _PREPOSITION | _ADVERB | {"every", "each"} for w in rest):
            return None
        if not rest and words[aux].lower() in _HAVE:  # "the octopus has 500 million neurons"
            return " ".join([_HAVE[words[aux].lower()], subject, "have"])
        return " ".join([words[aux].lower(), subject, *rest])
    if measure or len(words) < 2 or not _looks_like_subject(words[:-1]):
        return None
    verb = _base_form(last)
    if verb is None:
        return None
    tense, lemma = verb
    return " ".join([tense, _subject(words[:-1]), lemma])


def _looks_like_subject(words: list[str]) -> bool:
    """A short noun phrase: a determiner and its noun ("the restored mill"), or a name ("Dartside").
    A capitalised common word opening the sentence ("Tickets now cost") does not count."""
    if not 1 <= len(words) <= 6 or words[0].lower() in _PRONOUN:
        return False
    lowered = [w.lower() for w in words]
    if any(w in _AUX or w in _PREPOSITION - {"of"} or w in _ADVERB or w.endswith("ly")
           or w in _CLAUSE for w in lowered) or any(w in _PRONOUN | _DETERMINER for w in lowered[1:]
                                                    if w not in {"the", "a", "an"}):
        return False
    if lowered[0] in _DETERMINER:
        return len(words) >= 2 and lowered[-1] not in _DETERMINER
    # A lone capitalised plural opening the sentence is a common noun ("Temperatures reached").
    return (all(w[:1].isupper() or w == "of" for w in words)
            and not (len(words) == 1 and lowered[0].endswith("s") and not lowered[0].endswith("ss")))


_PRONOUN = {"he", "she", "it", "they", "we", "i", "you", "there", "this", "that", "these", "those"}
_HAVE = {"has": "does", "have": "do", "had": "did"}
_CLAUSE = {"said", "says", "say", "told", "which", "who", "whose", "where", "when", "whom"}
_ADVERB = {"also", "now", "still", "then", "already", "just", "only", "even", "today", "later"}


def _subject(words: list[str]) -> str:
    first = words[0].lower() if words[0].lower() in _DETERMINER else words[0]
    return " ".join([first, *words[1:]])


def _base_form(verb: str) -> tuple[str, str] | None:
    """("does" | "did", the verb's base form) for a present or past verb; None if it is neither."""
    if verb in _IRREGULAR_PAST:
        return "did", _IRREGULAR_PAST[verb]
    if verb in _IRREGULAR_PRESENT:
        return "does", _IRREGULAR_PRESENT[verb]
    if verb.endswith("ed") and len(verb) > 4:
        stem = verb[:-2]
        if stem.endswith("i"):
            return "did", stem[:-1] + "y"
        if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] in "bdgmnprt":
            return "did", stem[:-1]
        return "did", stem + "e" if _E_STEM.search(stem) else stem
    if verb.endswith("s") and not verb.endswith(("ss", "us", "is")) and len(verb) > 3:
        if verb.endswith("ies"):
            return "does", verb[:-3] + "y"
        if verb.endswith(("ches", "shes", "xes", "sses", "zzes", "oes")):
            return "does", verb[:-2]
        return "does", verb[:-1]
    return None


def _round_robin(groups: Iterable[list[str]]) -> list[str]:
    groups = [list(g) for g in groups]
    out = []
    while any(groups):
        for g in groups:
            if g:
                out.append(g.pop(0))
    return out
