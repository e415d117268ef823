"""Bring the index in line with the corpus: add new articles, replace changed ones, drop removed ones.

Only sentences are embedded. A chunk's vector is the token-weighted, normalised mean of its
sentences' vectors, so no text is encoded twice (a chunk is 4-8 sentences, and the overlap
repeats some of them).
"""

from __future__ import annotations

import hashlib
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from .catalog import SCHEMA_VERSION, Catalog, SourceRecord
from .chunking import chunk_document, count_tokens
from .documents import BadFile, CorpusFiles, Skipped, find_article_files, parse_article, read_article_bytes
from .embeddings import Embedder
from .errors import CorpusError, IndexUnusable
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
    # Articles in the index whose files are not in the folders just read: kept unless pruned.
    kept_elsewhere: list[str] = field(default_factory=list)
    # Files of articles the user removed (assistant remove), unchanged since: left out.
    withheld: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)

    def summary(self) -> str:
        text = (f"{len(self.added)} added, {len(self.removed)} removed, {self.unchanged} unchanged, "
                f"{len(self.skipped)} skipped")
        if self.kept_elsewhere:
            text += (f"; {len(self.kept_elsewhere)} indexed articles are not in these folders and "
                     "were kept (--prune would remove them)")
        if self.withheld:
            text += (f"; {len(self.withheld)} removed articles stay out while their files are "
                     "unchanged")
        return text


def file_hash(data: bytes) -> str:
    """What identifies a file's bytes in the catalog (sources, withheld files)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def writer_lock(index_path: Path) -> FileLock:
    index_path.mkdir(parents=True, exist_ok=True)
    return FileLock(str(index_path / "write.lock"))


def opening_lock(index_path: Path, timeout: float = 120) -> FileLock:
    """Held while a process opens (and perhaps creates) the catalog and the Chroma store."""
    index_path.mkdir(parents=True, exist_ok=True)
    return FileLock(str(index_path / "open.lock"), timeout=timeout)


def check_compatible(catalog: Catalog, embedder: Embedder, settings: Settings) -> bool:
    """Raise if the index was built with another model; return False if chunking changed."""
    built_with = catalog.get_meta("embedding_model")
    if built_with is not None and built_with.count("|") == 1:
        # Recorded before weights were fingerprinted: trust the name once, then record the digest.
        if built_with == embedder.identity.rsplit("|", 1)[0]:
            catalog.set_meta("embedding_model", embedder.identity)
            built_with = embedder.identity
    if built_with is not None and built_with != embedder.identity:
        old_name = built_with.split("|")[0]
        what = (f"other weights of embedding model {old_name!r} (the model's files changed since)"
                if old_name == embedder.name else
                f"embedding model {old_name!r} but the settings name {embedder.name!r}")
        raise IndexUnusable(f"The index was built with {what}; rebuild it with "
                            "'assistant ingest --rebuild'.")
    chunking = f"{settings.chunk_tokens}/{settings.chunk_overlap_tokens}"
    return catalog.get_meta("chunking") in (None, chunking)


def ingest(roots: list[Path], catalog: Catalog, store: VectorStore, embedder: Embedder,
           settings: Settings, index_path: Path, *, rebuild: bool = False, prune: bool = False,
           may_be_empty: tuple[Path, ...] = (), progress: bool | None = None) -> IngestReport:
    """Bring the index in line with the article files under `roots` (one writer at a time).

    Articles whose files are not under `roots` stay unless `prune`; a root that is missing or
    holds no readable article raises CorpusError before anything changes.
    """
    corpus = find_article_files(roots, may_be_empty=may_be_empty)
    with sole_writer(index_path):
        return _sync(corpus, catalog, store, embedder, settings, rebuild=rebuild, prune=prune,
                     may_be_empty=may_be_empty,
                     progress=sys.stderr.isatty() if progress is None else progress)


@contextmanager
def sole_writer(index_path: Path):
    """Held while the index changes; a second writer is refused at once, with what to do."""
    lock = writer_lock(index_path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise IndexUnusable(
            f"Another process is writing the index at {index_path}; wait for it to finish, or "
            "use a Chroma server for many writers.") from None
    try:
        yield
    finally:
        lock.release()


@dataclass
class _Found:
    """One article file as this ingest found it: its new Document, or the doc_id it still holds."""

    record: SourceRecord
    document: Document | None = None


def _read_corpus(corpus: CorpusFiles, known: dict[str, SourceRecord], indexed: set[str],
                 max_bytes: int, may_be_empty: tuple[Path, ...], withheld: dict[str, str],
                 report: IngestReport) -> dict[str, _Found]:
    """Read every file that is new or changed; CorpusError if a root yields no article at all."""
    found: dict[str, _Found] = {}
    empty_ok = {p.resolve() for p in may_be_empty}
    for root, paths in corpus.by_root.items():
        readable = 0
        for path in paths:
            key = str(path.resolve())
            try:
                st = path.stat()
                data = read_article_bytes(path, max_bytes=max_bytes)
            except (OSError, BadFile) as exc:
                report.skipped.append(Skipped(str(path), str(exc)))
                continue
            sha = file_hash(data)
            if withheld.get(key) == sha:  # the user removed this article; its file is unchanged
                report.withheld.append(key)
                readable += 1
                continue
            rec = known.get(key)
            same = rec is not None and rec.doc_id in indexed and (
                rec.sha == sha or (not rec.sha and (rec.size, rec.mtime_ns) == (st.st_size, st.st_mtime_ns)))
            if same:
                found[key] = _Found(SourceRecord(key, rec.doc_id, st.st_size, st.st_mtime_ns, sha))
                readable += 1
                continue
            try:
                doc = parse_article(data, path)
            except BadFile as exc:
                report.skipped.append(Skipped(str(path), str(exc)))
                continue
            found[key] = _Found(SourceRecord(key, doc.doc_id, st.st_size, st.st_mtime_ns, sha), doc)
            readable += 1
        if paths and not readable and root.resolve() not in empty_ok:
            reasons = {s.reason for s in report.skipped}
            raise CorpusError(f"No article in {root} could be read ({'; '.join(sorted(reasons))}); "
                              "nothing was changed.")
    return found


def _sync(corpus: CorpusFiles, catalog: Catalog, store: VectorStore, embedder: Embedder,
          settings: Settings, *, rebuild: bool, prune: bool, may_be_empty: tuple[Path, ...],
          progress: bool) -> IngestReport:
    report = IngestReport(skipped=list(corpus.skipped))
    # Every article is embedded anew on a rebuild or a chunking change; a rebuild never asks
    # whether the old model matches, since making it match is what it is for.
    reembed = rebuild or not check_compatible(catalog, embedder, settings)
    indexed = catalog.doc_ids()
    sources = catalog.sources()
    withheld = catalog.withheld()
    found = _read_corpus(corpus, {} if reembed else sources, set() if reembed else indexed,
                         int(settings.max_file_mb * 1_000_000), may_be_empty, withheld, report)

    # Past this point the corpus was read; only now does anything change.
    for key in found.keys() & withheld.keys():  # edited since it was removed: a new article
        catalog.release_withheld(key)
    # "clean" is recorded when an ingest finishes; anything else (a killed ingest, an index from
    # before this was recorded) means the store may hold vectors the catalog never committed.
    was_clean = catalog.get_meta("ingest_state") == "clean" and not reembed
    keep_ids = {f.record.doc_id for f in found.values()}
    elsewhere = {k: r for k, r in sources.items() if k not in found and r.doc_id not in keep_ids}
    carried: list[Document] = []
    if reembed and not prune and elsewhere:
        wanted_ids = {r.doc_id for r in elsewhere.values()}
        carried = [d for d in catalog.load_documents() if d.doc_id in wanted_ids]
    catalog.set_meta("ingest_state", "writing")
    if reembed:
        for doc_id in indexed | store.doc_ids():
            store.delete_doc(doc_id)
        catalog.clear()
        indexed = set()
        if not prune:
            for rec in elsewhere.values():
                catalog.set_source(rec)
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
    if not was_clean:
        for orphan in store.doc_ids() - indexed:
            store.delete_doc(orphan)

    # A file that now holds other content releases its old document; a file that is gone
    # releases it only when the user asked to prune.
    released = [k for k, r in sources.items()
                if (k in found and found[k].record.doc_id != r.doc_id) or (prune and k not in found)]
    for key in released:
        catalog.remove_source(key)
    still_held = {r.doc_id for k, r in sources.items() if k not in released}
    for doc_id in indexed - keep_ids - still_held:
        store.delete_doc(doc_id)
        catalog.remove_document(doc_id)
        report.removed.append(doc_id)
    if not prune:
        report.kept_elsewhere = sorted({r.doc_id for r in elsewhere.values()})

    new_docs: dict[str, Document] = {}
    for d in carried:
        new_docs[d.doc_id] = d
    for key, f in found.items():
        if f.document is None:
            report.unchanged += 1
        elif f.document.doc_id in indexed or f.document.doc_id in new_docs:
            first = new_docs.get(f.document.doc_id)
            if first is not None:
                report.duplicates.append((key, first.source))
            else:
                report.unchanged += 1
        else:
            new_docs[f.document.doc_id] = f.document
    _embed_and_write(list(new_docs.values()), catalog, store, embedder, settings, progress)
    carried_ids = {c.doc_id for c in carried}
    report.added.extend(d for d in new_docs if d not in carried_ids)

    for f in found.values():
        if sources.get(f.record.path) != f.record or reembed:
            catalog.set_source(f.record)
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
            sentence_vectors = [vectors[[row[s.text] for s in doc.sentences]] if doc.sentences
                                else np.zeros((0, embedder.dimension), np.float32) for doc in batch]
            # One store write for the batch's chunks (Chroma's insert costs per call: 100
            # articles in one call each took 9.5 s of CPU at 10,000 articles, in calls of ten
            # articles 6.4 s), then each document's own catalog commit. A crash in between
            # leaves store chunks the catalog lacks; the next ingest deletes them, as it
            # deletes any a killed ingest left (`was_clean` in _sync).
            flat = [c for chunks in chunked for c in chunks]
            if flat:
                store.upsert(flat, np.concatenate([
                    chunk_vectors(sv, [tokens[s.text] for s in doc.sentences], chunks)
                    for doc, chunks, sv in zip(batch, chunked, sentence_vectors, strict=True)]))
            for doc, chunks, sv, doc_words in zip(batch, chunked, sentence_vectors, words,
                                                  strict=True):
                catalog.add_document(doc, chunks, sv, doc_words)  # this document's commit
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
