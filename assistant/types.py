"""The data that flows through the assistant: documents, sentences, chunks, citations, answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sentence:
    """One sentence of a stored document; `start`/`end` index into `Document.text`."""

    doc_id: str
    index: int
    start: int
    end: int
    text: str
    page: int | None = None  # the page it is on, for articles read from a paged file (PDF)

    @property
    def key(self) -> str:
        return f"{self.doc_id}:{self.index}"


@dataclass
class Document:
    """An article as a reader sees it: `text` is the cleaned text that every offset refers to."""

    doc_id: str
    title: str
    source: str
    text: str
    sentences: list[Sentence] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "title": self.title, "source": self.source,
                "n_sentences": len(self.sentences)}


@dataclass(frozen=True)
class Chunk:
    """Consecutive sentences of one document, sized by token count, as embedded in the store."""

    chunk_id: str
    doc_id: str
    first_sentence: int
    last_sentence: int  # inclusive
    text: str
    n_tokens: int


@dataclass(frozen=True)
class Passage:
    """A chunk as retrieval handed it to the answerer, with its fused score."""

    chunk_id: str
    doc_id: str
    title: str
    first_sentence: int
    last_sentence: int
    text: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    """A cited sentence, traceable to its file: `doc.text[start:end] == text`."""

    marker: int
    doc_id: str
    title: str
    sentence_id: int
    start: int
    end: int
    text: str
    score: float
    page: int | None = None  # the sentence's page in a paged file (PDF); None otherwise

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ClaimCheck:
    """One claim of an LLM reply and what verification made of it."""

    text: str
    markers: list[int]  # the citations it kept, as renumbered in the answer
    supported: bool
    support: float  # best support score of a sentence it cited
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Verification:
    """What was checked in an LLM reply, and what was dropped before it was shown."""

    claims: list[ClaimCheck] = field(default_factory=list)
    invalid_markers: list[int] = field(default_factory=list)  # pointed at no sentence in the prompt
    unsupported_markers: list[int] = field(default_factory=list)  # the sentence did not support the claim
    stripped: list[str] = field(default_factory=list)  # images, links, URLs, HTML removed
    raw_text: str = ""  # the model's reply as it came
    fallback: str | None = None  # "extractive" or "abstain" when no claim could be verified

    def to_dict(self) -> dict[str, Any]:
        return {"claims": [c.to_dict() for c in self.claims], "invalid_markers": self.invalid_markers,
                "unsupported_markers": self.unsupported_markers, "stripped": self.stripped,
                "raw_text": self.raw_text, "fallback": self.fallback}


@dataclass
class Answer:
    """What every interface returns or renders: the reply, its citations and how it was made."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    standalone_question: str = ""
    passages: list[Passage] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    mode: str = "extractive"
    confidence: float = 0.0
    error: str | None = None
    # Something the reader should know about how this answer was made (e.g. the LLM was unreachable).
    notice: str | None = None
    verification: Verification | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "text": self.text,
            "citations": [c.to_dict() for c in self.citations],
            "abstained": self.abstained,
            "standalone_question": self.standalone_question,
            "passages": [p.to_dict() for p in self.passages],
            "timings": dict(self.timings),
            "mode": self.mode,
            "confidence": self.confidence,
            "error": self.error,
            "notice": self.notice,
            "verification": self.verification.to_dict() if self.verification else None,
        }
