"""Bring the index in line with the corpus: add new articles, replace changed ones, drop removed ones."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from .catalog import SCHEMA_VERSION, Catalog, SourceRecord
from .chunking import chunk_document
from .documents import BadFile, Skipped, find_article_files, load_file
from .embeddings import Embedder
from .errors import IndexUnusable
from .settings import Settings
from .store import VectorStore
from .types import Document


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.removed)} removed, {self.unchanged} unchanged, "
                f"{len(self.skipped)} skipped")


def writer_lock(index_path: Path) -> FileLock:
    index_path.mkdir(parents=True, exist_ok=True)
    return FileLock(str(index_path / "write.lock"))


def check_compatible(catalog: Catalog, embedder: Embedder, settings: Settings) -> bool:
    """Raise if the index was built with another model; return False if chunking changed."""
    built_with = catalog.get_meta("embedding_model")
    if built_with is not None and built_with != embedder.identity:
        raise IndexUnusable(
            f"The index was built with embedding model {built_with.split('|')[0]!r} but the "
            f"settings name {embedder.name!r}; rebuild it with 'assistant ingest --rebuild'.")
    chunking = f"{settings.chunk_tokens}/{settings.chunk_overlap_tokens}"
    return catalog.get_meta("chunking") in (None, chunking)


def ingest(roots: list[Path], catalog: Catalog, store: VectorStore, embedder: Embedder,
           settings: Settings, index_path: Path, *, rebuild: bool = False,
           progress: bool | None = None) -> IngestReport:
    """Sync the index with the article files under `roots` (one writer at a time)."""
    lock = writer_lock(index_path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise IndexUnusable(
            f"Another process is writing the index at {index_path}; wait for it to finish, or "
            "use a Chroma server for many writers.") from None
    try:
        return _sync(roots, catalog, store, embedder, settings, rebuild=rebuild,
                     progress=sys.stderr.isatty() if progress is None else progress)
    finally:
        lock.release()


def _sync(roots, catalog: Catalog, store: VectorStore, embedder: Embedder, settings: Settings,
          *, rebuild: bool, progress: bool) -> IngestReport:
    report = IngestReport()
    if rebuild:
        for doc_id in catalog.doc_ids() | store.doc_ids():
            store.delete_doc(doc_id)
        catalog.clear()
    elif not check_compatible(catalog, embedder, settings):
        # Chunk size changed: every document must be re-chunked and re-embedded.
        for doc_id in catalog.doc_ids():
            store.delete_doc(doc_id)
            catalog.remove_document(doc_id)
    catalog.set_meta("schema", SCHEMA_VERSION)
    catalog.set_meta("embedding_model", embedder.identity)
    catalog.set_meta("chunking", f"{settings.chunk_tokens}/{settings.chunk_overlap_tokens}")

    # A killed ingest may have left vectors of a document whose catalog row never committed.
    indexed = catalog.doc_ids()
    for orphan in store.doc_ids() - indexed:
        store.delete_doc(orphan)

    known = catalog.sources()
    wanted: dict[str, Document | str] = {}  # path -> new Document, or doc_id when unchanged
    max_bytes = int(settings.max_file_mb * 1_000_000)
    for path in find_article_files(roots):
        key = str(path.resolve())
        try:
            st = path.stat()
        except OSError as exc:
            report.skipped.append(Skipped(str(path), f"unreadable ({exc.strerror})"))
            continue
        rec = known.get(key)
        if rec and rec.size == st.st_size and rec.mtime_ns == st.st_mtime_ns and rec.doc_id in indexed:
            wanted[key] = rec.doc_id
            continue
        try:
            wanted[key] = load_file(path, max_bytes=max_bytes)
        except BadFile as exc:
            report.skipped.append(Skipped(str(path), str(exc)))

    # Sources that vanished, or now hold other content, release their old document.
    keep_ids = {v if isinstance(v, str) else v.doc_id for v in wanted.values()}
    for key, rec in known.items():
        current = wanted.get(key)
        current_id = current if isinstance(current, str) else getattr(current, "doc_id", None)
        if current_id != rec.doc_id:
            catalog.remove_source(key)
    for doc_id in indexed - keep_ids:
        store.delete_doc(doc_id)
        catalog.remove_document(doc_id)
        report.removed.append(doc_id)

    new_docs: dict[str, Document] = {}
    for key, value in wanted.items():
        if isinstance(value, str):
            report.unchanged += 1
            continue
        if value.doc_id in indexed or value.doc_id in new_docs:
            first = new_docs.get(value.doc_id)
            if first is not None:
                report.duplicates.append((key, first.source))
            else:
                report.unchanged += 1
        else:
            new_docs[value.doc_id] = value
    _embed_and_write(list(new_docs.values()), catalog, store, embedder, settings, progress)
    report.added.extend(new_docs)

    for key, value in wanted.items():
        doc_id = value if isinstance(value, str) else value.doc_id
        try:
            st = Path(key).stat()
        except OSError:
            continue  # gone since it was read; the next ingest sees it as removed
        catalog.set_source(SourceRecord(key, doc_id, st.st_size, st.st_mtime_ns))
    return report


def _embed_and_write(docs: list[Document], catalog: Catalog, store: VectorStore,
                     embedder: Embedder, settings: Settings, progress: bool,
                     batch_docs: int = 16) -> None:
    bar = None
    if progress and docs:
        from tqdm import tqdm

        bar = tqdm(total=len(docs), desc="Ingesting", unit="article", file=sys.stderr)
    for i in range(0, len(docs), batch_docs):
        batch = docs[i:i + batch_docs]
        chunked = [chunk_document(d, max_tokens=settings.chunk_tokens,
                                  overlap_tokens=settings.chunk_overlap_tokens) for d in batch]
        # One encode call for all texts of the batch; identical texts are embedded once.
        texts = [c.text for chunks in chunked for c in chunks]
        texts += [s.text for d in batch for s in d.sentences]
        unique = list(dict.fromkeys(texts))
        vectors = embedder.encode(unique)
        row = {t: j for j, t in enumerate(unique)}
        for doc, chunks in zip(batch, chunked, strict=True):
            chunk_vecs = np.stack([vectors[row[c.text]] for c in chunks])
            sent_vecs = np.stack([vectors[row[s.text]] for s in doc.sentences])
            store.upsert(chunks, chunk_vecs)
            catalog.add_document(doc, chunks, sent_vecs)  # commit point for this document
            if bar:
                bar.update(1)
    if bar:
        bar.close()
