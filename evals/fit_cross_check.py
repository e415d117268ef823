"""Fit the second reading (assistant/answering/cross_check.json) on the development split.

    .venv/bin/python evals/fit_cross_check.py [--top-k 3]

For every question of evals/bank/dev, the real pipeline reads the retrieved sentences with the
reader model alone (assistant/answering/reader_model.npz); the cross-encoder
(cross_encoder.onnx) then scores the reader's top candidates. A logistic model over
cross_encoder.STACK_FEATURES is fitted for P(answerable). Its threshold is chosen on
leave-one-article-out scores (each article's questions scored by a model fitted without that
article): the highest whose false abstention is <= .08. The final weights are fitted on all of
dev. No held-out question is read.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "evals"))

from train_reader import BANK, MAX_FALSE_ABSTAIN, SEED, WORK, read_question  # noqa: E402

from assistant.answering.cross_encoder import (  # noqa: E402
    FILE,
    STACK_FEATURES,
    STACK_FILE,
    CrossEncoder,
    combined_order,
    file_digest,
    stack_row,
)
from assistant.evaluation.matching import is_evidence  # noqa: E402
from assistant.evaluation.questions import load_questions  # noqa: E402


def readings(top_k: int, context: bool):
    """Per dev question part: stack row, answerable, article, labels of the top candidates in
    the reader's order and in the combined order."""
    from assistant import Assistant

    bot = Assistant([SEED, *sorted((BANK / "dev").glob("*.txt"))], WORK / "bank-dev",
                    include_uploads=False, prune=True, progress=False, cross_encoder=False)
    encoder = CrossEncoder()
    rows = []
    for path in sorted((BANK / "dev").glob("*.jsonl")):
        for q in load_questions(path):
            query, passages = read_question(bot, q)
            for r in bot.answerer.read(query, bot.part_vectors(query), passages):
                if not r.candidates:
                    continue
                top = r.candidates[:top_k]
                p = np.array([c.probability for c in top])
                texts = [c.sentence.text for c in top]
                ce = encoder.score(r.part.text, texts)
                in_context = ce
                if context:
                    before = [bot.answerer.previous_text(c.sentence) for c in top]
                    in_context = encoder.score_in_context(r.part.text, texts, before, ce)
                labels = [bool(q.answerable and is_evidence(c.sentence.text, q.evidence)) for c in top]
                rows.append({"x": stack_row(r.answerable, p, ce), "y": bool(q.answerable),
                             "article": path.stem, "first": labels[0],
                             "combined": labels[int(combined_order(p, in_context)[0])]})
    return rows


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--pronoun-context", action="store_true",
                        help="to order the top sentences, one that refers back by pronoun "
                             "also reads after its predecessor, keeping the better score")
    args = parser.parse_args()
    rows = readings(args.top_k, args.pronoun_context)
    x = np.stack([r["x"] for r in rows])
    y = np.array([r["y"] for r in rows])
    art = np.array([r["article"] for r in rows])
    oof = np.zeros(len(rows))
    for a in np.unique(art):
        m = art == a
        lr = LogisticRegression(C=1.0, max_iter=1000).fit(x[~m], y[~m])
        oof[m] = lr.predict_proba(x[m])[:, 1]
    candidates = np.unique(np.round(oof, 4))
    ok = [t for t in candidates if np.mean(oof[y] < t) <= MAX_FALSE_ABSTAIN]
    threshold = float(max(ok))
    final = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    judge_only = x[:, 0]
    report = {
        "parts": len(rows), "answerable": int(y.sum()),
        "auc_reader_alone": round(float(roc_auc_score(y, judge_only)), 4),
        "auc_with_cross_encoder_loao": round(float(roc_auc_score(y, oof)), 4),
        "false_abstain_loao": round(float(np.mean(oof[y] < threshold)), 4),
        "abstain_loao": round(float(np.mean(oof[~y] < threshold)), 4),
        "evidence_first_reader": round(float(np.mean([r["first"] for r in rows if r["y"]])), 4),
        "evidence_first_combined": round(float(np.mean([r["combined"] for r in rows if r["y"]])), 4),
    }
    meta = {"features": list(STACK_FEATURES), "weights": final.coef_[0].round(6).tolist(),
            "bias": round(float(final.intercept_[0]), 6), "threshold": threshold,
            "top_k": args.top_k, "pronoun_context": args.pronoun_context,
            "version": datetime.now(UTC).strftime("%Y%m%d%H%M"),
            "cross_encoder_sha256": file_digest(FILE),
            "fitted_on": "evals/bank/dev", "dev": report}
    STACK_FILE.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
