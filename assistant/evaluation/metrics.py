"""Per-question verdicts and their aggregation into the run's metrics (pure functions).

Every rate is a fraction in 0..1, or None when its denominator is empty. Denominators:

- answer_accuracy: answerable questions. Correct when the answer is not an abstention, any
  of `answers` occurs in its text (if `answers` is given) and all of `answers_all` occur (if
  given); with neither list, any non-abstained answer is correct. Inline citation markers
  such as "[1]" are removed from the text first.
- answer_f1: answerable questions with at least one gold string (each of `answers`, plus
  `answers_all` joined by spaces). Mean over them of the SQuAD token F1 of the answer text
  against its closest gold; an abstention scores 0.
- citation_hit: answerable questions with evidence that were answered (not abstained). Hit
  when at least one cited sentence is evidence: it contains an evidence string or lies
  inside one. An answer without citations is a miss.
- citation_precision: answerable questions with evidence and at least one citation. Mean over
  them of (distinct cited sentences that are evidence) / (distinct cited sentences).
- recall_at_k: answerable questions with evidence. Mean over them of the share of evidence
  strings contained in the text of at least one passage the retriever handed the answerer
  (k is however many passages the answer carries).
- abstention_rate: unanswerable questions; share that abstained.
- false_abstention_rate: answerable questions; share that abstained.
- latency_p50_ms / latency_p95_ms: every question; wall time around `Assistant.ask`,
  percentiles with linear interpolation.
- errors: number of questions whose `ask` raised or returned an Answer with `error` set;
  one that raised counts as answered (not abstained) with an empty, wrong answer.

A question's overall `correct` (used to find flips between runs) is answer correctness for
answerable questions and abstention for unanswerable ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.evaluation.matching import (
    answer_matches,
    best_f1,
    contains,
    gold_answers,
    is_evidence,
)
from assistant.evaluation.questions import Question
from assistant.types import Answer

# (key, label, higher is better) for the rates shown in tables, charts and comparisons.
RATES: tuple[tuple[str, str, bool], ...] = (
    ("answer_accuracy", "answer accuracy", True),
    ("answer_f1", "answer F1", True),
    ("citation_hit", "citation hit", True),
    ("citation_precision", "citation precision", True),
    ("recall_at_k", "retrieval recall@k", True),
    ("abstention_rate", "abstention (unanswerable)", True),
    ("false_abstention_rate", "false abstention (answerable)", False),
    # How well the answer's confidence tells answerable questions from unanswerable ones
    # (ROC AUC: 0.5 is chance), whatever the abstention threshold.
    ("answerable_auc", "answerable-vs-not AUC", True),
)
LATENCIES: tuple[tuple[str, str], ...] = (
    ("latency_p50_ms", "latency p50 (ms)"),
    ("latency_p95_ms", "latency p95 (ms)"),
)


@dataclass
class Verdict:
    """How one answer scored; fields that do not apply to the question are None."""

    answerable: bool
    abstained: bool
    correct: bool
    answer_correct: bool | None = None
    f1: float | None = None
    citation_hit: bool | None = None
    citation_precision: float | None = None
    recall: float | None = None
    cited: int = 0
    cited_evidence: int = 0
    latency_ms: float = 0.0
    error: str | None = None
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def judge(question: Question, answer: Answer, latency_ms: float,
          error: str | None = None) -> Verdict:
    """Score one answer against its question."""
    abstained = bool(answer.abstained)
    verdict = Verdict(answerable=question.answerable, abstained=abstained,
                      correct=abstained, latency_ms=latency_ms, error=error,
                      confidence=getattr(answer, "confidence", None))
    if not question.answerable:
        return verdict

    verdict.answer_correct = not abstained and answer_matches(
        answer.text, question.answers, question.answers_all)
    verdict.correct = verdict.answer_correct
    golds = gold_answers(question.answers, question.answers_all)
    if golds:
        verdict.f1 = 0.0 if abstained else best_f1(answer.text, golds)

    # The same sentence cited twice is one cited sentence.
    sentences = {(c.doc_id, c.sentence_id): c.text for c in answer.citations}
    verdict.cited = len(sentences)
    if question.evidence:
        verdict.cited_evidence = sum(is_evidence(text, question.evidence)
                                     for text in sentences.values())
        if not abstained:
            verdict.citation_hit = verdict.cited_evidence > 0
        if sentences:
            verdict.citation_precision = verdict.cited_evidence / len(sentences)
        found = sum(any(contains(p.text, item) for p in answer.passages)
                    for item in question.evidence)
        verdict.recall = found / len(question.evidence)
    return verdict


@dataclass
class Metrics:
    """The aggregated numbers of a run (or of one tag), with each metric's denominator in `n`."""

    n_questions: int = 0
    n_answerable: int = 0
    n_unanswerable: int = 0
    answer_accuracy: float | None = None
    answer_f1: float | None = None
    citation_hit: float | None = None
    citation_precision: float | None = None
    recall_at_k: float | None = None
    abstention_rate: float | None = None
    false_abstention_rate: float | None = None
    answerable_auc: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    errors: int = 0
    n: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def aggregate(verdicts: Sequence[Verdict]) -> Metrics:
    """Combine verdicts into rates using the denominators in the module docstring."""
    answerable = [v for v in verdicts if v.answerable]
    unanswerable = [v for v in verdicts if not v.answerable]
    pools = {
        "answer_accuracy": [float(bool(v.answer_correct)) for v in answerable],
        "answer_f1": [v.f1 for v in answerable if v.f1 is not None],
        "citation_hit": [float(v.citation_hit) for v in answerable
                         if v.citation_hit is not None],
        "citation_precision": [v.citation_precision for v in answerable
                               if v.citation_precision is not None],
        "recall_at_k": [v.recall for v in answerable if v.recall is not None],
        "abstention_rate": [float(v.abstained) for v in unanswerable],
        "false_abstention_rate": [float(v.abstained) for v in answerable],
    }
    latencies = [v.latency_ms for v in verdicts]
    metrics = Metrics(
        n_questions=len(verdicts), n_answerable=len(answerable),
        n_unanswerable=len(unanswerable),
        latency_p50_ms=percentile(latencies, 50), latency_p95_ms=percentile(latencies, 95),
        errors=sum(v.error is not None for v in verdicts),
        n={key: len(values) for key, values in pools.items()} | {"latency": len(latencies)},
    )
    for key, values in pools.items():
        setattr(metrics, key, sum(values) / len(values) if values else None)
    metrics.answerable_auc = auc([v.confidence for v in answerable], [v.confidence for v in unanswerable])
    if metrics.answerable_auc is not None:
        metrics.n["answerable_auc"] = len(verdicts)
    return metrics


def auc(positives: Sequence[float | None], negatives: Sequence[float | None]) -> float | None:
    """P(a random positive scores above a random negative), ties half (Mann-Whitney); None
    without both kinds or without scores."""
    pos = [p for p in positives if p is not None]
    neg = [n for n in negatives if n is not None]
    if not pos or not neg or len(pos) < len(positives) or len(neg) < len(negatives):
        return None
    ranked = sorted([(s, 1) for s in pos] + [(s, 0) for s in neg])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mid = (i + j + 1) / 2  # the tied block's average rank (1-based)
        rank_sum += mid * sum(label for _, label in ranked[i:j])
        i = j
    return (rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
