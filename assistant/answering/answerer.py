"""What every answerer takes and gives, whatever reads the sentences: the Evidence retrieval found
for a Query, and the Draft answer it makes of them. The extractive answerer (the fitted reader)
and the LLM answerer are both an `Answerer`; the Assistant picks one per question."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..types import Citation, Passage, Verification
from .query import Query

TokenSink = Callable[[str], None]


@dataclass(frozen=True)
class Evidence:
    """The passages retrieval found, and the embedding each part of the query is read with."""

    passages: list[Passage]
    part_vectors: list[np.ndarray]


@dataclass
class Draft:
    """An answer before it is dressed as an `Answer`: what to say, what it cites, and who said it."""

    text: str
    citations: list[Citation]
    abstained: bool
    confidence: float
    mode: str
    verification: Verification | None = None
    notice: str | None = None  # a one-line remark shown with the answer (e.g. why the LLM was skipped)
    timings: dict[str, float] = field(default_factory=dict)


class Answerer(Protocol):
    name: str

    def answer(self, query: Query, evidence: Evidence, on_token: TokenSink | None = None) -> Draft:
        """Answer every part of `query` from `evidence`, citing its sentences, or abstain.
        `on_token` receives the reply's words as they are made, where an answerer streams."""
