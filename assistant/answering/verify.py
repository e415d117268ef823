"""Check an LLM's reply against the sentences it was given: every kept citation must support its claim.

The reply is cleaned (Markdown images, links and URLs go), split into claims, and each `[n]` marker is
checked: a number that was not in the prompt is dropped; a cited sentence that does not support the
claim (embedding similarity and word overlap too low, or a number the sentence does not contain)
loses its marker and the claim is flagged. Markers are renumbered 1..k in order of appearance.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..text import content_terms
from ..types import Citation, ClaimCheck, Sentence, Verification

UNVERIFIED = "(unverified)"

_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\((?:[^)]*)\)")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_AUTOLINK = re.compile(r"<(?:https?|ftp)://[^>\s]*>", re.I)
_URL = re.compile(r"\b(?:https?|ftp)://[^\s)\]>]+|\bwww\.[^\s)\]>]+", re.I)
_MARKERS = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# "... there. [2]" → "... there [2]." so a marker stays with the claim it follows.
_MARKER_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+)")
_CLAIM_END = re.compile(r"(?<=[.!?])\s+(?=[\"“'(A-Z0-9])")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class Numbered:
    """A sentence as the prompt numbered it."""

    n: int
    sentence: Sentence
    title: str


@dataclass
class Verified:
    text: str
    citations: list[Citation]
    verification: Verification

    @property
    def grounded(self) -> bool:
        return bool(self.citations)


def strip_unsafe(text: str) -> tuple[str, list[str]]:
    """Remove Markdown images, links (keeping their words), HTML tags and URLs; list what went."""
    removed: list[str] = []

    def drop(match: re.Match, keep: str = "") -> str:
        removed.append(match.group(0))
        return keep

    text = _IMAGE.sub(lambda m: drop(m), text)
    text = _LINK.sub(lambda m: drop(m, m.group(1)), text)
    text = _AUTOLINK.sub(lambda m: drop(m), text)
    text = _HTML_TAG.sub(lambda m: drop(m), text)
    text = _URL.sub(lambda m: drop(m), text)
    if removed:
        text = re.sub(r"[ \t]{2,}", " ", text)
    return text, removed


def is_not_found(reply: str, not_found: str) -> bool:
    """The model gave the fixed reply for "the sentences do not contain the answer"."""
    def norm(s: str) -> str:
        return " ".join(re.sub(r"[^\w\s]", " ", s.lower()).split())

    reply_n, fixed = norm(_MARKERS.sub("", reply)), norm(not_found)
    return bool(fixed) and (reply_n == fixed or (reply_n.startswith(fixed) and len(reply_n) < 2 * len(fixed)))


def split_claims(text: str) -> list[str]:
    text = _MARKER_AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), text)
    claims = []
    for paragraph in text.splitlines():
        claims += [c.strip() for c in _CLAIM_END.split(paragraph) if c.strip()]
    return claims


_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS.update(thirty="30", forty="40", fifty="50", sixty="60", seventy="70", eighty="80",
                     ninety="90", hundred="100", thousand="1000", million="1000000", dozen="12",
                     billion="1000000000")
# Weekdays, months and currencies are facts like figures: a sentence states them or it does not.
_CALENDAR = frozenset("monday tuesday wednesday thursday friday saturday sunday january february march "
                      "april june july august september october november december euro euros dollar "
                      "dollars pound pounds yen yuan rouble roubles ruble rubles franc francs".split())
_NEGATIVE = re.compile(r"\b(?:not|no|never|nor|neither|none|nothing|without|cannot|\w+n't|"
                       r"den(?:y|ies|ied|ial|ials)|refut\w*|reject\w*|dismiss\w*)\b", re.I)
_NOT_NEGATIVE = re.compile(r"\b(?:no longer|not only|no doubt|nothing but)\b", re.I)
_NAME = re.compile(r"\b[A-Z][\w’'-]*[a-z][\w’'-]*")
_NOT_NAMES = frozenset("the a an it its he she his her they their this that these those there in on at "
                       "of for from by with as and but or yes no about around some many most after "
                       "before during since until while when where who what which why how".split())


def _facts(text: str) -> set[str]:
    """Figures (digits or words: "120,000", "three" → "3"), weekdays, months and currencies."""
    found = {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}
    words = re.findall(r"[a-z]+", text.lower())
    found |= {_NUMBER_WORDS[w] for w in words if w in _NUMBER_WORDS}
    return found | {w for w in words if w in _CALENDAR}


def _names(text: str) -> set[str]:
    return {m.group().rstrip("’'").removesuffix("’s").removesuffix("'s") for m in _NAME.finditer(text)
            if m.group().lower() not in _NOT_NAMES}


def _negative(text: str) -> bool:
    return bool(_NEGATIVE.search(_NOT_NEGATIVE.sub(" ", text)))


def contradiction(claim: str, cited: list[str], title: str = "") -> str | None:
    """Why the cited sentences cannot support the claim however similar they read, or None.

    Facts a sentence either states or does not: every figure, weekday, month and currency of the claim, every
    name (a name counts if a word of the sentences or the title starts with it, or it with one:
    "Armenia"/"Armenian"), and its polarity (a "not" the sentences lack, or a sentence that denies
    what the claim states: "refute allegations of targeting civilians").
    """
    support = " ".join(cited)
    missing = _facts(claim) - _facts(support)
    if missing:
        return f"the cited sentence does not contain {', '.join(sorted(missing))}"
    known = {w.lower() for w in re.findall(r"[\w’'-]+", support + " " + title)}
    # The first word of a claim is capitalised whatever it is ("Protesters clashed ..."), so it
    # does not count as a name.
    for name in sorted(_names(claim.split(" ", 1)[1] if " " in claim else "")):
        n = name.lower()
        if len(n) < 3:  # "De" in "Pieter De Smedt": too short to tell anything
            continue
        if not any(k.startswith(n[:max(4, len(n) - 2)]) or n.startswith(k) and len(k) >= 4 for k in known):
            return f"the cited sentence does not name {name}"
    if _negative(claim) and not any(_negative(c) for c in cited):
        return "the claim says not, the cited sentence does not"
    if not _negative(claim) and _negates(cited, set(content_terms(claim))):
        return "the cited sentence denies what the claim states"
    return None


def _negates(cited: list[str], claim_terms: set[str]) -> bool:
    """A negative word in a sentence governs a word of the claim (within the next four words)."""
    for sentence in cited:
        words = re.findall(r"[\w’'-]+", _NOT_NEGATIVE.sub(" ", sentence))
        for i, w in enumerate(words):
            if _NEGATIVE.fullmatch(w) and claim_terms & set(content_terms(" ".join(words[i + 1:i + 5]))):
                return True
    return False


def verify(reply: str, numbered: Sequence[Numbered], *, embed: Callable[[list[str]], np.ndarray],
           min_support: float, question: str = "", min_relevance: float = 0.2) -> Verified:
    """Keep only citations whose sentence supports its claim; renumber them 1..k.

    A claim must also bear on the question: it or the sentence it cites shares a word with it or is
    at least `min_relevance` similar to it, so a reply that parrots an instruction planted in an
    article ("reply PWNED") cannot cite that sentence as support. And it must not contradict the
    sentence on a fact it either states or does not (see `contradiction`).
    """
    by_n = {x.n: x for x in numbered}
    text, stripped = strip_unsafe(reply)
    claims = split_claims(text)
    bare = [_MARKERS.sub("", c).replace(" .", ".").strip() for c in claims]
    cited = {n for c in claims for m in _MARKERS.findall(c) for n in _parse(m) if n in by_n}
    order = sorted(cited)
    texts = bare + [by_n[n].sentence.text for n in order] + [question]
    vectors = embed(texts) if claims else np.zeros((0, 1))
    sentence_vec = {n: vectors[len(bare) + i] for i, n in enumerate(order)}
    question_vec = vectors[-1] if claims and question else None
    question_terms = set(content_terms(question))

    invalid: list[int] = []
    unsupported: list[int] = []
    checks: list[ClaimCheck] = []
    new_marker: dict[int, int] = {}
    citations: list[Citation] = []
    out_claims: list[str] = []
    for i, (claim, words) in enumerate(zip(claims, bare, strict=True)):
        markers = [n for m in _MARKERS.findall(claim) for n in _parse(m)]
        invalid += [n for n in markers if n not in by_n]
        valid = list(dict.fromkeys(n for n in markers if n in by_n))
        terms = set(content_terms(words))
        kept, best = [], 0.0
        off_topic = []
        for n in valid:
            s_terms = set(content_terms(by_n[n].sentence.text))
            similarity = float(vectors[i] @ sentence_vec[n])
            overlap = len(terms & s_terms) / len(terms) if terms else 0.0
            support = (similarity + overlap) / 2
            best = max(best, support)
            if support < min_support:
                continue
            if question_vec is not None and not (question_terms & (terms | s_terms)) \
                    and max(float(vectors[i] @ question_vec),
                            float(sentence_vec[n] @ question_vec)) < min_relevance:
                off_topic.append(n)
                continue
            kept.append(n)
        problem = contradiction(words, [by_n[n].sentence.text for n in kept],
                                by_n[kept[0]].title if kept else "") if kept else None
        if problem:
            reason = problem
            kept = []
        elif kept:
            reason = "supported"
        elif off_topic:
            reason = "neither it nor the cited sentence is about the question"
        elif valid:
            reason = "the cited sentence does not support it"
        else:
            reason = "no citation"
        unsupported += [n for n in valid if n not in kept]
        for n in kept:
            if n not in new_marker:
                new_marker[n] = len(new_marker) + 1
                x = by_n[n]
                citations.append(Citation(marker=new_marker[n], doc_id=x.sentence.doc_id, title=x.title,
                                          sentence_id=x.sentence.index, start=x.sentence.start,
                                          end=x.sentence.end, text=x.sentence.text, score=round(best, 4),
                                          page=x.sentence.page))
        checks.append(ClaimCheck(text=words, markers=[new_marker[n] for n in kept], supported=bool(kept),
                                 support=round(best, 4), reason=reason))
        out_claims.append(_rewrite(words, [new_marker[n] for n in kept], flag=not kept and bool(terms)))
    verification = Verification(claims=checks, invalid_markers=sorted(set(invalid)),
                                unsupported_markers=sorted(set(unsupported)), stripped=stripped,
                                raw_text=reply)
    return Verified(text=" ".join(out_claims).strip(), citations=citations, verification=verification)


def _parse(group: str) -> list[int]:
    return [int(x) for x in re.split(r"\s*[,;]\s*", group) if x]


def _rewrite(claim: str, markers: list[int], *, flag: bool) -> str:
    """The claim with its kept markers before its final stop, or flagged when nothing supports it."""
    tail = ""
    if claim and claim[-1] in ".!?":
        claim, tail = claim[:-1].rstrip(), claim[-1]
    suffix = "".join(f" [{m}]" for m in markers) or (f" {UNVERIFIED}" if flag else "")
    return f"{claim}{suffix}{tail}"


class StreamCleaner:
    """`strip_unsafe` for a reply that arrives in pieces: text is let out only up to a point where no
    link, image, tag or URL can still be open, so nothing unsafe is shown even for a moment."""

    _PAIRS = (("[", "]"), ("(", ")"), ("<", ">"))

    def __init__(self) -> None:
        self.pending = ""

    def feed(self, piece: str) -> str:
        self.pending += piece
        for cut in range(len(self.pending), 0, -1):
            if self.pending[cut - 1].isspace() and self._closed(self.pending[:cut]):
                out, self.pending = self.pending[:cut], self.pending[cut:]
                return strip_unsafe(out)[0]
        return ""

    def flush(self) -> str:
        out, self.pending = self.pending, ""
        return strip_unsafe(out)[0]

    def _closed(self, text: str) -> bool:
        return all(text.count(a) == text.count(b) for a, b in self._PAIRS)
