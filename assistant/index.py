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
from collections.abc import Container
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .catalog import Catalog
from .text import TEXT_VERSION, bm25_tokens, content_terms, fold, proper_terms, words
from .types import Document, Sentence

logger = logging.getLogger(__name__)

# Bump when what is saved, or how it is computed, changes: older folders are then rebuilt.
SAVED_FORMAT = "2"
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


class SentenceTerms:
    """Each sentence's content-word stems, as a frozenset per row, from compact arrays.

    The sets are made when first asked for (an answer looks at a few dozen sentences, not all of
    them) and kept.
    """

    def __init__(self, vocab: list[str], indptr: np.ndarray, indices: np.ndarray):
        self.vocab = vocab
        self.indptr = indptr
        self.indices = indices
        self._sets: dict[int, frozenset[str]] = {}

    @classmethod
    def build(cls, texts: list[str]) -> SentenceTerms:
        ids: dict[str, int] = {}
        indptr = [0]
        indices: list[int] = []
        for text in texts:
            for t in dict.fromkeys(content_terms(text)):
                indices.append(ids.setdefault(t, len(ids)))
            indptr.append(len(indices))
        return cls(list(ids), np.asarray(indptr, np.int64), np.asarray(indices, np.int32))

    @cached_property
    def vocab_ids(self) -> dict[str, int]:
        """Term -> its id; made on first need (only question names and misspellings ask)."""
        return {t: i for i, t in enumerate(self.vocab)}

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def __getitem__(self, row: int) -> frozenset[str]:
        if row < 0:
            row += len(self)
        terms = self._sets.get(row)
        if terms is None:
            if not 0 <= row < len(self):
                raise IndexError(row)
            vocab = self.vocab
            ids = self.indices[self.indptr[row]:self.indptr[row + 1]].tolist()
            terms = self._sets[row] = frozenset(vocab[i] for i in ids)
        return terms

    def document_frequency(self) -> np.ndarray:
        return np.bincount(self.indices, minlength=len(self.vocab))


class CorpusIndex:
    """Read-only after construction; rebuilt (cheaply) after an ingest changes anything.

    `sentence_vectors` is a dict (doc_id, index) -> vector, or a matrix with one row per sentence
    in document order.
    """

    def __init__(self, documents: list[Document],
                 sentence_vectors: dict[tuple[str, int], np.ndarray] | np.ndarray,
                 chunks: list[ChunkRef], dim: int, *, terms: SentenceTerms | None = None,
                 proper: set[str] | None = None, bm25=None):
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
        if sentence_vectors.shape != (len(self.sentences), dim):
            raise ValueError(f"sentence vectors {sentence_vectors.shape} do not match "
                             f"{len(self.sentences)} sentences of dimension {dim}")
        self.sentence_matrix = sentence_vectors
        # Content-word stems of each sentence and their inverse document frequency over sentences.
        self.sentence_terms = terms or SentenceTerms.build([s.text for s in self.sentences])
        if len(self.sentence_terms) != len(self.sentences):
            raise ValueError("sentence terms do not match the sentences")
        # Terms the articles write as names, whatever case a question uses for them.
        self.proper = proper if proper is not None else proper_terms(
            [s.text for s in self.sentences])
        n = max(1, len(self.sentences))
        df = self.sentence_terms.document_frequency().tolist()
        self.idf = {t: math.log(1 + n / c) for t, c in zip(self.sentence_terms.vocab, df, strict=True)}
        self.unseen_idf = math.log(1 + n)
        self._vocab_by_initial: dict[str, list[str]] | None = None
        self._bm25 = bm25
        if chunks and bm25 is None:
            import bm25s

            self._bm25 = bm25s.BM25()
            self._bm25.index([bm25_tokens(self.chunk_text(c)) or ["\u2205"] for c in chunks],
                             show_progress=False)

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

    # saved form
    def save(self, root: Path, version: str) -> None:
        """Write the derived parts to root/version (atomically) and drop other versions' folders.

        Best effort: a read-only index directory only means the next process rebuilds too.
        """
        target = root / version
        tmp = root / f".{version}.tmp-{os.getpid()}"
        try:
            root.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir()
                np.save(tmp / "sentences.npy", np.ascontiguousarray(self.sentence_matrix, np.float32))
                terms = self.sentence_terms
                np.save(tmp / "terms_indptr.npy", terms.indptr)
                np.save(tmp / "terms_indices.npy", terms.indices)
                (tmp / "vocab.json").write_text(json.dumps(terms.vocab, ensure_ascii=False),
                                                encoding="utf-8")
                (tmp / "proper.json").write_text(json.dumps(sorted(self.proper),
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
        terms = SentenceTerms(json.loads((folder / "vocab.json").read_text(encoding="utf-8")),
                              np.load(folder / "terms_indptr.npy"),
                              np.load(folder / "terms_indices.npy"))
        bm25 = None
        if chunks:
            import bm25s

            bm25 = bm25s.BM25.load(str(folder / "bm25"), mmap=True, load_vocab=True,
                                   show_progress=False)
        proper = set(json.loads((folder / "proper.json").read_text(encoding="utf-8")))
        return cls(documents, matrix, chunks, dim, terms=terms, proper=proper, bm25=bm25)

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
