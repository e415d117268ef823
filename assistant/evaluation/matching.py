"""Text normalisation and the string comparisons every metric is built on (pure functions)."""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable

_QUOTES = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
    "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\ufe58": "-", "\ufe63": "-", "\uff0d": "-",
})
_SPACE = re.compile(r"\s+")
# The answerer may put citation markers like "[1]" or "[1, 2]" into the text; they are not
# part of what was said and would otherwise split an answer string in two.
_MARKERS = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans({ch: " " for ch in string.punctuation})


def normalize(text: str) -> str:
    """NFKC, one kind of quote and dash, lower case, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    return _SPACE.sub(" ", text).strip()


def strip_markers(text: str) -> str:
    """The answer text without inline citation markers."""
    return _MARKERS.sub("", text)


def contains(haystack: str, needle: str) -> bool:
    """Whether `needle` occurs in `haystack` after normalising both; an empty needle never does."""
    needle = normalize(needle)
    return bool(needle) and needle in normalize(haystack)


def answer_matches(text: str, answers: Iterable[str], answers_all: Iterable[str]) -> bool:
    """Any of `answers` (if given) and all of `answers_all` occur in the answer text."""
    text = strip_markers(text)
    answers, answers_all = list(answers), list(answers_all)
    any_ok = not answers or any(contains(text, gold) for gold in answers)
    all_ok = all(contains(text, gold) for gold in answers_all)
    return any_ok and all_ok


def is_evidence(sentence: str, evidence: Iterable[str]) -> bool:
    """A cited sentence is evidence when it contains an evidence string or lies inside one."""
    return any(contains(sentence, item) or contains(item, sentence) for item in evidence)


def gold_answers(answers: Iterable[str], answers_all: Iterable[str]) -> list[str]:
    """The strings F1 compares against: each of `answers`, and `answers_all` read together."""
    golds = list(answers)
    answers_all = list(answers_all)
    if answers_all:
        golds.append(" ".join(answers_all))
    return golds


def _tokens(text: str) -> list[str]:
    # SQuAD's answer normalisation on top of ours: no punctuation, no articles.
    text = normalize(strip_markers(text)).translate(_PUNCT)
    return _ARTICLES.sub(" ", text).split()


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD token F1 between two strings."""
    pred, ref = _tokens(prediction), _tokens(gold)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_f1(prediction: str, golds: Iterable[str]) -> float:
    """Token F1 against the closest gold answer (0 when there is none)."""
    return max((token_f1(prediction, gold) for gold in golds), default=0.0)
