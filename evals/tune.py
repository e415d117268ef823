"""Fit the extractive answerer's weights and abstention threshold on the DEVELOPMENT questions only.

    .venv/bin/python evals/tune.py [evals/questions/dev.jsonl]

Retrieval runs once per question; the answerer is then re-run for every point of a small grid,
and each point is scored with the evaluation's own judge. Prints the best points; the chosen
values go into assistant/answering/extractive.py (Scoring) and settings (abstain_threshold).
Never point this at the held-out file: its numbers would stop meaning anything.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from assistant import Answer, Assistant
    from assistant.answering.analysis import split_parts
    from assistant.answering.extractive import Scoring
    from assistant.conversation import condense, normalise_history
    from assistant.evaluation.metrics import aggregate, judge
    from assistant.evaluation.questions import load_questions

    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "evals/questions/dev.jsonl"
    if "heldout" in path.name:
        sys.exit("Refusing to tune on the held-out questions.")
    questions = load_questions(path)
    bot = Assistant([ROOT / "corpus", ROOT / "evals/articles"],
                    index_dir=Path(tempfile.mkdtemp()) / "index", progress=False)
    prepared = []
    for q in questions:
        standalone = condense(q.question, normalise_history(list(q.history)))
        state = {"standalone": standalone, "doc_ids": None, "timings": {}}
        passages = bot._retrieve_step(state)
        parts = split_parts(standalone)
        vectors = [bot.embedder.query(p) for p in parts] if len(parts) > 1 else None
        said = " ".join(t["content"] for t in q.history if t["role"] == "assistant")
        prepared.append((q, standalone, bot.embedder.query(standalone), passages, vectors, said))

    # Features do not depend on the weights: compute them once per (question part, candidates).
    memo: dict = {}
    features = bot.answerer.features

    def cached_features(part, qv, candidates, said=""):
        key = (part, said, tuple(s.key for s, _ in candidates))
        if key not in memo:
            memo[key] = features(part, qv, candidates, said)
        return memo[key]

    bot.answerer.features = cached_features
    grid = itertools.product([0.7], [0.3, 0.45], [0.0, 0.05], [0.04],
                             [1.0], [0.15], [0.3], [0.3, 0.45], [0.92],
                             [2], [0.2],
                             [(), ("person",), ("person", "number"), ("person", "number", "date", "place")],
                             [0.7, 0.85])
    results = []
    for params in grid:
        bot.answerer.weights = Scoring(*params)
        for threshold in [x / 100 for x in range(4, 60, 2)]:
            bot.answerer.threshold = threshold
            verdicts = []
            for q, standalone, qv, passages, vectors, said in prepared:
                draft = bot.answerer.answer(standalone, qv, passages, vectors, said)
                answer = Answer(question=q.question, text=draft.text, citations=draft.citations,
                                abstained=draft.abstained, passages=passages)
                verdicts.append(judge(q, answer, 0.0))
            m = aggregate(verdicts)
            objective = (m.answer_accuracy + (m.citation_hit or 0) * 0.5
                         + (m.citation_precision or 0) * 0.5 + m.abstention_rate
                         - 2 * max(0.0, m.false_abstention_rate - 0.08))
            results.append((objective, params + (threshold,), m))
    results.sort(key=lambda r: -r[0])
    for objective, params, m in results[:40]:
        print(f"{objective:.3f} w={params[:-1]} t={params[-1]:.2f} acc={m.answer_accuracy:.3f} "
              f"hit={m.citation_hit:.3f} prec={m.citation_precision:.3f} "
              f"abst={m.abstention_rate:.3f} false_abst={m.false_abstention_rate:.3f}")


if __name__ == "__main__":
    main()
