"""The in-memory view of what is indexed: documents, sentence vectors, chunks and a BM25 index.

Building it means reading every sentence vector, finding every sentence's content words and
indexing every chunk for BM25: seconds for a thousand articles. So the derived parts are saved
next to the catalog (a .npy sentence matrix read memory-mapped, the sentence terms as arrays, and
bm25s's own files), in a folder named after the catalog's content_version; a process that finds
the folder of the current version loads it instead of rebuilding, and a stale folder is never
read because its name no longer matches. A missing, stale or damaged folder is rebuilt from the
catalog, which stays the one source of truth.
"""

from __future__ import annotations

import difflib
import json
import logging
import math
import os
import re
import shutil
import threading
from collections.abc import Container
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .catalog import Catalog
from .text import TEXT_VERSION, ProperCounts, bm25_tokens, content_terms, fold, words
from .types import Document, Sentence

logger = logging.getLogger(__name__)

# Bump when what is saved, or how it is computed, changes: older folders are then rebuilt.
SAVED_FORMAT = "3"
# The saved terms and BM25 index hold tokens: a change of tokenising (text.TEXT_VERSION) makes
# them stale as surely as a change of the saved layout.
_FORMAT = f"{SAVED_FORMAT}.{TEXT_VERSION}"
SAVED_DIR = "corpus-index"
_LETTERS = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class ChunkRef:
    chunk_id: str
    doc_id: str
    first: int
    last: int


class TermRows:
    """Rows of term ids in compact arrays (a CSR layout): the terms of each sentence or chunk.

    A corpus that gains or loses articles gets new rows by dropping and appending rows, never by
    tokenising again the rows it keeps.
    """

    def __init__(self, vocab: list[str], indptr: np.ndarray, indices: np.ndarray):
        self.vocab = vocab
        self.indptr = indptr
        self.indices = indices

    @classmethod
    def build(cls, rows: list[list[str]]) -> TermRows:
        return cls.empty().updated(None, rows)

    @classmethod
    def empty(cls) -> TermRows:
        return cls([], np.zeros(1, np.int64), np.zeros(0, np.int32))

    @cached_property
    def vocab_ids(self) -> dict[str, int]:
        """Term -> its id; made on first need (only question names and misspellings ask)."""
        return {t: i for i, t in enumerate(self.vocab)}

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def row_ids(self, row: int) -> np.ndarray:
        return self.indices[self.indptr[row]:self.indptr[row + 1]]

    def updated(self, keep: np.ndarray | None, rows: list[list[str]]) -> TermRows:
        """The rows marked in `keep` (a boolean per row; None keeps all), then `rows` appended.
        The vocabulary only grows: a term no kept row holds stays, with no occurrences."""
        lengths = np.diff(self.indptr)
        indices = self.indices
        if keep is not None and not keep.all():
            indices = indices[np.repeat(keep, lengths)]
            lengths = lengths[keep]
        vocab = list(self.vocab)
        ids = dict(self.vocab_ids) if rows else {}
        added: list[int] = []
        added_lengths = []
        for terms in rows:
            for t in terms:
                i = ids.get(t)
                if i is None:
                    i = ids[t] = len(vocab)
                    vocab.append(t)
                added.append(i)
            added_lengths.append(len(terms))
        indptr = np.zeros(len(lengths) + len(added_lengths) + 1, np.int64)
        np.cumsum(np.concatenate([lengths, np.asarray(added_lengths, np.int64)]), out=indptr[1:])
        out = type(self)(vocab, indptr, np.concatenate([indices, np.asarray(added, np.int32)]))
        if rows:
            out.__dict__["vocab_ids"] = ids
        return out

    def document_frequency(self) -> np.ndarray:
        return np.bincount(self.indices, minlength=len(self.vocab))


class SentenceTerms(TermRows):
    """Each sentence's content-word stems, as a frozenset per row, from compact arrays.

    The sets are made when first asked for (an answer looks at a few dozen sentences, not all of
    them) and kept.
    """

    def __init__(self, vocab: list[str], indptr: np.ndarray, indices: np.ndarray):
        super().__init__(vocab, indptr, indices)
        self._sets: dict[int, frozenset[str]] = {}

    @classmethod
    def build(cls, texts: list[str]) -> SentenceTerms:
        return cls.of(None, texts)

    @classmethod
    def of(cls, base: SentenceTerms | None, texts: list[str], keep: np.ndarray | None = None
           ) -> SentenceTerms:
        """`base`'s kept rows, then the terms of `texts` (each term once per sentence)."""
        rows = [list(dict.fromkeys(content_terms(t))) for t in texts]
        return (base if base is not None else cls.empty()).updated(keep, rows)

    def __getitem__(self, row: int) -> frozenset[str]:
        if row < 0:
            row += len(self)
        terms = self._sets.get(row)
        if terms is None:
            if not 0 <= row < len(self):
                raise IndexError(row)
            vocab = self.vocab
            terms = self._sets[row] = frozenset(vocab[i] for i in self.row_ids(row).tolist())
        return terms


def chunk_tokens(texts: list[str]) -> list[list[str]]:
    """BM25's tokens of each chunk; an empty chunk gets one placeholder token, as bm25s needs."""
    return [bm25_tokens(t) or ["\u2205"] for t in texts]


def build_bm25(tokens: TermRows):
    """A bm25s index over the token rows, from their ids: nothing is tokenised again."""
    import bm25s

    bm25 = bm25s.BM25()
    ids = [tokens.row_ids(i).tolist() for i in range(len(tokens))]
    bm25.index((ids, dict(tokens.vocab_ids)), show_progress=False)
    return bm25


class _OpenFile:
    """A file held open for positional reads, closed when the last index using it goes."""

    def __init__(self, path: str):
        self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))

    def read(self, offset: int, size: int) -> bytes:
        if hasattr(os, "pread"):
            data = os.pread(self.fd, size, offset)
        else:  # Windows
            os.lseek(self.fd, offset, os.SEEK_SET)
            data = os.read(self.fd, size)
        if len(data) != size:
            raise OSError(f"short read from the saved sentence vectors ({len(data)} of {size})")
        return data

    def __del__(self):
        if hasattr(self, "fd"):
            os.close(self.fd)


class SentenceVectors:
    """The sentence vectors, a row per sentence: rows of a saved matrix (memory-mapped, so only
    the rows an answer reads are paged in), then rows added since it was saved (in memory).

    Dropping an article's rows or appending a new article's never copies the saved matrix.
    """

    def __init__(self, base: np.ndarray, base_rows: np.ndarray | None = None,
                 extra: np.ndarray | None = None, source: _OpenFile | None = None):
        self.base = base
        self.base_rows = np.arange(len(base), dtype=np.int64) if base_rows is None else base_rows
        self.extra = np.zeros((0, base.shape[1]), np.float32) if extra is None else extra
        # The saved file behind a memory-mapped base, held open: `write` reads it even after a
        # newer save has deleted its folder.
        filename = getattr(base, "filename", None)
        self.source = source or (_OpenFile(filename) if filename else None)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.base_rows) + len(self.extra), self.base.shape[1])

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        rows = np.asarray(rows, np.int64)
        n_base = len(self.base_rows)
        if not len(self.extra):
            return np.asarray(self.base[self.base_rows[rows]], np.float32)
        out = np.empty((len(rows), self.shape[1]), np.float32)
        old = rows < n_base
        out[old] = self.base[self.base_rows[rows[old]]]
        out[~old] = self.extra[rows[~old] - n_base]
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self[np.arange(len(self))]
        return out if dtype is None else out.astype(dtype)

    def updated(self, keep: np.ndarray, added: np.ndarray) -> SentenceVectors:
        """The rows marked in `keep` (a boolean per row), then `added`."""
        n_base = len(self.base_rows)
        extra = np.concatenate([self.extra[keep[n_base:]], np.asarray(added, np.float32)])
        return SentenceVectors(self.base, self.base_rows[keep[:n_base]], extra, self.source)

    def write(self, path: Path, block: int = 16384) -> None:
        """Save as one .npy matrix, copied in blocks with plain file reads and writes: neither the
        whole matrix nor (for a memory-mapped one) its pages become part of this process's memory
        (writing through a memory map would add the whole file to a server's resident size)."""
        dim = self.shape[1]
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)),
                  "fortran_order": False, "shape": self.shape}
        with open(path, "wb") as out:
            np.lib.format.write_array_header_1_0(out, header)
            if self.source is None:  # in memory
                for at in range(0, len(self.base_rows), block):
                    out.write(np.ascontiguousarray(
                        self.base[self.base_rows[at:at + block]], np.float32).tobytes())
            else:  # base_rows ascend (rows are only ever dropped): one pass over the file
                for at in range(0, len(self.base), block):
                    n = min(block, len(self.base) - at)
                    rows = np.frombuffer(self.source.read(self.base.offset + at * dim * 4,
                                                          n * dim * 4), np.float32)
                    lo, hi = np.searchsorted(self.base_rows, [at, at + block])
                    out.write(rows.reshape(n, dim)[self.base_rows[lo:hi] - at].tobytes())
            out.write(np.ascontiguousarray(self.extra, np.float32).tobytes())


class CorpusIndex:
    """Read-only after construction; after an ingest changes anything, `updated` makes the next
    one from it (or `load` from the catalog).

    `sentence_vectors` is a dict (doc_id, index) -> vector, or a matrix (or SentenceVectors) with
    one row per sentence in document order.
    """

    def __init__(self, documents: list[Document],
                 sentence_vectors: dict[tuple[str, int], np.ndarray] | np.ndarray | SentenceVectors,
                 chunks: list[ChunkRef], dim: int, *, terms: SentenceTerms | None = None,
                 proper: ProperCounts | None = None, tokens: TermRows | None = None, bm25=None):
        self.documents = {d.doc_id: d for d in documents}
        self.chunks = chunks
        self.chunk_pos = {c.chunk_id: i for i, c in enumerate(chunks)}
        self.dim = dim
        # One row per sentence, so scoring a set of sentences is one matrix product.
        self.sentences: list[Sentence] = [s for d in documents for s in d.sentences]
        self.sentence_row = {(s.doc_id, s.index): i for i, s in enumerate(self.sentences)}
        if isinstance(sentence_vectors, dict):
            sentence_vectors = (
                np.stack([sentence_vectors[(s.doc_id, s.index)] for s in self.sentences])
                if self.sentences else np.zeros((0, dim), np.float32))
        if not isinstance(sentence_vectors, SentenceVectors):
            sentence_vectors = SentenceVectors(sentence_vectors)
        if sentence_vectors.shape != (len(self.sentences), dim):
            raise ValueError(f"sentence vectors {sentence_vectors.shape} do not match "
                             f"{len(self.sentences)} sentences of dimension {dim}")
        self.sentence_matrix = sentence_vectors
        # Content-word stems of each sentence and their inverse document frequency over sentences.
        self.sentence_terms = terms or SentenceTerms.build([s.text for s in self.sentences])
        if len(self.sentence_terms) != len(self.sentences):
            raise ValueError("sentence terms do not match the sentences")
        # Terms the articles write as names, whatever case a question uses for them.
        self.proper_counts = proper or ProperCounts.of([s.text for s in self.sentences])
        self.proper = self.proper_counts.terms()
        n = max(1, len(self.sentences))
        df = self.sentence_terms.document_frequency().tolist()
        # A term no sentence holds any more (its article was removed) has no idf: it is unseen.
        self.idf = {t: math.log(1 + n / c)
                    for t, c in zip(self.sentence_terms.vocab, df, strict=True) if c}
        self.unseen_idf = math.log(1 + n)
        self._vocab_by_initial: dict[str, list[str]] | None = None
        # BM25's tokens of each chunk, kept so that a changed corpus re-indexes without
        # tokenising again, and the bm25s index over them.
        self.chunk_tokens = tokens or TermRows.build(
            chunk_tokens([self.chunk_text(c) for c in chunks]))
        if len(self.chunk_tokens) != len(chunks):
            raise ValueError("chunk tokens do not match the chunks")
        self._bm25 = bm25 if bm25 is not None or not chunks else build_bm25(self.chunk_tokens)

    @classmethod
    def load(cls, catalog: Catalog, dim: int) -> CorpusIndex:
        """From the saved folder of the catalog's current content, or else built and saved."""
        with catalog.snapshot():
            version = catalog.content_version()
            documents = catalog.load_documents()
            chunks = [ChunkRef(cid, doc, first, last)
                      for cid, doc, first, last, _ in catalog.load_chunks()]
            root = catalog.path.parent / SAVED_DIR
            if version is not None:
                try:
                    return cls._open(root / version, documents, chunks, dim)
                except FileNotFoundError:
                    pass
                except Exception as exc:  # noqa: BLE001  (damaged or foreign files: rebuild)
                    logger.warning("Rebuilding the saved corpus index (%s: %s).",
                                   type(exc).__name__, exc)
                    shutil.rmtree(root / version, ignore_errors=True)  # so it is saved anew
            matrix = catalog.load_sentence_matrix(documents, dim)
        index = cls(documents, matrix, chunks, dim)
        if version is not None:
            index.save(root, version)
        return index

    def updated(self, catalog: Catalog) -> CorpusIndex:
        """The index of the catalog's current content, made from this one: the articles the
        catalog no longer holds are dropped, and only the ones it gained are read, tokenised and
        counted. Equal to `load`'s result (tests/test_scale_paths.py), at a cost that grows with
        the change rather than with the corpus; it falls back to `load` when the catalog's order
        is not this index's order plus new articles at the end (a rebuild). Not saved: call
        `save_current` (a background thread may) so that the next process starts from it."""
        with catalog.snapshot():
            version = catalog.content_version()
            order = catalog.doc_order()
            kept = [d for d in order if d in self.documents]
            kept_ids = set(kept)
            appended = kept == [d for d in self.documents if d in kept_ids] and \
                order[:len(kept)] == kept
            new_ids = order[len(kept):] if appended else []
            new_docs = catalog.load_documents(new_ids)
            new_vectors = catalog.load_sentence_vectors_of(new_docs, self.dim)
            new_chunks = [ChunkRef(cid, doc, first, last)
                          for cid, doc, first, last, _ in catalog.load_chunks(new_ids)]
        if not appended:
            return CorpusIndex.load(catalog, self.dim)
        gone = [d for d in self.documents.values() if d.doc_id not in kept_ids]
        gone_ids = {d.doc_id for d in gone}
        keep_sentence = np.fromiter((s.doc_id not in gone_ids for s in self.sentences), bool,
                                    len(self.sentences))
        keep_chunk = np.fromiter((c.doc_id not in gone_ids for c in self.chunks), bool,
                                 len(self.chunks))
        documents = [self.documents[d] for d in kept] + new_docs
        new_texts = [s.text for d in new_docs for s in d.sentences]
        proper = self.proper_counts.plus(ProperCounts.of(new_texts))
        if gone:
            proper = proper.minus(ProperCounts.of([s.text for d in gone for s in d.sentences]))
        chunks = [c for c, k in zip(self.chunks, keep_chunk, strict=True) if k] + new_chunks
        by_id = {d.doc_id: d for d in new_docs}
        tokens = self.chunk_tokens.updated(keep_chunk, chunk_tokens(
            [_text_of(by_id[c.doc_id], c) for c in new_chunks]))
        index = CorpusIndex(
            documents, self.sentence_matrix.updated(keep_sentence, new_vectors), chunks, self.dim,
            terms=SentenceTerms.of(self.sentence_terms, new_texts, keep_sentence), proper=proper,
            tokens=tokens, bm25=build_bm25(tokens) if chunks else None)
        index.version = version
        return index

    version: str | None = None  # the catalog content an `updated` index describes, to save it

    def save_current(self, catalog: Catalog) -> None:
        """Save under the version this index describes, unless the catalog has moved past it."""
        if self.version is not None and self.version == catalog.content_version():
            self.save(catalog.path.parent / SAVED_DIR, self.version)

    # saved form
    def save(self, root: Path, version: str) -> None:
        """Write the derived parts to root/version (atomically) and drop other versions' folders.

        Best effort: a read-only index directory only means the next process rebuilds too.
        """
        target = root / version
        tmp = root / f".{version}.tmp-{os.getpid()}-{threading.get_ident()}"
        try:
            root.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir()
                self.sentence_matrix.write(tmp / "sentences.npy")
                for name, rows in (("terms", self.sentence_terms), ("tokens", self.chunk_tokens)):
                    np.save(tmp / f"{name}_indptr.npy", rows.indptr)
                    np.save(tmp / f"{name}_indices.npy", rows.indices)
                    (tmp / f"{name}_vocab.json").write_text(json.dumps(rows.vocab, ensure_ascii=False),
                                                            encoding="utf-8")
                (tmp / "proper.json").write_text(json.dumps(self.proper_counts.to_json(),
                                                            ensure_ascii=False), encoding="utf-8")
                if self._bm25 is not None:
                    self._bm25.save(str(tmp / "bm25"), show_progress=False)
                meta = {"format": _FORMAT, "version": version, "dim": self.dim,
                        "sentences": len(self.sentences), "chunks": len(self.chunks),
                        "bm25": self._bm25 is not None}
                # Written last: a folder without it is incomplete and never opened.
                (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
                try:
                    os.rename(tmp, target)
                except OSError:
                    if not (target / "meta.json").exists():
                        raise
            for old in root.iterdir():
                if old.name != version and not old.name.startswith("."):
                    shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:
            logger.warning("Could not save the corpus index under %s (%s).", root, exc)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def _open(cls, folder: Path, documents: list[Document], chunks: list[ChunkRef],
              dim: int) -> CorpusIndex:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        n_sentences = sum(len(d.sentences) for d in documents)
        expected = {"format": _FORMAT, "version": folder.name, "dim": dim,
                    "sentences": n_sentences, "chunks": len(chunks), "bm25": bool(chunks)}
        if {k: meta.get(k) for k in expected} != expected:
            raise ValueError(f"saved index {meta} does not match {expected}")
        matrix = np.load(folder / "sentences.npy", mmap_mode="r")

        def rows(name: str, kind: type[TermRows]) -> TermRows:
            return kind(json.loads((folder / f"{name}_vocab.json").read_text(encoding="utf-8")),
                        np.load(folder / f"{name}_indptr.npy"), np.load(folder / f"{name}_indices.npy"))

        bm25 = None
        if chunks:
            import bm25s

            bm25 = bm25s.BM25.load(str(folder / "bm25"), mmap=True, load_vocab=True,
                                   show_progress=False)
        proper = ProperCounts.from_json(json.loads((folder / "proper.json").read_text(encoding="utf-8")))
        return cls(documents, matrix, chunks, dim, terms=rows("terms", SentenceTerms),
                   proper=proper, tokens=rows("tokens", TermRows), bm25=bm25)

    def correct(self, term: str) -> str:
        """A question word the articles lack, mapped to a close article word ('azerbaijian')."""
        if term in self.idf or len(term) < 5:
            return term
        if self._vocab_by_initial is None:  # made on first need: most questions never need it
            by_initial: dict[str, list[str]] = {}
            for t in self.idf:
                by_initial.setdefault(t[:1], []).append(t)
            self._vocab_by_initial = by_initial
        close = difflib.get_close_matches(term, self._vocab_by_initial.get(term[:1], ()), n=1,
                                          cutoff=0.84)
        return close[0] if close else term

    def mentions(self, doc_id: str, term: str) -> bool:
        """Whether any sentence of the document holds the term (without building term sets)."""
        terms = self.sentence_terms
        term_id = terms.vocab_ids.get(term)
        if term_id is None:
            return False
        first = self.sentence_row[(doc_id, 0)]
        last = first + len(self.documents[doc_id].sentences)
        return bool(np.any(terms.indices[terms.indptr[first]:terms.indptr[last]] == term_id))

    def respell(self, text: str, real_words: Container[str]) -> str:
        """The text with each misspelt word ("petiton", "azerbijan") replaced by the article word
        it is close to, so that the question's embedding means what the reader meant. A word is
        misspelt when neither the articles nor `real_words` (the model's vocabulary) know it."""
        def fix(m: re.Match) -> str:
            word = fold(m.group().lower())
            if len(word) < 5 or not word.isalpha() or word in real_words:
                return m.group()
            term = content_terms(word)
            if not term or term[0] in self.idf:
                return m.group()
            close = self.correct(term[0])
            surface = self._surface(close) if close != term[0] else None
            if surface is None:
                return m.group()
            return surface[:1].upper() + surface[1:] if m.group()[:1].isupper() else surface
        return _LETTERS.sub(fix, text)

    def _surface(self, term: str) -> str | None:
        """An article word whose term is `term`, as the articles write it (lower case)."""
        terms = self.sentence_terms
        at = np.flatnonzero(terms.indices == terms.vocab_ids[term])
        if not len(at):
            return None
        row = int(np.searchsorted(terms.indptr, at[0], side="right")) - 1
        return next((w for w in words(self.sentences[row].text) if content_terms(w) == [term]),
                    None)

    def chunk_text(self, chunk: ChunkRef) -> str:
        return _text_of(self.documents[chunk.doc_id], chunk)

    def bm25_search(self, query: str, k: int, doc_ids: set[str] | None = None) -> list[tuple[str, float]]:
        if self._bm25 is None:
            return []
        tokens = bm25_tokens(query)
        if not tokens or k <= 0:
            return []
        scores = self._bm25.get_scores(tokens)
        # Only chunks that score (and belong to the chosen articles) are ranked, and only the
        # top k of them sorted: a full sort grew with the corpus (110,000 chunks at 10,000 articles).
        hits = np.flatnonzero(scores > 0)
        if doc_ids is not None:
            hits = hits[np.isin(self.chunk_docs[hits], self.doc_numbers(doc_ids))]
        if len(hits) > k:  # those at least as good as the k-th (ties at the cut all kept)
            kth = np.partition(scores[hits], len(hits) - k)[len(hits) - k]
            hits = hits[scores[hits] >= kth]
        hits = hits[np.lexsort((hits, -scores[hits]))][:k]  # by score, ties in chunk order
        return [(self.chunks[i].chunk_id, float(scores[i])) for i in hits]

    @cached_property
    def doc_number(self) -> dict[str, int]:
        """Each document's position in `documents`."""
        return {doc_id: i for i, doc_id in enumerate(self.documents)}

    @cached_property
    def chunk_docs(self) -> np.ndarray:
        """Each chunk's document as a number (doc_number)."""
        number = self.doc_number
        return np.fromiter((number[c.doc_id] for c in self.chunks), np.int32, len(self.chunks))

    def chunks_of(self, doc_ids: set[str]) -> list[ChunkRef]:
        """The chunks of these documents, in index order."""
        rows = np.flatnonzero(np.isin(self.chunk_docs, self.doc_numbers(doc_ids)))
        return [self.chunks[i] for i in rows]

    def doc_numbers(self, doc_ids: set[str]) -> np.ndarray:
        return np.asarray([self.doc_number[d] for d in doc_ids if d in self.doc_number], np.int32)


def _text_of(doc: Document, chunk: ChunkRef) -> str:
    return doc.text[doc.sentences[chunk.first].start:doc.sentences[chunk.last].end]
