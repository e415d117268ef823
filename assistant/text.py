"""Word-level text helpers shared by BM25 and sentence scoring: tokens, stems, stopwords."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)

STOPWORDS = frozenset("""
a an the and or but if then than so as of at by for from in into on onto to with without within
about above after again against all also am any are aren't around be because been before being
below between both can could did do does doing done down during each either else ever every few
further had has have having he her here hers herself him himself his how i i'd i'm is isn't it
it's its itself just me more most my myself no nor not now of off once only other our ours
ourselves out over own same she should some such that that's their theirs them themselves there
these they this those through too under until up upon very was wasn't we were what when where
which while who whom whose why will would you your yours yourself yourselves
tell told say said says according article articles story report text please know mention mentioned
mentions describe described many much one ones did does sort sorts kind kinds
see sees saw seen get gets got go goes went
""".split())

# Bump when tokens, stems, stopwords or synonyms change: anything that saved the terms of a
# text (the saved CorpusIndex) must then compute them again.
TEXT_VERSION = "5"

# Question words carry the expected answer type, not content to match.
QUESTION_WORDS = frozenset("what which who whom whose when where why how".split())


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')


# Letters that NFKD does not take apart into a base letter and an accent.
_PLAIN = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i",
                        "þ": "th", "ð": "d"})


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """A word without its accents: readers type "Trebic" and "Dolezal" for Třebíč and Doležal."""
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word.translate(_PLAIN))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The lower-case words of a text, accents folded away."""
    return [fold(w) for w in _WORD.findall(normalize(text))]


# Plurals the suffix rules would merge with another word: "six lives" (deaths) is not "live".
_IRREGULAR = {"lives": "life", "wives": "wife", "knives": "knife", "halves": "half"}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper: enough to meet 'troops'/'troop', 'killed'/'kill', 'talks'/'talk'."""
    w = word.replace("'", "")
    if w in _IRREGULAR:
        return stem(_IRREGULAR[w])
    if w.endswith("s'") or len(w) <= 3:
        return w
    for suffix, keep in (("ational", "ate"), ("iveness", "ive"), ("fulness", "ful"),
                         ("ousness", "ous"), ("ization", "ize"), ("isation", "ize"),
                         ("ations", ""), ("ation", ""), ("ating", ""), ("ated", ""), ("ates", ""),
                         ("ements", "e"), ("ement", "e"), ("ments", ""), ("ment", ""),
                         ("ities", ""), ("ity", ""), ("ness", ""), ("ingly", ""), ("edly", ""),
                         ("ings", ""), ("ing", ""), ("ies", "y"), ("ied", "y"), ("ers", ""),
                         ("er", ""), ("tors", "t"), ("tor", "t"), ("ed", ""), ("es", ""),
                         ("ly", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: len(w) - len(suffix)] + keep
    # "accuse"/"accusation"/"accused" and "operate"/"operation" meet at one stem.
    if w.endswith("ate") and len(w) >= 7:
        return w[:-3]
    if w.endswith("e") and len(w) >= 4:
        return w[:-1]
    return w


# Words a reader uses for what news copy says otherwise, mapped (after stemming) to one stem so
# that "killed" meets "lives", "truce" meets "ceasefire". Only plain synonyms in news usage.
_SYNONYM_GROUPS = (
    "kill die died dead death fatal",
    "ceasefire truce",
    "talk negotiation",
    "protest demonstrat protestor demonstration rally",
    "troop soldi forc",
    "refuge evacue",
    "attack offensive assault",
    "strike hit target",
    "equipment machinery hardware",
    "shell bombard bomb",
    "aid relief",
    "hurt injur wound injury",
    "price pric cost",
)
SYNONYMS = {form: group.split()[0] for group in _SYNONYM_GROUPS for w in group.split()
            for form in (w, stem(w))}


def canonical(term: str) -> str:
    return SYNONYMS.get(term, term)


@lru_cache(maxsize=65536)
def term_stem(word: str) -> str:
    """The stem a word is compared in, synonyms folded (as content_terms does)."""
    return canonical(stem(word))


def content_terms(text: str) -> list[str]:
    """Stems of the words that carry meaning (no stopwords, no question words)."""
    return [canonical(stem(w)) for w in words(text)
            if w not in STOPWORDS and w not in QUESTION_WORDS]


def proper_terms(texts: list[str]) -> set[str]:
    """The terms the texts capitalise where a sentence does not make them: names ("Kovačič",
    "Baku", "Jihlava"). A reader who types "who is kovacic" in lower case still names someone."""
    return ProperCounts.of(texts).terms()


@dataclass(frozen=True)
class ProperCounts:
    """For each term, how often the texts write it past a sentence's first word (`seen`) and how
    often capitalised there (`capitalised`): counts add up over texts, so a corpus that gains or
    loses articles updates them by the articles' own counts, not by recounting everything."""

    capitalised: Counter[str]
    seen: Counter[str]

    @classmethod
    def of(cls, texts: list[str]) -> ProperCounts:
        capitalised: Counter[str] = Counter()
        seen: Counter[str] = Counter()
        for text in texts:
            found = _WORD.findall(text)
            if sum(w[:1].isupper() for w in found) > 0.6 * len(found):
                continue  # a headline in title case capitalises everything
            after_start = False
            for w in found:
                low = fold(normalize(w))
                if low not in STOPWORDS and low not in QUESTION_WORDS and not w.isdigit():
                    term = canonical(stem(low))
                    if after_start:
                        seen[term] += 1
                        capitalised[term] += w[:1].isupper()
                after_start = True
        return cls(capitalised, seen)

    def terms(self) -> set[str]:
        return {t for t, n in self.capitalised.items() if n and n >= 0.6 * self.seen[t]}

    def plus(self, other: ProperCounts) -> ProperCounts:
        return ProperCounts(self.capitalised + other.capitalised, self.seen + other.seen)

    def minus(self, other: ProperCounts) -> ProperCounts:
        return ProperCounts(self.capitalised - other.capitalised, self.seen - other.seen)

    def to_json(self) -> dict:
        return {"capitalised": dict(self.capitalised), "seen": dict(self.seen)}

    @classmethod
    def from_json(cls, data: dict) -> ProperCounts:
        return cls(Counter(data["capitalised"]), Counter(data["seen"]))


def match_words(text: str) -> list[str]:
    """The distinct words of a text that carry meaning, unstemmed (no stopwords, question words
    or bare numbers): what answering/wordsim.py gives vectors to."""
    return list(dict.fromkeys(w for w in words(text) if w not in STOPWORDS
                              and w not in QUESTION_WORDS and not w.isdigit()))


def bm25_tokens(text: str) -> list[str]:
    return [stem(w) for w in words(text) if w not in STOPWORDS]
