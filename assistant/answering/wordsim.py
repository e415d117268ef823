"""Soft word matching: how near each question word comes to some word of a sentence.

Readers ask in their own words ("growers" for "farmers", "hire" for "recruit"); exact stems and
the short synonym list in text.py miss most of that. Each word gets a vector from the embedding
model (the word encoded on its own), and a question word counts as matched to the degree that
the closest word of the sentence is similar to it: fully at `high` cosine or above, not at all at
`low` or below. An exact stem match always counts fully.

Vectors are kept per word: the corpus's words come from the catalog (embedded at ingest), the
model's own vocabulary of whole words (some 21,000 for MiniLM) is embedded once per machine and
model and kept next to the ONNX export (`common_vocabulary`), so a question's words almost always
have one; any other word is encoded when first needed and kept in memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from threading import Lock

import numpy as np

from ..text import term_stem

logger = logging.getLogger(__name__)

# Cosines between single-word MiniLM vectors: synonyms ("town"/"city" 0.77, "land"/"territory"
# 0.70, "hire"/"recruit" 0.65) sit above `high`-ish; unrelated words mostly below `low`.
LOW, HIGH = 0.45, 0.75


class WordVectors:
    """Unit vectors of single words: a permanent set (the model's vocabulary, the corpus's
    words) and at most `max_new` other words met in questions, the least recently used dropped
    first, so a stream of new words never grows the process."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray],
                 known: dict[str, np.ndarray] | None = None, *, max_new: int = 20_000):
        self._encode = encode
        self._vectors: dict[str, np.ndarray] = dict(known or {})
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._max_new = max_new
        self._lock = Lock()

    def known(self) -> frozenset[str]:
        return frozenset(self._vectors)

    def missing(self, words: list[str]) -> list[str]:
        vectors, recent = self._vectors, self._recent
        return [w for w in dict.fromkeys(words) if w not in vectors and w not in recent]

    def add(self, vectors: dict[str, np.ndarray]) -> None:
        """Vectors to keep for good (the catalog's, embedded at ingest), normalised here."""
        normalised = _normalised(vectors)
        with self._lock:
            self._vectors.update(normalised)

    def remember(self, vectors: dict[str, np.ndarray]) -> None:
        """Vectors of words met in questions: kept while there is room, oldest dropped first."""
        normalised = _normalised(vectors)
        with self._lock:
            for word, vector in normalised.items():
                self._recent[word] = vector
                self._recent.move_to_end(word)
            while len(self._recent) > self._max_new:
                self._recent.popitem(last=False)

    def matrix(self, items: Iterable[str]) -> np.ndarray:
        """One row per word, in order; unknown words are encoded in one batch."""
        items = list(items)
        if not items:
            return np.zeros((0, 0), np.float32)
        missing = self.missing(items)
        encoded = dict(zip(missing, self._encode(missing), strict=True)) if missing else {}
        self.remember(encoded)
        with self._lock:
            rows = [self._vectors.get(w) if w in self._vectors else self._recent.get(w)
                    for w in items]
        # A word evicted between remember() and here (a burst of other questions) is encoded again.
        fresh = [w for w, r in zip(items, rows, strict=True) if r is None]
        if fresh:
            again = dict(zip(fresh, _unit(self._encode(fresh)), strict=True))
            rows = [again[w] if r is None else r for w, r in zip(items, rows, strict=True)]
        return np.stack(rows)

    def __len__(self) -> int:
        return len(self._vectors) + len(self._recent)


def _normalised(vectors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The same words with unit vectors."""
    if not vectors:
        return {}
    words = list(vectors)
    return dict(zip(words, _unit([vectors[w] for w in words]), strict=True))


def _unit(vectors) -> np.ndarray:
    """Rows scaled to length 1 (float32)."""
    matrix = np.asarray(vectors, np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)


def word_matches(question_words: list[str], sentence_words: list[list[str]],
                 vectors: WordVectors) -> np.ndarray:
    """Sentences x question words: how well each sentence meets each question word, 0..1 (1 for
    the same stem)."""
    out = np.zeros((len(sentence_words), len(question_words)), np.float32)
    vocab = list(dict.fromkeys(w for ws in sentence_words for w in ws))
    if not question_words or not vocab:
        return out
    sims = vectors.matrix(question_words) @ vectors.matrix(vocab).T  # question words x vocab
    soft = np.clip((sims - LOW) / (HIGH - LOW), 0.0, 1.0)
    # The same stem is a full match, whatever the vectors say.
    stem_ids: dict[str, int] = {}
    q_stems = np.array([stem_ids.setdefault(term_stem(w), len(stem_ids)) for w in question_words])
    v_stems = np.array([stem_ids.setdefault(term_stem(w), len(stem_ids)) for w in vocab])
    soft[q_stems[:, None] == v_stems[None, :]] = 1.0
    # Each sentence's best match of each question word: a max over its words' columns, all
    # sentences at once (np.maximum.reduceat over the sentences' columns laid end to end).
    col = {w: i for i, w in enumerate(vocab)}
    filled = [row for row, ws in enumerate(sentence_words) if ws]
    cols = [col[w] for row in filled for w in sentence_words[row]]
    starts = np.cumsum([0] + [len(sentence_words[row]) for row in filled[:-1]])
    out[filled] = np.maximum.reduceat(soft[:, cols], starts, axis=1).T
    return out


def soft_coverage(question_words: list[str], weights: np.ndarray,
                  sentence_words: list[list[str]], vectors: WordVectors) -> np.ndarray:
    """Per sentence, the weighted share of the question's words it matches (softly), in 0..1."""
    total = float(weights.sum())
    if not question_words or total <= 0:
        return np.zeros(len(sentence_words), np.float32)
    return word_matches(question_words, sentence_words, vectors) @ weights / total


def common_vocabulary(model_path: str, identity: str, cache_dir: Path,
                      encode: Callable[[list[str]], np.ndarray]) -> dict[str, np.ndarray]:
    """Vectors of the whole words in the model's tokenizer vocabulary, made on first use and kept
    in `cache_dir` (float16); empty when the model folder has no vocabulary file."""
    words = _tokenizer_words(Path(model_path))
    if not words:
        return {}
    digest = hashlib.sha256(f"{identity}|{len(words)}".encode()).hexdigest()[:16]
    folder = Path(cache_dir) / f"words-{digest}"
    try:
        saved = json.loads((folder / "words.json").read_text(encoding="utf-8"))
        matrix = np.load(folder / "vectors.npy")
        if saved == words and matrix.shape[0] == len(words):
            return dict(zip(words, matrix.astype(np.float32), strict=True))
    except (OSError, ValueError):
        pass
    logger.info("Embedding the model's %d vocabulary words once (kept in %s).", len(words), folder)
    matrix = _unit(encode(words))
    try:
        tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
        tmp.mkdir(parents=True, exist_ok=True)
        np.save(tmp / "vectors.npy", matrix.astype(np.float16))
        (tmp / "words.json").write_text(json.dumps(words), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    except OSError as exc:  # a read-only cache only means the next process embeds them again
        logger.warning("Could not keep the vocabulary vectors in %s (%s).", folder, exc)
    return dict(zip(words, matrix, strict=True))


def _tokenizer_words(model_path: Path) -> list[str]:
    """Whole lower-case words of three or more letters in the model's WordPiece vocabulary."""
    vocab_file, tokenizer_file = model_path / "vocab.txt", model_path / "tokenizer.json"
    if vocab_file.is_file():
        entries = vocab_file.read_text(encoding="utf-8").splitlines()
    elif tokenizer_file.is_file():
        entries = list(json.loads(tokenizer_file.read_text(encoding="utf-8"))
                       .get("model", {}).get("vocab", {}))
    else:
        return []
    return sorted({w for w in entries if len(w) >= 3 and w.isalpha() and w.islower()})
