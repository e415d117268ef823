"""Soft word matching: how near each question word comes to some word of a sentence.

Readers ask in their own words ("growers" for "farmers", "hire" for "recruit"); exact stems and
the short synonym list in text.py miss most of that. Each word gets a vector from the embedding
model (the word encoded on its own), and a question word counts as matched to the degree that
the closest word of the sentence is similar to it: fully at `high` cosine or above, not at all at
`low` or below. An exact stem match always counts fully.

Vectors are kept per word: the corpus's words come from the catalog (embedded at ingest), any
other word (most often a question's) is encoded when first needed and kept in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from threading import Lock

import numpy as np

from ..text import canonical, stem

# Cosines between single-word MiniLM vectors: synonyms ("town"/"city" 0.77, "land"/"territory"
# 0.70, "hire"/"recruit" 0.65) sit above `high`-ish; unrelated words mostly below `low`.
LOW, HIGH = 0.45, 0.75


class WordVectors:
    """Unit vectors of single words, encoded with `encode` when not known yet."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray],
                 known: dict[str, np.ndarray] | None = None, *, max_new: int = 200_000):
        self._encode = encode
        self._vectors: dict[str, np.ndarray] = dict(known or {})
        self._max_new = max_new
        self._new = 0
        self._lock = Lock()

    def __len__(self) -> int:
        return len(self._vectors)

    def known(self) -> frozenset[str]:
        return frozenset(self._vectors)

    def missing(self, words: list[str]) -> list[str]:
        vectors = self._vectors
        return [w for w in dict.fromkeys(words) if w not in vectors]

    def add(self, vectors: dict[str, np.ndarray]) -> None:
        """Vectors made elsewhere (the catalog's, embedded at ingest; a question's words encoded
        with it), normalised here."""
        if not vectors:
            return
        words = list(vectors)
        matrix = np.asarray([vectors[w] for w in words], np.float32)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)
        with self._lock:
            self._vectors.update(zip(words, matrix, strict=True))

    def matrix(self, items: Iterable[str]) -> np.ndarray:
        """One row per word, in order; unknown words are encoded in one batch."""
        items = list(items)
        if not items:
            return np.zeros((0, 0), np.float32)
        vectors = self._vectors
        missing = [w for w in dict.fromkeys(items) if w not in vectors]
        if missing:
            encoded = np.asarray(self._encode(missing), np.float32)
            encoded /= np.maximum(np.linalg.norm(encoded, axis=1, keepdims=True), 1e-9)
            with self._lock:
                if self._new + len(missing) > self._max_new:  # a runaway stream of new words
                    self._vectors = {}
                    self._new = 0
                self._vectors.update(zip(missing, encoded, strict=True))
                self._new += len(missing)
                vectors = self._vectors
        return np.stack([vectors[w] for w in items])

def soft_coverage(question_words: list[str], weights: np.ndarray,
                  sentence_words: list[list[str]], vectors: WordVectors) -> np.ndarray:
    """Per sentence, the weighted share of the question's words it matches (softly), in 0..1."""
    out = np.zeros(len(sentence_words), np.float32)
    if not question_words or weights.sum() <= 0:
        return out
    vocab = list(dict.fromkeys(w for ws in sentence_words for w in ws))
    if not vocab:
        return out
    q = vectors.matrix(question_words)
    v = vectors.matrix(vocab)
    sims = q @ v.T  # question words x sentence vocabulary
    col = {w: i for i, w in enumerate(vocab)}
    q_stems = [canonical(stem(w)) for w in question_words]
    v_stems = [canonical(stem(w)) for w in vocab]
    scale = 1.0 / (HIGH - LOW)
    total = float(weights.sum())
    for row, ws in enumerate(sentence_words):
        if not ws:
            continue
        cols = [col[w] for w in ws]
        best = sims[:, cols].max(axis=1)
        score = np.clip((best - LOW) * scale, 0.0, 1.0)
        stems = {v_stems[c] for c in cols}
        exact = np.array([s in stems for s in q_stems])
        score = np.where(exact, 1.0, score)
        out[row] = float((score * weights).sum()) / total
    return out
