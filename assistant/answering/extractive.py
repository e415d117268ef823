"""The offline answerer: score the retrieved sentences, quote and cite the best, or abstain.

Each candidate sentence gets features — embedding similarity to the question, the share of the
question's (IDF-weighted) content words it contains, whether it holds the kind of thing asked for
(a number for "how many"), and its chunk's retrieval rank — combined into one score. The answer
cites the best sentence of each part of the question; it abstains when even the best score is
under the calibrated threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..index import CorpusIndex
from ..text import content_terms, stem
from ..types import Citation, Passage, Sentence
from . import analysis

# Weights of the sentence score, fitted on the development questions (see evals/README.md).
W_DENSE, W_LEXICAL, W_TYPE, W_RANK, W_MISSING = 0.55, 0.45, 0.08, 0.04, 0.25
# A further sentence is cited for the same part only when it scores this close to the best.
SECOND_SENTENCE_RATIO = 0.92


@dataclass
class Scored:
    sentence: Sentence
    score: float
    dense: float
    lexical: float


@dataclass
class Draft:
    """What the answerer decided, before it is dressed as an Answer."""

    text: str
    citations: list[Citation]
    abstained: bool
    confidence: float


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, index: CorpusIndex, *, threshold: float, max_citations: int):
        self.index = index
        self.threshold = threshold
        self.max_citations = max_citations

    def answer(self, question: str, question_vector: np.ndarray, passages: list[Passage],
               part_vectors: list[np.ndarray] | None = None) -> Draft:
        candidates = self._candidates(passages)
        if not candidates:
            return self.abstain(0.0)
        parts = analysis.split_parts(question)
        vectors = part_vectors if part_vectors and len(part_vectors) == len(parts) else None
        chosen: list[tuple[str, Scored]] = []
        confidences = []
        for i, part in enumerate(parts):
            qv = vectors[i] if vectors else question_vector
            ranked = self.score(part, qv, candidates, passages)
            if not ranked:
                continue
            best = ranked[0]
            confidences.append(best.score)
            if best.score < self.threshold:
                continue
            picks = [best] + [s for s in ranked[1:3]
                              if s.score >= best.score * SECOND_SENTENCE_RATIO
                              and s.sentence.doc_id == best.sentence.doc_id
                              and abs(s.sentence.index - best.sentence.index) <= 2]
            for s in picks[: 1 if len(parts) > 1 else 2]:
                if all(s.sentence.key != c.sentence.key for _, c in chosen):
                    chosen.append((part, s))
        confidence = max(confidences) if confidences else 0.0
        if not chosen:
            return self.abstain(confidence)
        return self._compose(question, chosen[: self.max_citations], confidence)

    def _candidates(self, passages: list[Passage]) -> list[tuple[Sentence, int]]:
        """Each sentence of the retrieved chunks once, with the best rank of a chunk holding it."""
        seen: dict[str, tuple[Sentence, int]] = {}
        for rank, p in enumerate(passages):
            doc = self.index.documents.get(p.doc_id)
            if doc is None:
                continue
            for idx in range(p.first_sentence, p.last_sentence + 1):
                s = doc.sentences[idx]
                if s.key not in seen:
                    seen[s.key] = (s, rank)
        return list(seen.values())

    def score(self, question: str, qv: np.ndarray, candidates: list[tuple[Sentence, int]],
              passages: list[Passage]) -> list[Scored]:
        terms = set(content_terms(question))
        idf = self.index.idf
        weights = {t: idf.get(t, self.index.unseen_idf) for t in terms}
        total = sum(weights.values()) or 1.0
        # Words of the question that no article sentence contains at all: a sign the articles
        # do not cover what is asked (a casualty count, a name they never mention).
        missing = sum(w for t, w in weights.items() if t not in idf) / total
        kind = analysis.answer_type(question)
        rows = [self.index.sentence_row[(s.doc_id, s.index)] for s, _ in candidates]
        dense = self.index.sentence_matrix[rows] @ qv
        out = []
        for (s, rank), d in zip(candidates, dense, strict=True):
            s_terms = self.index.sentence_terms[self.index.sentence_row[(s.doc_id, s.index)]]
            lexical = sum(w for t, w in weights.items() if t in s_terms) / total
            typed = 1.0 if kind != analysis.OTHER and analysis.spans_of(kind, s.text) else 0.0
            score = (W_DENSE * float(d) + W_LEXICAL * lexical + W_TYPE * typed
                     + W_RANK / (1 + rank) - W_MISSING * missing)
            out.append(Scored(s, score, float(d), lexical))
        out.sort(key=lambda x: -x.score)
        return out

    def _compose(self, question: str, chosen: list[tuple[str, Scored]], confidence: float) -> Draft:
        citations, pieces = [], []
        for marker, (part, scored) in enumerate(chosen, start=1):
            s = scored.sentence
            doc = self.index.documents[s.doc_id]
            citations.append(Citation(marker=marker, doc_id=s.doc_id, title=doc.title,
                                      sentence_id=s.index, start=s.start, end=s.end, text=s.text,
                                      score=round(scored.score, 4)))
            kind = analysis.answer_type(part)
            lead = analysis.key_phrase(kind, s.text, set(content_terms(part)), stem)
            quote = f"\u201c{s.text}\u201d [{marker}]"
            pieces.append(f"{_capitalise(lead)} \u2014 {quote}" if lead else quote)
        return Draft(text="\n\n".join(pieces), citations=citations, abstained=False,
                     confidence=_squash(confidence - self.threshold))

    def abstain(self, confidence: float) -> Draft:
        titles = [d.title for d in self.index.documents.values()]
        covered = "; ".join(f"\u201c{t}\u201d" for t in titles[:5])
        more = f" and {len(titles) - 5} more" if len(titles) > 5 else ""
        text = ("The articles do not say. " + (f"They cover: {covered}{more}." if titles
                                               else "No articles are indexed yet."))
        return Draft(text=text, citations=[], abstained=True,
                     confidence=_squash(confidence - self.threshold))


def _capitalise(s: str) -> str:
    return s[:1].upper() + s[1:]


def _squash(margin: float) -> float:
    """Map the score's margin over the threshold to 0..1 (0.5 = on the threshold)."""
    return round(1.0 / (1.0 + math.exp(-12.0 * margin)), 4)
