"""Suggested questions made offline from an article's own sentences, with simple templates.

Each template turns one kind of sentence into a question that sentence answers: a quantity
("... attended by about 3,000 residents" -> "... attended by how many residents?"), a quoted
person ("What did Elena Ruiz say?"), a year ("What happened in 2021?"). Deterministic: the same
article always gives the same questions.
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
_SAID = re.compile(rf"\b(?P<a>{_NAME}) said\b|\bsaid (?P<b>{_NAME})\b")
_ROLE = re.compile(
    rf"\b(?i:minister|president|mayor|secretary|secretary-general|engineer|spokesperson|spokesman|"
    rf"spokeswoman|chief|leader|director|governor|ambassador|chancellor|commander|founder|CEO)"
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
            by_kind["said"].append(f"What did {m.group('a') or m.group('b')} say?")
        for m in _ROLE.finditer(text):
            by_kind["who"].append(f"Who is {m.group('name')}?")
        for pattern in (_YEAR, _WEEKDAY):
            m = pattern.search(text)
            if m:
                by_kind["when"].append(f"What happened {m.group(0)}?")
    # Interleave the kinds so a few suggestions cover different things.
    ordered = _round_robin(by_kind.values())
    return list(dict.fromkeys(ordered))


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
    if not 2 <= len(words) <= _MAX_PREFIX_WORDS or any(ch in prefix for ch in "\"\u201c\u201d;:"):
        return None
    noun = m.group("noun")
    if noun.split()[-1].lower() in _MONEY:
        return f"{prefix[0].upper()}{prefix[1:]} how much?"
    return f"{prefix[0].upper()}{prefix[1:]} how many {noun}{m.group('adj') or ''}?"


def _round_robin(groups: Iterable[list[str]]) -> list[str]:
    groups = [list(g) for g in groups]
    out = []
    while any(groups):
        for g in groups:
            if g:
                out.append(g.pop(0))
    return out
