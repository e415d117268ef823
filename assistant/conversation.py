"""Turn a follow-up ("What did he accuse them of?") into a standalone question, without an LLM.

References are resolved from the latest turns: a person pronoun takes the most recent full name,
"there"/"that town" the most recent place, and any other follow-up borrows the topic words of the
previous question. The rewrite is what retrieval and answering see; the user's words are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .answering.analysis import NAME_SPAN, PLACE_SPAN, trim_name
from .text import STOPWORDS

_PERSON_PRONOUN = re.compile(r"\b(he|she|him|his|her|hers)\b", re.I)
_PLACE_REF = re.compile(r"\b(there|that (?:town|city|village|region|place|area|country|capital|"
                        r"enclave|corridor)|the (?:town|city|village|enclave|corridor))\b", re.I)
# A place the reader typed in lower case: only when nothing capitalised names one.
_LOWER_PLACE = re.compile(r"\b(?:in|at|near|outside)\s+(?:the\s+)?(?!(?:total|general|"
                          r"particular|fact|response|detail|public|time|the)\b)([a-z][\w'’-]{3,})\b")
_OTHER_REF = re.compile(r"\b(it|its|they|them|their|theirs|this|that|these|those|the same)\b", re.I)
_SHORT_FOLLOW = re.compile(r"^\s*(and|what about|how about|and what about|why|how so|really)\b", re.I)
_CAP_WORD = re.compile(r"\b[A-Z][\w'’-]{2,}\b")
_QUOTE = re.compile(r"\u201c[^\u201d]*\u201d|\"[^\"]*\"")
_TITLES = {"mayor", "minister", "president", "governor", "chief", "director", "councillor",
           "officer", "spokesman", "spokeswoman", "spokesperson", "secretary", "general", "prime",
           "deputy", "chairman", "chairwoman", "chair", "head", "professor", "dr", "mr", "mrs", "ms"}
_COMMON_CAPS = {"the", "this", "that", "these", "those", "what", "who", "when", "where", "why",
                "how", "which", "and", "but", "the articles do not say", "they", "earlier",
                "wednesday", "tuesday", "monday", "thursday", "friday", "saturday", "sunday"}


def message_text(content: Any) -> str:
    """History content as plain text: Gradio sends a string or a list of {'type','text'} parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(message_text(c) for c in content)
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    return "" if content is None else str(content)


# Only the latest turns say what a follow-up refers to; a longer history (a client may send
# megabytes) is cut to these before anything reads it.
MAX_HISTORY_TURNS = 12
MAX_TURN_CHARS = 4000


def normalise_history(history: Any) -> list[dict[str, str]]:
    """The last MAX_HISTORY_TURNS user/assistant turns as plain text, each cut to MAX_TURN_CHARS."""
    if not isinstance(history, list | tuple):
        return []
    out = []
    for turn in history[-MAX_HISTORY_TURNS:]:
        if not isinstance(turn, dict):
            continue
        role = turn.get("role")
        if role in ("user", "assistant"):
            out.append({"role": role, "content": message_text(turn.get("content"))[:MAX_TURN_CHARS]})
    return out


def _entities(text: str) -> tuple[list[str], list[str]]:
    """(full names, places) in order of appearance, names from outside quoted sentences first.

    A place is a capitalised word after "in/at/near/from/to/of" ("in Goris"), then any other
    capitalised word that is not part of a person's name or a title ("Mayor Elena Ruiz")."""
    lead = _QUOTE.split(text)[0] if _QUOTE.search(text) else text
    names = [m.group() for m in NAME_SPAN.finditer(lead)]
    names += [m.group() for m in NAME_SPAN.finditer(text) if m.group() not in names]
    in_names = {w for n in names if trim_name(n) for w in n.split()}
    after_preposition = [m.group(1) for m in PLACE_SPAN.finditer(text)]
    words = [w for w in after_preposition + _CAP_WORD.findall(text)
             if w.lower() not in _COMMON_CAPS and w.lower() not in STOPWORDS
             and w.lower() not in _TITLES and (w not in in_names or w in after_preposition)
             and trim_name(w)]  # not "Local" (journalist), "Armenian", "Tuesday"
    return names, list(dict.fromkeys(words))


# Chat shorthand readers type, spelled out so that the question's kind ("whos" asks for a person)
# and its words ("ppl", "govt") are recognised.
_SHORTHAND = {
    "whos": "who is", "whats": "what is", "wheres": "where is", "whens": "when is",
    "hows": "how is", "whys": "why is", "ppl": "people", "govt": "government",
    "gov't": "government", "govts": "governments", "bc": "because", "cuz": "because",
    "abt": "about", "approx": "approximately", "thru": "through", "yr": "year", "yrs": "years",
    "hrs": "hours", "mins": "minutes", "dept": "department", "intl": "international",
    "w/": "with", "w/o": "without", "u": "you", "ur": "your", "pls": "please", "plz": "please",
}
_SHORTHAND_RE = re.compile(r"(?<![\w'’/])(" + "|".join(
    re.escape(k) for k in sorted(_SHORTHAND, key=len, reverse=True)) + r")(?![\w'’/]|\.\w)", re.I)


def spell_out(question: str) -> str:
    """The question with chat shorthand ("whos", "ppl", "govt") written out."""
    return _SHORTHAND_RE.sub(lambda m: _SHORTHAND[m.group().lower()], question)


@dataclass(frozen=True)
class Standalone:
    """A question made standalone: its words with references resolved, and the topic words it
    borrows from the conversation (what it is about, not what it asks)."""

    text: str
    borrowed: str = ""

    def __str__(self) -> str:  # as shown to a reader ("how much (Leuven tram line cost)")
        return f"{self.text} ({self.borrowed})" if self.borrowed else self.text


def condense(question: str, history: list[dict[str, str]]) -> Standalone:
    """The question made standalone using the conversation so far."""
    question = spell_out(question)
    if not history:
        return Standalone(question)
    last_user = next((t["content"] for t in reversed(history) if t["role"] == "user"), "")
    last_bot = next((t["content"] for t in reversed(history) if t["role"] == "assistant"), "")
    rewritten = question
    if _PERSON_PRONOUN.search(question):
        names = _person_names(last_bot) + _person_names(last_user)
        # The one the reader just asked about comes first, however they typed it ("who is
        # laurence broers" -> "... South Caucasus ..., like Laurence Broers").
        names.sort(key=lambda n: n.lower() not in last_user.lower())
        if names:
            rewritten = _PERSON_PRONOUN.sub(lambda m: _possessive(names[0], m.group()), rewritten,
                                            count=1)
    if _PLACE_REF.search(rewritten):
        # The answer's lead ("Yevlakh — “...”") names the place best, then the question's words.
        places = (_entities(_lead(last_bot))[1] + _entities(last_user)[1] + _entities(last_bot)[1]
                  or [w for w in _LOWER_PLACE.findall(last_user)  # "the bombing in stepanakert"
                      if w not in STOPWORDS])
        if places:
            rewritten = _PLACE_REF.sub(f"in {places[0]}" if "there" in rewritten.lower()
                                       else places[0], rewritten, count=1)
            rewritten = rewritten.replace(f"in in {places[0]}", f"in {places[0]}")
    if rewritten == question and (_OTHER_REF.search(question) or _SHORT_FOLLOW.search(question)
                                  or len(question.split()) <= 4):
        return Standalone(question, _topic(last_user))
    return Standalone(rewritten)


def _lead(answer: str) -> str:
    return _QUOTE.split(answer)[0] if _QUOTE.search(answer) else ""


def _person_names(text: str) -> list[str]:
    """Full names without their titles: "Nikol Pashinyan", not "Armenian Prime Minister Nikol ..."."""
    names, _ = _entities(text)
    trimmed = [trim_name(n) for n in names if n.split()[0].lower() not in _COMMON_CAPS]
    return [n for n in trimmed if n and " " in n]


def _possessive(name: str, pronoun: str) -> str:
    return f"{name}'s" if pronoun.lower() in ("his", "hers") else name


def _topic(text: str) -> str:
    """The words of a previous question that say what it was about."""
    kept = [w for w in re.findall(r"[\w'’-]+", text)
            if w.lower() not in STOPWORDS and w.lower() not in
            {"what", "who", "when", "where", "why", "how", "which"}]
    return " ".join(kept[:8])
