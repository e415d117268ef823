"""The vector store for chunk embeddings: Chroma, embedded (default) or a server, behind a small protocol.

With a server, only the chunk vectors live there; the catalog of documents, sentences and sentence
vectors stays in the local index directory, so every client keeps its own catalog next to the
collection it names.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import StoreUnavailable
from .settings import Settings
from .types import Chunk


class VectorStore(Protocol):
    def upsert(self, chunks: list[Chunk], vectors: np.ndarray) -> None: ...
    def delete_doc(self, doc_id: str) -> None: ...
    def doc_ids(self) -> set[str]: ...
    def search(self, vector: np.ndarray, k: int,
               doc_ids: set[str] | None = None) -> list[tuple[str, float]]: ...
    def count(self) -> int: ...
    def vectors(self, chunk_ids: list[str]) -> dict[str, np.ndarray]: ...


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

    def upsert(self, chunks: list[Chunk], vectors: np.ndarray, page: int = 2_000) -> None:
        """Write chunks with their vectors, `page` at a time (Chroma refuses a call past its
        maximum batch size)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        for start in range(0, len(chunks), page):
            part = chunks[start:start + page]
            self._collection.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=vectors[start:start + page],
                documents=[c.text for c in part],
                metadatas=[{"doc_id": c.doc_id, "first": c.first_sentence, "last": c.last_sentence}
                           for c in part],
            )

    def delete_doc(self, doc_id: str) -> None:
        self._collection.delete(where={"doc_id": doc_id})

    def doc_ids(self, page: int = 10_000) -> set[str]:
        """Every article with a chunk here, read a page at a time: one `get` of every chunk's
        metadata fails past ~32,000 chunks (SQLite's limit on a statement's variables; 3,000
        articles make 33,000 chunks), which broke resuming an interrupted ingest at 10,000."""
        out: set[str] = set()
        offset = 0
        while True:
            got = self._collection.get(include=["metadatas"], limit=page, offset=offset)
            metadatas = got["metadatas"] or []
            out.update(m["doc_id"] for m in metadatas)
            if len(metadatas) < page:
                return out
            offset += page

    def search(self, vector: np.ndarray, k: int,
               doc_ids: set[str] | None = None) -> list[tuple[str, float]]:
        """The k nearest chunks, of the given articles only when `doc_ids` is set: Chroma applies
        that filter while it searches, so asking about one article of 10,000 costs no more than
        asking about all of them (fetching k x 10,000 neighbours and filtering after did)."""
        # No count() first: Chroma returns what there is when k exceeds it (none when empty),
        # and every call to it is another round trip (a network one with a server).
        where = None
        if doc_ids:
            ids = sorted(doc_ids)
            where = {"doc_id": ids[0]} if len(ids) == 1 else {"doc_id": {"$in": ids}}
        res = self._collection.query(query_embeddings=[np.asarray(vector, np.float32)],
                                     n_results=k, where=where, include=["distances"])
        # Cosine distance -> similarity.
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    def count(self) -> int:
        return self._collection.count()

    def vectors(self, chunk_ids: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these chunks (those the store has)."""
        got = self._collection.get(ids=chunk_ids, include=["embeddings"])
        return {cid: np.asarray(v, np.float32) for cid, v in zip(got["ids"], got["embeddings"],
                                                                  strict=True)}


def chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def open_store(settings: Settings, index_path: Path) -> ChromaStore:
    """The Chroma server named by `chroma_host`, or else the embedded store under the index directory."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb

    if not settings.chroma_host:
        client = chromadb.PersistentClient(path=str(index_path / "chroma"), settings=chroma_settings())
        return ChromaStore(client, settings)
    scheme = "https" if settings.chroma_ssl else "http"
    where = f"{scheme}://{settings.chroma_host}:{settings.chroma_port}"
    try:
        client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                     ssl=settings.chroma_ssl, headers=settings.chroma_headers(),
                                     settings=chroma_settings())
        return ChromaStore(client, settings)
    except Exception as exc:  # connection, auth and TLS failures arrive as many types
        raise StoreUnavailable(
            f"Cannot reach the Chroma server at {where} ({type(exc).__name__}: {exc}); start it with "
            "'chroma run', check ASSISTANT_CHROMA_HOST/PORT/AUTH_HEADER, or unset "
            "ASSISTANT_CHROMA_HOST to use the embedded store.") from exc
