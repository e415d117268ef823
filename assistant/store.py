"""The vector store for chunk embeddings: Chroma, embedded (default) behind a small protocol."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from .settings import Settings
from .types import Chunk


class VectorStore(Protocol):
    def upsert(self, chunks: list[Chunk], vectors: np.ndarray) -> None: ...
    def delete_doc(self, doc_id: str) -> None: ...
    def doc_ids(self) -> set[str]: ...
    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]: ...
    def count(self) -> int: ...


class ChromaStore:
    """Chunks in a Chroma collection; embeddings are always ours (no default embedding function)."""

    def __init__(self, client, settings: Settings):
        self._collection = client.get_or_create_collection(
            settings.collection,
            embedding_function=None,
            configuration={"hnsw": {
                "space": settings.hnsw_space,
                "ef_construction": settings.hnsw_ef_construction,
                "ef_search": settings.hnsw_ef_search,
                "max_neighbors": settings.hnsw_max_neighbors,
            }},
        )

    def upsert(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        if not chunks:
            return
        self._collection.upsert(
            ids=[c.chunk_id for c in chunks],
            embeddings=np.asarray(vectors, dtype=np.float32),
            documents=[c.text for c in chunks],
            metadatas=[{"doc_id": c.doc_id, "first": c.first_sentence, "last": c.last_sentence}
                       for c in chunks],
        )

    def delete_doc(self, doc_id: str) -> None:
        self._collection.delete(where={"doc_id": doc_id})

    def doc_ids(self) -> set[str]:
        got = self._collection.get(include=["metadatas"])
        return {m["doc_id"] for m in got["metadatas"] or []}

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        n = self.count()
        if n == 0:
            return []
        res = self._collection.query(query_embeddings=[np.asarray(vector, np.float32)],
                                     n_results=min(k, n), include=["distances"])
        # Cosine distance -> similarity.
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    def count(self) -> int:
        return self._collection.count()


def chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def open_store(settings: Settings, index_path: Path) -> ChromaStore:
    """The embedded Chroma store under the index directory."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb

    client = chromadb.PersistentClient(path=str(index_path / "chroma"), settings=chroma_settings())
    return ChromaStore(client, settings)
