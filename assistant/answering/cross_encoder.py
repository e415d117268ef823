"""The cross-encoder: reads a question and one sentence together and scores whether the sentence
answers it (a logit). The bundled all-MiniLM-L6-v2 fine-tuned on the labelled questions
(CROSS-ENCODER.md); only its top candidates are read, so its cost is a few short pairs.

The ONNX file holds every weight but the word embeddings, which training left frozen at the
bundled model's: they are read from that package, so the file stays small and nothing is
downloaded.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILE = Path(__file__).with_name("cross_encoder.onnx")
MAX_TOKENS = 160  # as trained


# Words by which a sentence names someone said before it ("...," she said.): such a sentence is
# read with the one before it, which says who that is (the cross-encoder reads one pair at a time).
_BACK_REFERENCES = frozenset("he she him his her hers they them their theirs".split())


def refers_back(text: str) -> bool:
    return bool({w.strip(".,;:!?\"'\u201c\u201d\u2018\u2019()").lower() for w in text.split()}
                & _BACK_REFERENCES)


@functools.cache
def _pool() -> ThreadPoolExecutor | None:
    """One pool for the process, whatever the number of encoders (every Assistant loads one):
    as many threads as cores, at most 4; none on one core."""
    workers = min(4, os.cpu_count() or 1)
    return ThreadPoolExecutor(workers, thread_name_prefix="cross-encoder") if workers > 1 else None


class CrossEncoder:
    def __init__(self, path: Path = FILE, model_folder: str | None = None):
        import onnxruntime as ort
        from safetensors import safe_open
        from tokenizers import Tokenizer

        from ..embeddings import resolve_model_path

        folder = Path(model_folder or resolve_model_path(""))
        with safe_open(str(folder / "model.safetensors"), framework="np") as weights:
            self._words = weights.get_tensor("embeddings.word_embeddings.weight").astype(np.float32)
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()
        options = ort.SessionOptions()
        # One thread per pair, the pairs side by side: a pair of ~40 tokens gains almost nothing
        # from a second thread (three pairs in turn: 8.7 ms with two threads each, 9.1 with
        # one), while two pairs at once on 2 cores take three in 6.6 ms, with the same scores.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._pool = _pool()

    def score_in_context(self, question: str, sentences: list[str], previous: list[str | None],
                         alone: np.ndarray | None = None) -> np.ndarray:
        """Like score (`alone`, if already known); a sentence that refers back to someone by
        pronoun also reads after its predecessor (`previous`, None for none), and keeps the
        better of its two scores."""
        out = (self.score(question, sentences) if alone is None else alone).copy()
        read = [i for i, (text, before) in enumerate(zip(sentences, previous, strict=True))
                if before and refers_back(text)]
        if read:
            after = self.score(question, [f"{previous[i]} {sentences[i]}" for i in read])
            out[read] = np.maximum(out[read], after)
        return out

    def score(self, question: str, sentences: list[str]) -> np.ndarray:
        """One logit per sentence: higher means it answers the question.

        Each pair runs alone: the int8 graph quantizes its activations with one range per run,
        so a pair batched with longer ones (and their padding) would score differently. Several
        pairs run side by side, one thread each."""
        feeds = [self._feed(question, sentence) for sentence in sentences]
        if self._pool is None or len(feeds) < 2:
            return np.array([self._run(feed) for feed in feeds], np.float32)
        return np.array(list(self._pool.map(self._run, feeds)), np.float32)

    def _feed(self, question: str, sentence: str) -> dict[str, np.ndarray]:
        enc = self._tokenizer.encode(question, sentence)
        ids = np.array([enc.ids], dtype=np.int64)
        return {"inputs_embeds": self._words[ids],
                "attention_mask": np.array([enc.attention_mask], dtype=np.int64),
                "token_type_ids": np.array([enc.type_ids], dtype=np.int64)}

    def _run(self, feed: dict[str, np.ndarray]) -> float:
        return float(self._session.run(None, feed)[0][0])


STACK_FILE = Path(__file__).with_name("cross_check.json")
# The second reading's inputs, per question part, over the reader's top candidates.
STACK_FEATURES = ("judge_logit", "ce_max", "ce_first", "p_first_logit", "combined_max")


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def logit(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def stack_row(judge: float, p_top: np.ndarray, ce_top: np.ndarray) -> np.ndarray:
    """STACK_FEATURES for one part: the judge's P(answerable), and the reader's probabilities and
    the cross-encoder's logits for its top candidates (best by the reader first)."""
    lp = logit(p_top)
    return np.array([float(logit(judge)), float(ce_top.max()), float(ce_top[0]), float(lp[0]),
                     float((lp + ce_top).max())])


def combined_order(p_top: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The top candidates, best first by the reader's log-odds plus the cross-encoder's logit."""
    return np.argsort(-(logit(p_top) + scores), kind="stable")


@dataclass(frozen=True)
class Rereading:
    answerable: float   # P(the part is answerable), after both readings
    order: np.ndarray   # the top candidates, best first by reader and cross-encoder together
    scores: np.ndarray  # the cross-encoder's logit of each top candidate, in the reader's order


class CrossCheck:
    """Reads the reader's top candidates again with the cross-encoder and combines both
    readings (a logistic model fitted on the development split, cross_check.json)."""

    def __init__(self, encoder: CrossEncoder, meta: dict):
        if tuple(meta["features"]) != STACK_FEATURES:
            raise ValueError(f"{STACK_FILE.name} holds other inputs; run evals/fit_cross_check.py")
        self.encoder = encoder
        self.meta = meta
        self.top_k = int(meta["top_k"])
        self.weights = np.asarray(meta["weights"], np.float64)
        self.bias = float(meta["bias"])
        self.threshold = float(meta["threshold"])
        self.pronoun_context = bool(meta.get("pronoun_context", False))
        self.version = str(meta["version"])

    @classmethod
    def load(cls, path: Path = STACK_FILE, encoder: CrossEncoder | None = None) -> CrossCheck:
        meta = json.loads(path.read_text(encoding="utf-8"))
        if meta.get("cross_encoder_sha256") != file_digest(FILE):
            raise ValueError(f"{path.name} was fitted on another {FILE.name}; run "
                             "evals/fit_cross_check.py")
        return cls(encoder or CrossEncoder(), meta)

    def reread(self, question: str, sentences: list[str], p_top: np.ndarray,
               judge: float, previous: list[str | None] | None = None) -> Rereading:
        """`sentences`: the reader's top candidates (at most top_k), best first; `p_top` their
        probabilities; `judge` the reader's P(answerable); `previous`: the sentence before each
        (None for none), read with it where it refers back (when fitted so)."""
        ce = self.encoder.score(question, sentences)
        z = float(stack_row(judge, p_top, ce) @ self.weights + self.bias)
        # Which one answers: a sentence that refers back by pronoun is also read after the one
        # before it ("...," she said. after the sentence naming her), for the order only.
        in_context = ce
        if self.pronoun_context and previous is not None:
            # Context can only raise a score, so the candidate first alone keeps its place unless
            # another, read in context, overtakes it: only then is it read in context too.
            first = combined_order(p_top, ce)[0]
            others = [None if i == first else b for i, b in enumerate(previous)]
            in_context = self.encoder.score_in_context(question, sentences, others, ce)
            if combined_order(p_top, in_context)[0] != first:
                own = [b if i == first else None for i, b in enumerate(previous)]
                in_context = self.encoder.score_in_context(question, sentences, own, in_context)
        return Rereading(1.0 / (1.0 + np.exp(-z)), combined_order(p_top, in_context), ce)
