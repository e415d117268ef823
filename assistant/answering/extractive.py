"""The offline answerer: read the retrieved sentences with the fitted model, quote and cite the
best for each part of the question, or abstain.

For each part, features.py describes every candidate sentence, the model (model.py) gives each
the probability that it answers and the part the probability that it can be answered from
them. Where the cross-encoder is on (cross_encoder.py), it reads the model's top candidates
again with the question, and a logistic model fitted on the development split combines both
readings into P(answerable) and the order of those candidates. One threshold, fitted with
whichever reading is used, decides. No rule here overrides the models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

import numpy as np

from ..index import CorpusIndex
from ..text import content_terms, term_stem
from ..types import Citation, Passage
from . import analysis
from .answerer import Draft, Evidence, TokenSink
from .cross_encoder import CrossCheck
from .features import FeatureExtractor
from .query import Candidate, Query, QueryPart, Reader, candidates_from
from .wordsim import WordVectors


@dataclass
class Reading:
    """What the model made of one part: its candidates (best first) and P(answerable)."""

    part: QueryPart
    candidates: list[Candidate]
    features: np.ndarray
    answerable: float


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, index: CorpusIndex, *, max_citations: int, model: Reader,
                 word_vectors: WordVectors | None = None, threshold: float | None = None,
                 cross_check: CrossCheck | None = None):
        """`threshold` overrides the fitted cut on P(answerable) (settings.abstain_threshold);
        `cross_check`, when given, reads the model's top candidates a second time."""
        self.index = index
        self.model = model
        self.cross_check = cross_check
        self.features = FeatureExtractor(index, word_vectors)
        fitted = cross_check.threshold if cross_check is not None else model.threshold
        self.threshold = fitted if threshold is None else threshold
        self.max_citations = max_citations

    def read(self, query: Query, part_vectors: list[np.ndarray],
             passages: list[Passage]) -> list[Reading]:
        """The model's reading of each part of the query over the retrieved passages."""
        readings = []
        for part, vector in zip(query.parts, part_vectors, strict=True):
            candidates = candidates_from(passages, self.index.documents)
            x = self.features.extract(part, vector, candidates)
            p = self.model.sentence_probabilities(x) if len(candidates) else np.zeros(0)
            for c, prob in zip(candidates, p, strict=True):
                c.probability = float(prob)
            order = np.argsort(-p, kind="stable")
            answerable = self.model.answerable(p, x) if len(candidates) else 0.0
            if self.cross_check is not None and len(candidates):
                top = order[: self.cross_check.top_k]
                sentences = [candidates[i].sentence for i in top]
                again = self.cross_check.reread(part.text, [s.text for s in sentences], p[top],
                                                answerable, [self.previous_text(s) for s in sentences])
                answerable = again.answerable
                order = np.concatenate([top[again.order], order[len(top):]])
            readings.append(Reading(part, [candidates[i] for i in order], x[order], answerable))
        return readings

    def previous_text(self, s) -> str | None:
        """The sentence before `s` in its article (None for the title)."""
        return self.index.documents[s.doc_id].sentences[s.index - 1].text if s.index > 0 else None

    def answer(self, query: Query, evidence: Evidence, on_token: TokenSink | None = None) -> Draft:
        """`on_token` is not called: the answer is whole at once."""
        readings = self.read(query, evidence.part_vectors, evidence.passages)
        chosen: list[tuple[QueryPart, Candidate]] = []
        confidence = max((r.answerable for r in readings), default=0.0)
        for r in readings:
            if r.answerable < self.threshold or not r.candidates:
                continue
            best = r.candidates[0]
            # A second sentence of the same article is cited when the model rates it nearly as
            # likely to answer: a reader gets both rather than a coin toss between them.
            picks = [best] + [c for c in r.candidates[1:3]
                              if c.sentence.doc_id == best.sentence.doc_id
                              and c.probability >= best.probability * self.model.second_ratio]
            for c in picks[: 1 if len(readings) > 1 else 2]:
                if all(c.sentence.key != o.sentence.key for _, o in chosen):
                    chosen.append((r.part, c))
        if not chosen:
            return self.abstain(confidence)
        return self._compose(chosen[: self.max_citations], confidence)

    def _compose(self, chosen: list[tuple[QueryPart, Candidate]], confidence: float) -> Draft:
        citations, pieces = [], []
        for marker, (part, candidate) in enumerate(chosen, start=1):
            s = candidate.sentence
            doc = self.index.documents[s.doc_id]
            citations.append(Citation(marker=marker, doc_id=s.doc_id, title=doc.title,
                                      sentence_id=s.index, start=s.start, end=s.end, text=s.text,
                                      score=round(candidate.probability, 4), page=s.page))
            terms = set(content_terms(part.text))
            lead = _short_answer(part.kind, analysis.key_phrase(part.kind, s.text, terms, term_stem),
                                 s.text, terms, part.text)
            quote = f"\u201c{s.text}\u201d [{marker}]"
            pieces.append(f"{_capitalise(lead)} \u2014 {quote}" if lead else quote)
        return Draft(text="\n\n".join(pieces), citations=citations, abstained=False,
                     confidence=round(confidence, 4), mode=self.name)

    def abstain(self, confidence: float) -> Draft:
        documents = self.index.documents
        titles = [d.title for d in islice(documents.values(), 5)]
        covered = "; ".join(f"\u201c{t}\u201d" for t in titles)
        more = f" and {len(documents) - 5} more" if len(documents) > 5 else ""
        text = ("The articles do not say. " + (f"They cover: {covered}{more}." if titles
                                               else "No articles are indexed yet."))
        return Draft(text=text, citations=[], abstained=True, confidence=round(confidence, 4),
                     mode=self.name)


# Words a span can run on into ("230 homes were —"): not part of a short answer.
_RUN_ON = re.compile(r"(?:[\s,;:]+(?:were|was|is|are|had|has|have|been|be|will|would|said|says|that|"
                     r"who|which|and|or|of|the|a|an|to|in|on|at|by|for|from|with|as))+$", re.I)


_WHO_IS_NAME = re.compile(r"\s*(?i:who\s+(?:is|was|are|were))\s+(?!(?i:the|a|an)\b)[A-Z]")
_LISTED = re.compile(r"\s*(?:,|,?\s+(?:and|or|as well as))\s+(?:the\s+)?", re.I)


def _short_answer(kind: str, lead: str | None, sentence: str, terms: set[str],
                  question: str = "") -> str | None:
    """The lead phrase if it reads as a short answer; None (the quote alone) when it does not:
    when the lead is one of several parties the sentence lists ("A, B and C called ..."), or
    when the question asks who a named person is (the answer is what they are, not a name)."""
    if not lead or (kind == analysis.PERSON and _WHO_IS_NAME.match(question)):
        return None
    lead = _RUN_ON.sub("", lead).strip(" ,;:\u2014-")
    at = sentence.find(lead)
    if kind == analysis.PERSON and at >= 0:
        for a, b in analysis.spans_of(kind, sentence):
            gap = sentence[b:at] if b <= at else sentence[at + len(lead):a]
            if (a, b) != (at, at + len(lead)) and _LISTED.fullmatch(gap):
                return None
    return lead or None


def _capitalise(s: str) -> str:
    return s[:1].upper() + s[1:]
