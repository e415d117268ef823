"""The in-memory view of what is indexed: documents, sentence vectors, chunks and a BM25 index."""

from __future__ import annotations

import difflib
import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .catalog import Catalog
from .text import bm25_tokens, content_terms
from .types import Document, Sentence


@dataclass(frozen=True)
class ChunkRef:
    chunk_id: str
    doc_id: str
    first: int
    last: int


class CorpusIndex:
    """Read-only after construction; rebuilt (cheaply) after an ingest changes anything."""

    def __init__(self, documents: list[Document], sentence_vectors: dict[tuple[str, int], np.ndarray],
                 chunks: list[ChunkRef], dim: int):
        self.documents = {d.doc_id: d for d in documents}
        self.chunks = chunks
        self.chunk_pos = {c.chunk_id: i for i, c in enumerate(chunks)}
        self.dim = dim
        # One row per sentence, so scoring a set of sentences is one matrix product.
        self.sentences: list[Sentence] = [s for d in documents for s in d.sentences]
        self.sentence_row = {(s.doc_id, s.index): i for i, s in enumerate(self.sentences)}
        self.sentence_matrix = (
            np.stack([sentence_vectors[(s.doc_id, s.index)] for s in self.sentences])
            if self.sentences else np.zeros((0, dim), np.float32))
        # Content-word stems of each sentence and their inverse document frequency over sentences.
        self.sentence_terms = [frozenset(content_terms(s.text)) for s in self.sentences]
        df = Counter(t for terms in self.sentence_terms for t in terms)
        n = max(1, len(self.sentences))
        self.idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self.unseen_idf = math.log(1 + n)
        self._vocab_by_initial: dict[str, list[str]] = {}
        for t in self.idf:
            self._vocab_by_initial.setdefault(t[:1], []).append(t)
        self._bm25 = None
        if chunks:
            import bm25s

            self._bm25 = bm25s.BM25()
            self._bm25.index([bm25_tokens(self.chunk_text(c)) or ["\u2205"] for c in chunks],
                             show_progress=False)

    @classmethod
    def load(cls, catalog: Catalog, dim: int) -> CorpusIndex:
        chunks = [ChunkRef(cid, doc, first, last) for cid, doc, first, last, _ in catalog.load_chunks()]
        return cls(catalog.load_documents(), catalog.load_sentence_embeddings(dim), chunks, dim)

    def correct(self, term: str) -> str:
        """A question word the articles lack, mapped to a close article word ('azerbaijian')."""
        if term in self.idf or len(term) < 5:
            return term
        close = difflib.get_close_matches(term, self._vocab_by_initial.get(term[:1], ()), n=1,
                                          cutoff=0.84)
        return close[0] if close else term

    def chunk_text(self, chunk: ChunkRef) -> str:
        doc = self.documents[chunk.doc_id]
        return doc.text[doc.sentences[chunk.first].start:doc.sentences[chunk.last].end]

    def bm25_search(self, query: str, k: int, doc_ids: set[str] | None = None) -> list[tuple[str, float]]:
        if self._bm25 is None:
            return []
        tokens = bm25_tokens(query)
        if not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        order = np.argsort(-scores)
        out = []
        for i in order:
            if scores[i] <= 0 or len(out) >= k:
                break
            c = self.chunks[i]
            if doc_ids is None or c.doc_id in doc_ids:
                out.append((c.chunk_id, float(scores[i])))
        return out
