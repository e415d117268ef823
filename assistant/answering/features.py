"""Named features of each candidate sentence for one part of a question.

Every rule the answerer used to apply as a gate or a hand weight is one feature here (the kind
of answer a sentence holds, the names its article lacks, ...), beside features that read the
question's structure: its focus (what "how many" counts, what "which" asks after) found in the
sentence, and a span of the expected kind near that focus. The fitted model (model.py) turns
them into probabilities; nothing here decides.
"""

from __future__ import annotations

import math
import re

import numpy as np

from ..index import CorpusIndex
from ..text import STOPWORDS, content_terms, match_words, term_stem
from . import analysis, predicate
from .query import Candidate, QueryPart
from .wordsim import WordVectors, word_matches

# The order of the columns the model was fitted on; model.py checks it against the saved file.
FEATURES = (
    # meaning
    "dense", "dense_gap", "dense_top", "best_dense",
    # words
    "lexical", "soft", "soft_common", "common", "named", "bigrams", "context",
    # the weakest link: the question word the sentence (or its article) meets worst
    "soft_min", "soft_min2", "soft_min_common", "soft_min_article",
    "missing_idf", "article_missing_idf", "article_cover",
    # where the sentence sits
    "retrieval_rank", "is_title", "elsewhere",
    # the question as a whole
    "missing_named", "missing_common", "n_terms",
    "kind_number", "kind_date", "kind_person", "kind_place",
    # the kind of answer the sentence holds
    "typed_fit", "typed_partly", "typed_none",
    # structure: the question's focus in the sentence, and an answer span attached to it
    "focus", "span_near_focus", "negation_mismatch", "sentence_tokens",
    # what the answer span is attached to: the question's words near it, a name beside it that
    # is the one asked about, a measure of the dimension asked for ("wide", not "long")
    "span_terms_near", "span_name_asked", "dimension_mismatch", "missing_window",
    # the question's verb in the sentence (-1: the question has none that can be found)
    "predicate",
)
INDEX = {name: i for i, name in enumerate(FEATURES)}

_NAMED = re.compile(r"\b[A-Z][\w'’-]+")
_NEGATION = re.compile(r"\b(?:not|never|no|none|nobody|without|fail(?:ed|s)?|den(?:y|ied|ies)|"
                       r"refus(?:e|ed|es)|reject(?:ed|s)?|oppos(?:e|ed|es)|against)\b|n't\b", re.I)
# What a "which/what X" or "how many X" question asks after: the words right after its opening.
_FOCUS = re.compile(r"\b(?:which|what|how many|how much|whose)\s+((?:[^\W\d_][\w'’-]*\s*){1,3})", re.I)
_DIMENSIONS = {"wide": "width", "width": "width", "broad": "width", "long": "length",
               "length": "length", "tall": "height", "high": "height", "height": "height",
               "deep": "depth", "depth": "depth", "old": "age", "age": "age", "heavy": "weight",
               "weight": "weight", "far": "distance", "distance": "distance"}
_DIMENSION_Q = re.compile(r"\bhow (wide|broad|long|tall|high|deep|old|heavy|far)\b"
                          r"|\bwhat (?:is|was) (?:the |its )?"
                          r"(width|length|height|depth|age|weight|distance)\b", re.I)
_DIMENSION_S = re.compile(r"\d[\d,.]*\s*(?:[a-z]+\s+){0,2}?(wide|broad|long|tall|high|deep|old|heavy)\b"
                          r"|\b(width|length|height|depth|age|weight)\b", re.I)
_WORD = re.compile(r"[^\W_][\w'’-]*")
_FOCUS_SKIP = frozenset("is was are were did do does has have had will would can could the a an "
                        "of in on at to for by many much kind type sort".split())




class FeatureExtractor:
    """Computes FEATURES for the candidates of one query part over one corpus index."""

    def __init__(self, index: CorpusIndex, word_vectors: WordVectors | None = None,
                 headline_weight: float = 0.25):
        self.index = index
        self.word_vectors = word_vectors
        # A question word in an article's headline says which article is asked about more than
        # which of its sentences answers: it counts for this much there.
        self.headline_weight = headline_weight
        self._headlines: dict[str, frozenset[str]] = {}

    def extract(self, part: QueryPart, vector: np.ndarray, candidates: list[Candidate]) -> np.ndarray:
        """One row of FEATURES per candidate (also stored on each candidate by name)."""
        index = self.index
        n = len(candidates)
        out = np.zeros((n, len(FEATURES)), np.float32)
        if not n:
            return out
        own = part.text
        terms = {index.correct(t) for t in content_terms(analysis.without_frame(own))}
        named = {t for w in _NAMED.findall(own[1:]) for t in content_terms(w)}
        named |= {t for t in terms if t in index.proper}
        weights = {t: index.idf.get(t, index.unseen_idf) for t in terms}
        borrowed_terms = {index.correct(t) for t in content_terms(part.borrowed)} - terms
        for t in borrowed_terms:
            weights[t] = 0.25 * index.idf.get(t, index.unseen_idf)
        total = sum(weights.values()) or 1.0
        max_idf = index.unseen_idf or 1.0

        rows = [index.sentence_row[(c.sentence.doc_id, c.sentence.index)] for c in candidates]
        dense = index.sentence_matrix[rows] @ vector
        order = np.argsort(-dense)
        dense_rank = np.empty(n, np.int64)
        dense_rank[order] = np.arange(n)
        best_dense = float(dense.max())

        out[:, INDEX["dense"]] = dense
        out[:, INDEX["dense_gap"]] = dense - best_dense
        out[:, INDEX["dense_top"]] = 1.0 / (1.0 + dense_rank)
        out[:, INDEX["best_dense"]] = best_dense
        out[:, INDEX["missing_named"]] = sum(
            w for t, w in weights.items() if t not in index.idf and t in named) / total
        out[:, INDEX["missing_common"]] = sum(
            w for t, w in weights.items() if t not in index.idf and t not in named) / total
        out[:, INDEX["n_terms"]] = len(terms)
        kind = part.kind
        for k in (analysis.NUMBER, analysis.DATE, analysis.PERSON, analysis.PLACE):
            out[:, INDEX[f"kind_{k}"]] = float(kind == k)

        soft, soft_common, matches, ordinary = self._soft(own, [c.sentence for c in candidates],
                                                          named)
        weakest = _weakest(matches, ordinary, [c.sentence.doc_id for c in candidates])
        names = {t: w for t, w in weights.items() if t in named and t in index.idf}
        names_total = sum(names.values())
        by_doc = {}
        for doc_id in dict.fromkeys(c.sentence.doc_id for c in candidates):
            headline = self._headline(doc_id)
            doc_weights = {t: w * self.headline_weight if t in headline else w
                           for t, w in weights.items()}
            doc_common = {t: w for t, w in doc_weights.items() if t not in named}
            mentioned = {t for t in terms if index.mentions(doc_id, t)}
            absent_names = (sum(w for t, w in names.items() if t not in mentioned) / names_total
                            if names_total else 0.0)
            own_weights = {t: weights[t] for t in terms}
            article_missing = max((w for t, w in own_weights.items() if t not in mentioned),
                                  default=0.0) / max_idf
            cover = (sum(w for t, w in own_weights.items() if t in mentioned)
                     / (sum(own_weights.values()) or 1.0))
            by_doc[doc_id] = (doc_weights, sum(doc_weights.values()) or 1.0, doc_common,
                              sum(doc_common.values()), absent_names, article_missing, cover)

        q_bigrams = _bigrams(analysis.without_frame(own))
        focus = self._focus(own, kind)
        q_negated = bool(_NEGATION.search(own))
        dim_q = _DIMENSION_Q.search(own)
        asked_dimension = _DIMENSIONS[(dim_q.group(1) or dim_q.group(2)).lower()] if dim_q else None
        own_terms = {t for t in terms if t not in borrowed_terms}
        verbs = predicate.question_verbs(_WORD.findall(own))
        for i, (c, row) in enumerate(zip(candidates, rows, strict=True)):
            s = c.sentence
            (doc_weights, doc_total, doc_common, common_total, absent_names, article_missing,
             cover) = by_doc[s.doc_id]
            s_terms = index.sentence_terms[row]
            f = out[i]
            f[INDEX["lexical"]] = sum(w for t, w in doc_weights.items() if t in s_terms) / doc_total
            prev = index.sentence_terms[row - 1] if s.index > 1 else frozenset()
            f[INDEX["context"]] = sum(w for t, w in doc_weights.items()
                                      if t in prev and t not in s_terms) / doc_total
            f[INDEX["common"]] = (sum(w for t, w in doc_common.items() if t in s_terms) / common_total
                                  if common_total else 1.0)
            f[INDEX["named"]] = (sum(w for t, w in names.items() if t in s_terms) / names_total
                                 if names_total else 1.0)
            f[INDEX["missing_idf"]] = max((weights[t] for t in terms if t not in s_terms),
                                          default=0.0) / max_idf
            f[INDEX["article_missing_idf"]] = article_missing
            f[INDEX["article_cover"]] = cover
            f[INDEX["soft"]] = soft[i]
            f[INDEX["soft_common"]] = soft_common[i]
            for name, value in zip(("soft_min", "soft_min2", "soft_min_common", "soft_min_article"),
                                   weakest[i], strict=True):
                f[INDEX[name]] = value
            f[INDEX["bigrams"]] = (len(q_bigrams & _bigrams(s.text)) / len(q_bigrams)
                                   if q_bigrams else 0.0)
            f[INDEX["retrieval_rank"]] = 1.0 / (1 + c.rank)
            f[INDEX["is_title"]] = float(s.index == 0)
            f[INDEX["elsewhere"]] = absent_names
            f[INDEX["negation_mismatch"]] = float(q_negated != bool(_NEGATION.search(s.text)))
            f[INDEX["sentence_tokens"]] = math.log1p(len(s.text.split()))
            if kind != analysis.OTHER:
                typed = analysis.typed_match(kind, own, s.text, terms, term_stem)
                f[INDEX["typed_fit"]] = float(typed >= 1.0)
                f[INDEX["typed_partly"]] = float(0 < typed < 1.0)
                f[INDEX["typed_none"]] = float(typed < 0)
            f[INDEX["missing_window"]] = self._missing_window(row, s, own_terms, weights, max_idf)
            if asked_dimension:
                said_dims = {_DIMENSIONS[(m.group(1) or m.group(2)).lower()]
                             for m in _DIMENSION_S.finditer(s.text)}
                f[INDEX["dimension_mismatch"]] = float(bool(said_dims)
                                                       and asked_dimension not in said_dims)
            if kind != analysis.OTHER:
                spans = analysis.spans_of(kind, s.text)
                near, name_asked = _attachment(s.text, spans, own_terms, named)
                f[INDEX["span_terms_near"]] = near
                f[INDEX["span_name_asked"]] = name_asked
            if focus:
                found = _positions(s.text, focus)
                f[INDEX["focus"]] = len({w for w, _ in found}) / len(focus)
                if found and kind != analysis.OTHER:
                    spans = analysis.spans_of(kind, s.text)
                    f[INDEX["span_near_focus"]] = float(any(
                        abs(pos - a) <= 40 or abs(pos - b) <= 40 or a <= pos < b
                        for _, pos in found for a, b in spans))
            f[INDEX["predicate"]] = (
                len(verbs & {predicate.verb_stem(w) for w in _WORD.findall(s.text)}) / len(verbs)
                if verbs else -1.0)
            c.features = dict(zip(FEATURES, f.tolist(), strict=True))
        return out

    def _missing_window(self, row: int, s, terms: set[str], weights: dict[str, float],
                        max_idf: float) -> float:
        """The weight of the question's own words that neither the sentence nor its neighbours
        hold, as a share of the heaviest possible word."""
        index = self.index
        window = set(index.sentence_terms[row])
        if s.index > 0:
            window |= index.sentence_terms[row - 1]
        if s.index + 1 < len(index.documents[s.doc_id].sentences):
            window |= index.sentence_terms[row + 1]
        return sum(weights[t] for t in terms if t not in window) / max_idf

    def _focus(self, question: str, kind: str) -> set[str]:
        """What the question asks after: the words that follow "which/what/how many"."""
        m = _FOCUS.search(question)
        if not m:
            return set()
        words = [w.lower() for w in re.findall(r"[^\W\d_][\w'’-]*", m.group(1))]
        kept = [w for w in words if w not in _FOCUS_SKIP and w not in STOPWORDS]
        return {term_stem(w) for w in kept[:2]}

    def _headline(self, doc_id: str) -> frozenset[str]:
        headline = self._headlines.get(doc_id)
        if headline is None:
            doc = self.index.documents[doc_id]
            headline = self._headlines[doc_id] = frozenset(
                self.index.correct(t) for t in content_terms(doc.title))
        return headline

    def _soft(self, question: str, sentences, named: set[str]):
        """Soft coverage of the question's words (all, and the ordinary ones) by each sentence,
        with the sentences x words match matrix and which words are ordinary."""
        zeros = np.zeros(len(sentences), np.float32)
        q_words = match_words(analysis.without_frame(question))
        if self.word_vectors is None or not q_words:
            return zeros, zeros, np.ones((len(sentences), 0), np.float32), np.zeros(0, bool)
        index = self.index
        stems = [index.correct(term_stem(w)) for w in q_words]
        base = np.array([index.idf.get(t, index.unseen_idf) for t in stems], np.float32)
        ordinary = np.array([t not in named for t in stems], np.float32)
        matches = word_matches(q_words, [match_words(s.text) for s in sentences], self.word_vectors)
        soft, soft_common = zeros.copy(), zeros.copy()
        for doc_id in dict.fromkeys(s.doc_id for s in sentences):
            rows = [i for i, s in enumerate(sentences) if s.doc_id == doc_id]
            headline = self._headline(doc_id)
            weights = base * np.array([self.headline_weight if t in headline else 1.0
                                       for t in stems], np.float32)
            soft[rows] = matches[rows] @ weights / max(float(weights.sum()), 1e-9)
            common = weights * ordinary
            soft_common[rows] = (matches[rows] @ common / float(common.sum())
                                 if common.sum() > 0 else 1.0)
        return soft, soft_common, matches, ordinary.astype(bool)


def _weakest(matches: np.ndarray, ordinary: np.ndarray, doc_ids: list[str]) -> np.ndarray:
    """Per sentence: its worst and second-worst match of a question word, its worst match of an
    ordinary word, and the worst match of a word by any retrieved sentence of its article."""
    n = matches.shape[0]
    out = np.ones((n, 4), np.float32)
    if matches.shape[1] == 0:
        return out
    ordered = np.sort(matches, axis=1)
    out[:, 0] = ordered[:, 0]
    out[:, 1] = ordered[:, 1] if matches.shape[1] > 1 else ordered[:, 0]
    if ordinary.any():
        out[:, 2] = matches[:, ordinary].min(axis=1)
    docs = np.asarray(doc_ids)
    for doc in dict.fromkeys(doc_ids):
        rows = docs == doc
        out[rows, 3] = matches[rows].max(axis=0).min()
    return out


def _attachment(text: str, spans: list[tuple[int, int]], terms: set[str],
                named: set[str]) -> tuple[float, float]:
    """For the answer span best surrounded by the question's words: the share of those words
    within six words of it, and whether the nearest name beside it is one the question asks
    about (0.5 when the question names nobody or no name stands near)."""
    if not spans or not terms:
        return 0.0, 0.5
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
    best_near, best_name = 0.0, 0.5
    for a, b in spans:
        idx = [i for i, (ws, we, _) in enumerate(words) if ws < b and we > a]
        if not idx:
            continue
        lo, hi = max(0, idx[0] - 6), min(len(words), idx[-1] + 7)
        around = {term_stem(w.lower()) for _, _, w in words[lo:hi]}
        near = len(terms & around) / len(terms)
        name = 0.5
        if named:
            caps = [(min(abs(ws - a), abs(ws - b)), i) for i, (ws, we, w) in enumerate(words)
                    if w[:1].isupper() and ws > 0 and not (a <= ws < b)]
            if caps:
                # The whole name the nearest capitalised word belongs to ("Jean Pickard", not
                # just "Pickard") must be the one asked about.
                i = j = min(caps)[1]
                while i > 0 and words[i - 1][2][:1].isupper():
                    i -= 1
                while j + 1 < len(words) and words[j + 1][2][:1].isupper():
                    j += 1
                run = {term_stem(w.lower()) for _, _, w in words[i:j + 1]}
                name = float(run <= named)
        if (near, name) > (best_near, best_name):
            best_near, best_name = near, name
    return best_near, best_name


def _bigrams(text: str) -> set[tuple[str, str]]:
    terms = content_terms(text)
    return set(zip(terms, terms[1:], strict=False))


def _positions(text: str, stems: set[str]) -> list[tuple[str, int]]:
    """(stem, character offset) of each word of the text whose stem is one of `stems`."""
    return [(st, m.start()) for m in re.finditer(r"[^\W_][\w'’-]*", text)
            if (st := term_stem(m.group().lower())) in stems]
