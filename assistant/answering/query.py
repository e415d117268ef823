"""The typed state of answering: a Query (with its parts) and the Candidate sentences for it,
and the small protocols of the components that score them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..types import Passage, Sentence
from . import analysis


@dataclass(frozen=True)
class QueryPart:
    """One question of what the reader asked ("when did it start" of "when did it start and who
    ordered it"): its own words, words borrowed from earlier (what it is about, not what it
    asks), and the kind of answer it expects."""

    text: str
    borrowed: str = ""
    kind: str = analysis.OTHER

    @property
    def full_text(self) -> str:
        """What is embedded and searched: the part's words and what it borrowed."""
        return f"{self.text} {self.borrowed}".strip()


@dataclass(frozen=True)
class Query:
    """The reader's question, made standalone and split into parts.

    What the conversation already quoted is deliberately not here: every labelled follow-up is
    answerable, so a model that sees it learns to never decline a follow-up (READER-MODEL.md).
    """

    text: str
    borrowed: str = ""
    parts: tuple[QueryPart, ...] = ()

    @classmethod
    def build(cls, text: str, borrowed: str = "") -> Query:
        parts = tuple(QueryPart(own, extra, analysis.answer_type(own))
                      for own, extra in analysis.split_parts(text, borrowed))
        return cls(text=text, borrowed=borrowed, parts=parts)

    @property
    def full_text(self) -> str:
        return f"{self.text} {self.borrowed}".strip()


@dataclass
class Candidate:
    """A retrieved sentence, the best retrieval rank of a chunk holding it, and its features."""

    sentence: Sentence
    rank: int
    features: dict[str, float] = field(default_factory=dict)
    probability: float = 0.0


def candidates_from(passages: list[Passage], documents) -> list[Candidate]:
    """Each sentence of the retrieved chunks once, with the best rank of a chunk holding it."""
    seen: dict[str, Candidate] = {}
    for rank, p in enumerate(passages):
        doc = documents.get(p.doc_id)
        if doc is None:
            continue
        for idx in range(p.first_sentence, p.last_sentence + 1):
            s = doc.sentences[idx]
            if s.key not in seen:
                seen[s.key] = Candidate(s, rank)
    return list(seen.values())


class SentenceScorer(Protocol):
    def sentence_probabilities(self, features: np.ndarray) -> np.ndarray:
        """P(the sentence answers the part), one per row of named features."""


class AnswerabilityJudge(Protocol):
    def answerable(self, probabilities: np.ndarray, features: np.ndarray) -> float:
        """P(the part is answerable from these candidates)."""


class Reader(SentenceScorer, AnswerabilityJudge, Protocol):
    """Both, with the cut on P(answerable) and the second-citation ratio fitted with them."""

    threshold: float
    second_ratio: float
