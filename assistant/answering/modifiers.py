"""Which name a noun is tied to, in the question and in a sentence, found without a parser.

"Who is the president of Armenia?" is not answered by "Azerbaijan's President Aliyev", nor "how
many civilians did Azerbaijani soldiers relocate" by "500 civilians relocated by Russian
soldiers": the sentence holds every word asked about, but the noun the question ties a name to
carries another name. A name is tied to a noun by standing right before it ("Russian soldiers",
"Armenia's president") or right after its "of" ("the president of Armenia"), with nothing but a
space between (a comma ends the tie: "Teatro Amazonas, opened").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from ..text import QUESTION_WORDS, STOPWORDS, term_stem

NO_TIES, AGREES, CLASHES = -1.0, 0.0, 1.0
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*")
_POSSESSIVE = ("'s", "’s", "'", "’")


@dataclass(frozen=True)
class _Word:
    text: str   # without a possessive ending
    stem: str
    capital: bool
    joined: bool  # only a space before it, and a word before that


def _words(text: str) -> list[_Word]:
    out, end = [], None
    for m in _TOKEN.finditer(text):
        word = m.group()
        for ending in _POSSESSIVE:
            if word.endswith(ending):
                word = word[: -len(ending)]
                break
        joined = end is not None and text[end:m.start()] == " "
        out.append(_Word(word, term_stem(word.lower()), word[:1].isupper(), joined))
        end = m.end()
    return out


def _name_stems(word: _Word) -> set[str]:
    """A name's stems, each part of a hyphenated one too ("Saffir-Simpson")."""
    return {word.stem} | {term_stem(p.lower()) for p in word.text.split("-") if p}


def _content(word: _Word) -> bool:
    low = word.text.lower()
    return len(low) >= 3 and low.isalpha() and low not in STOPWORDS and low not in QUESTION_WORDS


def question_ties(question: str, is_name: Callable[[str], bool],
                  verbs: Collection[str]) -> tuple[set[tuple[str, str]], set[str]]:
    """(noun stem, name stem) for each name the question ties to a noun, and the stems of every
    name it holds. `is_name` says whether a stem names someone or something (questions are often
    typed in lower case); `verbs`: the question's verbs (predicate.question_verbs), which a name
    stands before as their subject, not as a modifier ("did Eagle land")."""
    words = _words(question)
    names = {s for w in words if w.text.isalpha() and is_name(w.stem) for s in _name_stems(w)}
    ties = set()
    for i, w in enumerate(words):
        if w.stem not in names:
            continue
        nxt = words[i + 1] if i + 1 < len(words) else None
        if nxt and nxt.joined and _content(nxt) and nxt.stem not in names and nxt.stem not in verbs:
            ties.add((nxt.stem, w.stem))                            # "azerbaijani soldiers"
        j = i - 2 if i >= 2 and words[i - 1].stem == "the" and words[i - 1].joined else i - 1
        if (j >= 1 and words[j].stem == "of" and words[j].joined and words[j + 1].joined
                and w.joined and _content(words[j - 1]) and words[j - 1].stem not in verbs):
            ties.add((words[j - 1].stem, w.stem))                   # "president of armenia"
    return ties, names


def _same_name(a: str, b: str) -> bool:
    """One name, or one told as a people or an adjective ("armenia", "armenian")."""
    short = min(len(a), len(b))
    keep = max(4, short - 1)
    return a == b or short >= 4 and a[:keep] == b[:keep]


def _run_before(words: list[_Word], k: int, is_name: Callable[[str], bool]) -> list[_Word]:
    """The capitalised words right before word k ("Saffir-Simpson Hurricane Wind" Scale)."""
    run = []
    while k > 0 and words[k].joined and words[k - 1].capital and (k - 1 > 0 or is_name(words[0].stem)):
        k -= 1
        run.append(words[k])
    return run


def _run_after(words: list[_Word], k: int) -> list[_Word]:
    run = []
    while k < len(words) and words[k].joined and words[k].capital:
        run.append(words[k])
        k += 1
    return run


def tie_clash(ties: Collection[tuple[str, str]], names: Collection[str], sentence: str,
              is_name: Callable[[str], bool]) -> float:
    """CLASHES when every mention in the sentence of a noun the question ties a name to is tied to
    other names, none of them one the question holds; AGREES otherwise; NO_TIES when the question
    ties none. A capital marks a name, except on the sentence's first word (there `is_name`)."""
    if not ties:
        return NO_TIES
    words = _words(sentence)
    for noun, _ in ties:
        mentions = [k for k, w in enumerate(words) if w.stem == noun]
        if not mentions:
            continue
        tied_to = []
        for k in mentions:
            run = _run_before(words, k, is_name)
            if k + 1 < len(words) and words[k + 1].stem == "of" and words[k + 1].joined:
                at = k + 2
                if at < len(words) and words[at].stem == "the" and words[at].joined:
                    at += 1
                run += _run_after(words, at)
            tied_to.append({s for w in run for s in _name_stems(w)})
        if any(not found for found in tied_to):
            continue  # a mention with no name tied: the sentence may be about the one asked
        if all(not any(_same_name(t, n) for t in found for n in names) for found in tied_to):
            return CLASHES
    return AGREES
