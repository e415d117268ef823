"""Bring the index in line with the corpus: add new articles, replace changed ones, drop removed ones.

Only sentences are embedded. A chunk's vector is the token-weighted, normalised mean of its
sentences' vectors, so no text is encoded twice (a chunk is 4-8 sentences, and the overlap
repeats some of them).
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from .catalog import SCHEMA_VERSION, Catalog, SourceRecord
from .chunking import chunk_document, count_tokens
from .documents import BadFile, Skipped, find_article_files, load_file
from .embeddings import Embedder
from .errors import IndexUnusable
from .settings import Settings
from .store import VectorStore
from .text import match_words
from .types import Chunk, Document

# How chunk vectors are made; recorded in the catalog. An index whose chunk vectors were made
# another way (before this was recorded, each chunk's text was embedded) gets them recomputed
# from the stored sentence vectors on its next ingest, without running the model.
CHUNK_VECTORS = "sentence-mean-by-tokens"


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
    # "clean" is recorded when an ingest finishes; anything else (a killed ingest, an index from
    # before this was recorded) means the store may hold vectors the catalog never committed.
    was_clean = catalog.get_meta("ingest_state") == "clean" and not rebuild
    catalog.set_meta("ingest_state", "writing")
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
    catalog.set_meta("ingest_state", "writing")  # again: a rebuild cleared the meta table
    if catalog.get_meta("chunk_vectors") != CHUNK_VECTORS:
        _rederive_chunk_vectors(catalog, store, embedder.dimension)
        catalog.set_meta("chunk_vectors", CHUNK_VECTORS)
    if catalog.content_version() is None:  # a catalog from before content versions
        catalog.touch()

    # A killed ingest may have left vectors of a document whose catalog row never committed.
    # Listing the store reads every chunk's metadata (most of a second for 10,000 chunks), so it
    # is done only when the last ingest did not finish.
    indexed = catalog.doc_ids()
    if not was_clean:
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
        record = SourceRecord(key, doc_id, st.st_size, st.st_mtime_ns)
        if known.get(key) != record:
            catalog.set_source(record)
    catalog.set_meta("ingest_state", "clean")
    return report


def _embed_and_write(docs: list[Document], catalog: Catalog, store: VectorStore,
                     embedder: Embedder, settings: Settings, progress: bool,
                     batch_docs: int = 16) -> None:
    bar = None
    if progress and docs:
        from tqdm import tqdm

        bar = tqdm(total=len(docs), desc="Ingesting", unit="article", file=sys.stderr)
    # Words already given a vector (answering/wordsim.py): each word is encoded once per catalog.
    known_words = catalog.word_list() if docs else set()

    def prepare(batch: list[Document]):
        chunked = [chunk_document(d, max_tokens=settings.chunk_tokens,
                                  overlap_tokens=settings.chunk_overlap_tokens) for d in batch]
        # One encode call for all sentences of the batch; identical sentences are embedded once.
        unique = list(dict.fromkeys(s.text for d in batch for s in d.sentences))
        vectors = embedder.encode(unique)
        tokens = dict(zip(unique, count_tokens(unique), strict=True))
        doc_words = []
        for d in batch:
            new = [w for w in match_words(d.text) if w not in known_words]
            known_words.update(new)
            doc_words.append(new)
        flat = [w for ws in doc_words for w in ws]
        word_vecs = dict(zip(flat, embedder.encode(flat), strict=True)) if flat else {}
        words = [{w: word_vecs[w] for w in ws} for ws in doc_words]
        return batch, chunked, {t: j for j, t in enumerate(unique)}, vectors, tokens, words

    batches = [docs[i:i + batch_docs] for i in range(0, len(docs), batch_docs)]
    # The next batch is chunked and embedded while this one is written to the store and catalog.
    with ThreadPoolExecutor(1, thread_name_prefix="ingest-embed") as pool:
        pending = pool.submit(prepare, batches[0]) if batches else None
        for j in range(len(batches)):
            batch, chunked, row, vectors, tokens, words = pending.result()
            pending = pool.submit(prepare, batches[j + 1]) if j + 1 < len(batches) else None
            for doc, chunks, doc_words in zip(batch, chunked, words, strict=True):
                sent_vecs = vectors[[row[s.text] for s in doc.sentences]] if doc.sentences \
                    else np.zeros((0, embedder.dimension), np.float32)
                weights = [tokens[s.text] for s in doc.sentences]
                store.upsert(chunks, chunk_vectors(sent_vecs, weights, chunks))
                catalog.add_document(doc, chunks, sent_vecs, doc_words)  # this document's commit
                if bar:
                    bar.update(1)
    if bar:
        bar.close()


def chunk_vectors(sentence_vectors: np.ndarray, sentence_tokens: list[int],
                  chunks: list[Chunk]) -> np.ndarray:
    """Each chunk's vector: the normalised mean of its sentences' vectors, weighted by their length.

    The model itself mean-pools over tokens, so a long sentence weighs more in a chunk's own
    embedding; weighting by token count follows that (on the dev questions it kept retrieval
    recall where a plain mean lost a little).
    """
    weighted = sentence_vectors * np.asarray(sentence_tokens, np.float32)[:, None]
    out = np.zeros((len(chunks), sentence_vectors.shape[1]), np.float32)
    for i, c in enumerate(chunks):
        total = weighted[c.first_sentence:c.last_sentence + 1].sum(axis=0)
        norm = float(np.linalg.norm(total))
        out[i] = total / norm if norm > 0 else total
    return out


def _rederive_chunk_vectors(catalog: Catalog, store: VectorStore, dim: int) -> None:
    """Replace every stored chunk vector with one derived from the catalog's sentence vectors."""
    documents = catalog.load_documents()
    if not documents:
        return
    matrix = catalog.load_sentence_matrix(documents, dim)
    by_doc: dict[str, list[Chunk]] = {}
    texts = {d.doc_id: d for d in documents}
    for chunk_id, doc_id, first, last, n_tokens in catalog.load_chunks():
        doc = texts[doc_id]
        text = doc.text[doc.sentences[first].start:doc.sentences[last].end]
        by_doc.setdefault(doc_id, []).append(Chunk(chunk_id, doc_id, first, last, text, n_tokens))
    row = 0
    for doc in documents:
        sent_vecs = matrix[row:row + len(doc.sentences)]
        row += len(doc.sentences)
        chunks = by_doc.get(doc.doc_id, [])
        if chunks:
            weights = count_tokens([s.text for s in doc.sentences])
            store.upsert(chunks, chunk_vectors(sent_vecs, weights, chunks))
