"""The catalog: what was ingested (documents, sources, sentences with embeddings, chunks) in SQLite.

A document counts as indexed only once its catalog transaction commits, which happens after
its chunks are in the vector store; so a killed ingest leaves, at worst, orphan vectors that
the next ingest removes, never a half-indexed document.

Every transaction that changes the documents also sets a new random `content_version`, so files
derived from the catalog (the saved CorpusIndex) can tell whether they still describe it.
"""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .types import Chunk, Document, Sentence

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY, doc_id TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    sha TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS sentences (
    doc_id TEXT NOT NULL, idx INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    embedding BLOB NOT NULL, page INTEGER, PRIMARY KEY (doc_id, idx));
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,
    n_tokens INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS words (word TEXT PRIMARY KEY, embedding BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS withheld (path TEXT PRIMARY KEY, sha TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (doc_id);
CREATE INDEX IF NOT EXISTS sources_doc ON sources (doc_id);
"""


@dataclass(frozen=True)
class SourceRecord:
    path: str
    doc_id: str
    size: int
    mtime_ns: int
    # The file's bytes hashed: an edit that keeps size and mtime (a copy with `touch -r`, a
    # restore from backup) is still seen. Empty for a row written before it was recorded.
    sha: str = ""


class Catalog:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(sources)")}
        if "sha" not in columns:  # a catalog from before file hashes
            self._db.execute("ALTER TABLE sources ADD COLUMN sha TEXT NOT NULL DEFAULT ''")
        if "page" not in {r[1] for r in self._db.execute("PRAGMA table_info(sentences)")}:
            # A catalog from before PDF articles: its sentences have no page (NULL).
            self._db.execute("ALTER TABLE sentences ADD COLUMN page INTEGER")

    def close(self) -> None:
        self._db.close()

    # meta
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def content_version(self) -> str | None:
        """Changes with every change to the documents (None for a catalog that predates it)."""
        return self.get_meta("content_version")

    def touch(self) -> None:
        """Give the current contents a new content_version."""
        self.set_meta("content_version", uuid.uuid4().hex)

    @contextmanager
    def snapshot(self):
        """Reads inside see one consistent state, even while another process writes."""
        self._db.execute("BEGIN")
        try:
            yield self
        finally:
            self._db.execute("COMMIT")

    # reads
    def doc_ids(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT doc_id FROM documents")}

    def sources(self) -> dict[str, SourceRecord]:
        rows = self._db.execute("SELECT path, doc_id, size, mtime_ns, sha FROM sources")
        return {r[0]: SourceRecord(*r) for r in rows}

    def doc_order(self) -> list[str]:
        """The documents' ids in the order load_documents gives them (the order they were added)."""
        return [r[0] for r in self._db.execute("SELECT doc_id FROM documents ORDER BY rowid")]

    def load_documents(self, doc_ids: list[str] | None = None) -> list[Document]:
        """Every document (or those of `doc_ids`, in catalog order) with its sentences (text
        sliced from the document at its offsets)."""
        docs: dict[str, Document] = {}
        if doc_ids is None:
            rows = self._db.execute(
                "SELECT doc_id, title, source, text FROM documents ORDER BY rowid")
            sentences = self._db.execute(
                "SELECT doc_id, idx, start, end, page FROM sentences ORDER BY doc_id, idx")
        else:
            wanted = list(dict.fromkeys(doc_ids))
            rows = sorted(r for d in wanted for r in self._db.execute(
                "SELECT rowid, doc_id, title, source, text FROM documents WHERE doc_id = ?", (d,)))
            rows = [r[1:] for r in rows]
            sentences = (r for d in wanted for r in self._db.execute(
                "SELECT doc_id, idx, start, end, page FROM sentences WHERE doc_id = ? ORDER BY idx",
                (d,)))
        for doc_id, title, source, text in rows:
            docs[doc_id] = Document(doc_id=doc_id, title=title, source=source, text=text)
        for doc_id, idx, start, end, page in sentences:
            doc = docs.get(doc_id)
            if doc is not None:
                doc.sentences.append(Sentence(doc_id, idx, start, end, doc.text[start:end], page))
        return list(docs.values())

    def load_sentence_vectors_of(self, documents: list[Document], dim: int) -> np.ndarray:
        """The sentence vectors of a few documents, a row per sentence in their order."""
        blobs = [blob for d in documents for (blob,) in self._db.execute(
            "SELECT embedding FROM sentences WHERE doc_id = ? ORDER BY idx", (d.doc_id,))]
        if not blobs:
            return np.zeros((0, dim), np.float32)
        return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), dim)

    def load_sentence_embeddings(self, dim: int) -> dict[tuple[str, int], np.ndarray]:
        out = {}
        for doc_id, idx, blob in self._db.execute("SELECT doc_id, idx, embedding FROM sentences"):
            out[(doc_id, idx)] = np.frombuffer(blob, dtype=np.float32, count=dim)
        return out

    def load_sentence_matrix(self, documents: list[Document], dim: int) -> np.ndarray:
        """The sentence vectors as one matrix, a row per sentence in the order of `documents`."""
        rows = {}
        for doc_id, idx, blob in self._db.execute("SELECT doc_id, idx, embedding FROM sentences"):
            rows[(doc_id, idx)] = blob
        blobs = [rows[(s.doc_id, s.index)] for d in documents for s in d.sentences]
        if not blobs:
            return np.zeros((0, dim), np.float32)
        return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), dim)

    def word_list(self) -> set[str]:
        """The words that have a vector (answering/wordsim.py), whatever document brought them."""
        return {w for (w,) in self._db.execute("SELECT word FROM words")}

    def load_word_vectors(self, dim: int, skip: set[str] | frozenset[str] = frozenset()
                          ) -> dict[str, np.ndarray]:
        """The vectors of the words not in `skip`: after an upload, the few words it brought,
        not every word's vector again."""
        wanted = [w for (w,) in self._db.execute("SELECT word FROM words") if w not in skip]
        if len(wanted) > 1000:
            rows = ((w, b) for w, b in self._db.execute("SELECT word, embedding FROM words")
                    if w not in skip)
        else:
            rows = (r for w in wanted for r in self._db.execute(
                "SELECT word, embedding FROM words WHERE word = ?", (w,)))
        return {w: np.frombuffer(blob, dtype=np.float32, count=dim) for w, blob in rows}

    def load_chunks(self, doc_ids: list[str] | None = None) -> list[tuple[str, str, int, int, int]]:
        """Every chunk (or those of `doc_ids`), in the order they were added."""
        if doc_ids is None:
            return self._db.execute(
                "SELECT chunk_id, doc_id, first, last, n_tokens FROM chunks ORDER BY rowid").fetchall()
        rows = sorted(r for d in dict.fromkeys(doc_ids) for r in self._db.execute(
            "SELECT rowid, chunk_id, doc_id, first, last, n_tokens FROM chunks WHERE doc_id = ?", (d,)))
        return [r[1:] for r in rows]

    def counts(self) -> dict[str, int]:
        return {t: self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("documents", "sources", "sentences", "chunks")}

    # writes: each is one transaction
    def add_document(self, doc: Document, chunks: list[Chunk], sentence_vectors: np.ndarray,
                     word_vectors: dict[str, np.ndarray] | None = None) -> None:
        """`word_vectors`: vectors of the document's words the catalog may not have yet."""
        with self._transaction():
            if word_vectors:
                self._db.executemany(
                    "INSERT OR IGNORE INTO words VALUES (?, ?)",
                    [(w, np.asarray(v, np.float32).tobytes()) for w, v in word_vectors.items()])
            self._db.execute("INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?)",
                             (doc.doc_id, doc.title, doc.source, doc.text))
            self._db.execute("DELETE FROM sentences WHERE doc_id = ?", (doc.doc_id,))
            self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc.doc_id,))
            self._db.executemany(
                "INSERT INTO sentences (doc_id, idx, start, end, embedding, page) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(s.doc_id, s.index, s.start, s.end, np.asarray(v, np.float32).tobytes(), s.page)
                 for s, v in zip(doc.sentences, sentence_vectors, strict=True)])
            self._db.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?)",
                [(c.chunk_id, c.doc_id, c.first_sentence, c.last_sentence, c.n_tokens)
                 for c in chunks])
            self.touch()

    def remove_document(self, doc_id: str, *, withhold: dict[str, str] | None = None) -> None:
        """`withhold`: files (path: hash of their bytes) that ingest must not bring back."""
        with self._transaction():
            for table in ("documents", "sentences", "chunks", "sources"):
                self._db.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))
            self._db.executemany("INSERT OR REPLACE INTO withheld VALUES (?, ?)",
                                 list((withhold or {}).items()))
            self.touch()

    # Files of articles the user removed whose files we may not delete (their own corpus):
    # ingest leaves them out while their bytes stay the same. Kept by clear(): a rebuild is
    # not a request to bring removed articles back.
    def withheld(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT path, sha FROM withheld"))

    def release_withheld(self, path: str) -> None:
        self._db.execute("DELETE FROM withheld WHERE path = ?", (path,))

    def set_source(self, record: SourceRecord) -> None:
        self._db.execute("INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?)",
                         (record.path, record.doc_id, record.size, record.mtime_ns, record.sha))

    def remove_source(self, path: str) -> None:
        self._db.execute("DELETE FROM sources WHERE path = ?", (path,))

    def clear(self) -> None:
        with self._transaction():
            for table in ("documents", "sentences", "chunks", "sources", "meta", "words"):
                self._db.execute(f"DELETE FROM {table}")
            self.touch()

    def _transaction(self):
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self):
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb):
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
        return False
