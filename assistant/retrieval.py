"""Hybrid retrieval: dense (Chroma) and BM25 candidates fused by reciprocal rank, as a LangChain retriever."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .embeddings import Embedder
from .index import CorpusIndex
from .types import Passage

logger = logging.getLogger(__name__)


def passages_from(documents: list[LCDocument]) -> list[Passage]:
    """The retriever's LangChain documents as typed Passages, in rank order."""
    return [Passage(chunk_id=d.metadata["chunk_id"], doc_id=d.metadata["doc_id"],
                    title=d.metadata["title"], first_sentence=d.metadata["first_sentence"],
                    last_sentence=d.metadata["last_sentence"], text=d.page_content,
                    score=round(float(d.metadata["score"]), 5)) for d in documents]


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = 60) -> list[tuple[str, float]]:
    """Fuse ranked id lists: score(id) = sum over lists of 1 / (k + rank), rank from 1."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


# Asking about a few articles: their chunks' vectors are fetched by id and compared exactly.
# Chroma's filtered search scans the metadata of every chunk (209 ms for one article of 10,000).
EXACT_UP_TO = 2000


def exact_search(vector: np.ndarray, vectors: dict[str, np.ndarray], k: int) -> list[tuple[str, float]]:
    """The k chunks most similar (cosine) to `vector`, best first."""
    if not vectors:
        return []
    ids = list(vectors)
    matrix = np.stack([vectors[i] for i in ids])
    q = np.asarray(vector, np.float32)
    sims = matrix @ q / (np.linalg.norm(matrix, axis=1) * (np.linalg.norm(q) or 1.0) + 1e-12)
    order = np.argsort(-sims, kind="stable")[:k]
    return [(ids[i], float(sims[i])) for i in order]


class HybridRetriever(BaseRetriever):
    """Top chunks for a query; each LangChain Document carries the chunk's ids in its metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: CorpusIndex
    store: Any  # VectorStore
    embedder: Embedder
    top_k: int = 6
    dense_k: int = 20
    bm25_k: int = 20
    rrf_k: int = 60

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                doc_ids: set[str] | None = None) -> list[LCDocument]:
        return self.retrieve(query, doc_ids=doc_ids)

    def retrieve(self, query: str, doc_ids: set[str] | None = None) -> list[LCDocument]:
        dense = [cid for cid, _ in self._dense(query, self.dense_k, doc_ids)
                 if cid in self.index.chunk_pos]
        lexical = [cid for cid, _ in self.index.bm25_search(query, self.bm25_k, doc_ids)]
        fused = reciprocal_rank_fusion([dense[: self.dense_k], lexical], k=self.rrf_k)
        out = []
        for chunk_id, score in fused[: self.top_k]:
            ref = self.index.chunks[self.index.chunk_pos[chunk_id]]
            doc = self.index.documents[ref.doc_id]
            out.append(LCDocument(
                page_content=self.index.chunk_text(ref),
                metadata={"chunk_id": chunk_id, "doc_id": ref.doc_id, "title": doc.title,
                          "first_sentence": ref.first, "last_sentence": ref.last, "score": score}))
        return out

    def _dense(self, query: str, k: int, doc_ids: set[str] | None) -> list[tuple[str, float]]:
        """Dense hits; an unreadable vector index (e.g. HNSW files not yet flushed after a killed
        ingest, chroma-core/chroma#4212) degrades to BM25 alone instead of failing the question."""
        from chromadb.errors import ChromaError

        try:
            vector = self.embedder.query(query)
            if doc_ids:
                chunk_ids = [c.chunk_id for c in self.index.chunks_of(doc_ids)]
                if len(chunk_ids) <= EXACT_UP_TO:
                    return exact_search(vector, self.store.vectors(chunk_ids), k)
            return self.store.search(vector, k, doc_ids)
        except ChromaError as exc:
            logger.warning("dense search failed, answering from BM25 alone: %s", exc)
            return []
