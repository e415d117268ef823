"""Fit the extractive answerer's weights and abstention cut on the DEVELOPMENT questions only.

    .venv/bin/python evals/tune.py [QUESTIONS.jsonl ...]   (default: dev, dev2, dev3, dev4 and dev5)

Each set is asked over its own corpus: corpus/ and evals/articles/, plus evals/articles-<name>/
when that folder exists (dev2.jsonl -> evals/articles-dev2/). dev3 is in readers' own words:
without it the weights learn to expect the article's wording. Retrieval runs once per question;
the answerer is then re-run for every point of a small grid (GRID below; the other weights keep
their Scoring defaults), and each point is scored with the evaluation's own judge. The
abstention cut is swept as Scoring.offset, so that the settings' abstain_threshold stays put.
All sets' questions are pooled into one score per point.

Overfitting check: the questions are split in two halves (every other question of each tag);
the point that is best on one half is also scored on the other. A point whose numbers hold up
on the half it was not chosen on is one to trust; print both, choose by the whole set only when
the halves agree. Never point this at a held-out file: its numbers would stop meaning anything.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Weights to search (name -> values); everything else keeps its default in Scoring.
GRID: dict[str, list] = {
    "elsewhere": [0.0, 0.1, 0.2, 0.3, 0.5],
    "common": [0.2, 0.3],
    "second_ratio": [0.7, 0.8],
}
OFFSETS = [x / 100 for x in range(-15, 3, 3)]


def objective(m) -> float:
    return (m.answer_accuracy + (m.citation_hit or 0) * 0.5 + (m.citation_precision or 0) * 0.5
            + m.abstention_rate - 2 * max(0.0, m.false_abstention_rate - 0.08))


def main() -> None:
    from assistant import Answer, Assistant
    from assistant.answering.analysis import split_parts
    from assistant.answering.extractive import Scoring
    from assistant.conversation import condense, normalise_history
    from assistant.evaluation.metrics import aggregate, judge
    from assistant.evaluation.questions import load_questions

    paths = [Path(a) for a in sys.argv[1:]] or [ROOT / f"evals/questions/{name}.jsonl"
                                                for name in ("dev", "dev2", "dev3", "dev4", "dev5")]
    if any("heldout" in p.name for p in paths):
        sys.exit("Refusing to tune on the held-out questions.")
    questions, prepared, bots = [], [], []
    for path in paths:
        corpus = [ROOT / "corpus", ROOT / "evals/articles"]
        if (ROOT / "evals" / f"articles-{path.stem}").is_dir():
            corpus.append(ROOT / "evals" / f"articles-{path.stem}")
        bot = Assistant(corpus, index_dir=Path(tempfile.mkdtemp()) / "index", progress=False)
        bots.append(bot)
        for q in load_questions(path):
            history = normalise_history(list(q.history))
            standalone = bot.index.respell(condense(q.question, history), bot._model_words)
            state = {"standalone": standalone, "doc_ids": None, "timings": {}}
            passages = bot._retrieve_step(state)
            parts = split_parts(standalone)
            vectors = [bot.embedder.query(p) for p in parts] if len(parts) > 1 else None
            said = " ".join(t["content"] for t in history if t["role"] == "assistant")
            questions.append(q)
            prepared.append((len(bots) - 1, q, standalone, bot.embedder.query(standalone),
                             passages, vectors, said))

    # Two halves, each with every other question of each kind.
    seen: dict[str, int] = {}
    halves: list[list[int]] = [[], []]
    for i, q in enumerate(questions):
        kind = next(t for t in q.tags if t in
                    ("factoid", "paraphrase", "multi-part", "follow-up", "unanswerable"))
        halves[seen.get(kind, 0) % 2].append(i)
        seen[kind] = seen.get(kind, 0) + 1

    # Features do not depend on the weights, except on the follow-up topic weight, the headline
    # term weight and whether the soft coverages are wanted at all.
    memo: dict = {}

    def cached(answerer):
        features = answerer.features

        def cached_features(part, qv, candidates, said=""):
            w = answerer.weights
            key = (id(answerer), part, said, w.topic, w.headline_term, bool(w.soft or w.soft_common),
                   bool(w.soft_common), tuple(s.key for s, _ in candidates))
            if key not in memo:
                memo[key] = features(part, qv, candidates, said)
            return memo[key]
        return cached_features

    for bot in bots:
        bot.answerer.features = cached(bot.answerer)
    names = list(GRID)
    results = []
    for values in itertools.product(*GRID.values()):
        base = dataclasses.replace(Scoring(), **dict(zip(names, values, strict=True)))
        for offset in OFFSETS:
            for bot in bots:
                bot.answerer.weights = dataclasses.replace(base, offset=offset)
            verdicts = []
            for b, q, standalone, qv, passages, vectors, said in prepared:
                draft = bots[b].answerer.answer(standalone, qv, passages, vectors, said)
                answer = Answer(question=q.question, text=draft.text, citations=draft.citations,
                                abstained=draft.abstained, passages=passages)
                verdicts.append(judge(q, answer, 0.0))
            whole = aggregate(verdicts)
            parts = [aggregate([verdicts[i] for i in h]) for h in halves]
            results.append((objective(whole), [objective(p) for p in parts],
                            dict(zip(names, values, strict=True)) | {"offset": offset}, whole))

    def show(label, r):
        score, halves_score, params, m = r
        print(f"{label} {score:.3f} halves={halves_score[0]:.3f}/{halves_score[1]:.3f} {params} "
              f"acc={m.answer_accuracy:.3f} hit={m.citation_hit:.3f} "
              f"prec={m.citation_precision:.3f} abst={m.abstention_rate:.3f} "
              f"false_abst={m.false_abstention_rate:.3f}")

    results.sort(key=lambda r: -r[0])
    for r in results[:25]:
        show("whole", r)
    for h in (0, 1):
        best = max(results, key=lambda r: r[1][h])
        other = 1 - h
        print(f"best on half {h}: {best[1][h]:.3f}; the same point on half {other}: "
              f"{best[1][other]:.3f} (best possible there {max(r[1][other] for r in results):.3f})")
        show("  ", best)


if __name__ == "__main__":
    main()
