"""Fit the second reading (assistant/answering/cross_check.json) on the development split, and
on training articles that neither reading model was trained on.

    .venv/bin/python evals/fit_cross_check.py [--top-k 3] [--pronoun-context]
        [--unseen-train PREFIX ...] [--report-only]

For every question of evals/bank/dev, the real pipeline reads the retrieved sentences with the
reader model alone (assistant/answering/reader_model.npz); the cross-encoder
(cross_encoder.onnx) then scores the reader's top candidates. A logistic model over
cross_encoder.STACK_FEATURES is fitted for P(answerable). Its threshold is chosen on
leave-one-article-out scores (each article's questions scored by a model fitted without that
article): the highest whose false abstention is <= .08. The final weights are fitted on all the
parts read. No held-out question is read.

`--unseen-train h17 h18 ...`: also read the articles of evals/bank/train whose names start with
those prefixes, over the seed and those articles alone. They must be articles written after both
reading models were trained: the script checks that the reader was trained on exactly the
questions of the other training articles and the older dev sets. Such articles are as unseen to
both readings as dev is, so the combining model and its threshold are fitted on more parts.
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

from train_reader import (  # noqa: E402
    BANK,
    GENRES,
    MAX_FALSE_ABSTAIN,
    OLD_DEV,
    SEED,
    WORK,
    genre_of,
    read_question,
)

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


def readings(top_k: int, context: bool, files: list[Path], index: str, encoder: CrossEncoder):
    """Per question part of `files` (asked over the seed and their own articles): stack row,
    answerable, article, genre, labels of the top candidates in the reader's order and in the
    combined order."""
    from assistant import Assistant

    bot = Assistant([SEED, *(f.with_suffix(".txt") for f in files)], WORK / index,
                    include_uploads=False, prune=True, progress=False, cross_encoder=False)
    rows = []
    for path in files:
        for q in load_questions(path):
            genre = genre_of(q)
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
                             "article": path.stem, "genre": genre, "first": labels[0],
                             "combined": labels[int(combined_order(p, in_context)[0])]})
    return rows


def unseen_train_files(prefixes: list[str]) -> list[Path]:
    """The training articles named by `prefixes`, after checking that the reader was trained on
    exactly the questions of the other training articles and the older dev sets."""
    from assistant.answering.model import ReaderModel

    train = sorted((BANK / "train").glob("*.jsonl"))
    unseen = [f for f in train if f.name.startswith(tuple(prefixes))]
    if not unseen:
        raise SystemExit(f"no training article starts with {', '.join(prefixes)}")
    seen = [f for f in train if f not in unseen]
    seen += [ROOT / "evals" / "questions" / f"{name}.jsonl" for name, _ in OLD_DEV]
    trained_on = ReaderModel.load().meta["report"]["train_questions"]
    if sum(len(load_questions(f)) for f in seen) != trained_on:
        raise SystemExit(f"the reader was trained on {trained_on} questions, not on exactly the "
                         "training articles outside the unseen ones: they may have been seen")
    return unseen


def combiner():
    """The combining model, unfitted: a logistic regression over STACK_FEATURES."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=1000)


def loao(x: np.ndarray, y: np.ndarray, art: np.ndarray) -> np.ndarray:
    """Each article's parts scored by a combining model fitted without that article."""
    oof = np.zeros(len(y))
    for a in np.unique(art):
        m = art == a
        oof[m] = combiner().fit(x[~m], y[~m]).predict_proba(x[m])[:, 1]
    return oof


def loao_threshold(oof: np.ndarray, y: np.ndarray) -> float:
    """The highest threshold whose false abstention on leave-one-article-out scores is <= .08."""
    return float(max(t for t in np.unique(np.round(oof, 4)) if np.mean(oof[y] < t) <= MAX_FALSE_ABSTAIN))


def rates(prob: np.ndarray, y: np.ndarray, threshold: float) -> dict:
    from sklearn.metrics import roc_auc_score

    return {"parts": int(len(y)), "auc": round(float(roc_auc_score(y, prob)), 4),
            "false_abstain": round(float(np.mean(prob[y] < threshold)), 4),
            "abstain": round(float(np.mean(prob[~y] < threshold)), 4)}


def main() -> None:
    from sklearn.metrics import roc_auc_score

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--pronoun-context", action="store_true",
                        help="to order the top sentences, one that refers back by pronoun "
                             "also reads after its predecessor, keeping the better score")
    parser.add_argument("--unseen-train", nargs="*", default=[], metavar="PREFIX",
                        help="also fit on these training articles, which neither reading model "
                             "was trained on (checked against the reader)")
    parser.add_argument("--report-only", action="store_true",
                        help=f"print the fit and its report; leave {STACK_FILE.name} as it is")
    args = parser.parse_args()
    unseen = unseen_train_files(args.unseen_train) if args.unseen_train else []
    encoder = CrossEncoder()
    dev_files = sorted((BANK / "dev").glob("*.jsonl"))
    rows = readings(args.top_k, args.pronoun_context, dev_files, "bank-dev", encoder)
    n_dev = len(rows)
    if unseen:
        rows += readings(args.top_k, args.pronoun_context, unseen, "bank-train-unseen", encoder)
    x = np.stack([r["x"] for r in rows])
    y = np.array([r["y"] for r in rows])
    art = np.array([r["article"] for r in rows])
    genre = np.array([r["genre"] for r in rows])
    oof = loao(x, y, art)
    threshold = loao_threshold(oof, y)
    final = combiner().fit(x, y)
    overall = rates(oof, y, threshold)
    report = {
        "parts": len(rows), "answerable": int(y.sum()),
        "auc_reader_alone": round(float(roc_auc_score(y, x[:, 0])), 4),
        "auc_with_cross_encoder_loao": overall["auc"],
        "false_abstain_loao": overall["false_abstain"],
        "abstain_loao": overall["abstain"],
        "evidence_first_reader": round(float(np.mean([r["first"] for r in rows if r["y"]])), 4),
        "evidence_first_combined": round(float(np.mean([r["combined"] for r in rows if r["y"]])), 4),
        "by_genre_loao": {g: rates(oof[genre == g], y[genre == g], threshold)
                          for g in GENRES if (genre == g).any()},
    }
    if unseen:
        dev, more = np.arange(len(rows)) < n_dev, np.arange(len(rows)) >= n_dev
        report["dev_loao"] = rates(oof[dev], y[dev], threshold)
        report["unseen_train_loao"] = rates(oof[more], y[more], threshold)
        # The combining model fitted on dev alone, read on the unseen articles: out of sample.
        dev_only = combiner().fit(x[dev], y[dev])
        dev_threshold = loao_threshold(loao(x[dev], y[dev], art[dev]), y[dev])
        report["dev_only_model_on_unseen_train"] = {
            **rates(dev_only.predict_proba(x[more])[:, 1], y[more], dev_threshold),
            "threshold": dev_threshold}
    meta = {"features": list(STACK_FEATURES), "weights": final.coef_[0].round(6).tolist(),
            "bias": round(float(final.intercept_[0]), 6), "threshold": threshold,
            "top_k": args.top_k, "pronoun_context": args.pronoun_context,
            "version": datetime.now(UTC).strftime("%Y%m%d%H%M"),
            "cross_encoder_sha256": file_digest(FILE),
            "fitted_on": "evals/bank/dev", "dev": report}
    if unseen:
        meta["also_fitted_on"] = [f"evals/bank/train/{f.stem}" for f in unseen]
    if not args.report_only:
        STACK_FILE.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
