"""Fit the reader model (assistant/answering/reader_model.npz) from the labelled questions.

    .venv/bin/python evals/train_reader.py dump    # features of every train and dev question
    .venv/bin/python evals/train_reader.py fit     # fit, calibrate on dev, choose the threshold
    .venv/bin/python evals/train_reader.py curve   # learning curve: dev quality at 25/50/100 %
    .venv/bin/python evals/train_reader.py cv [--without FEATURE ...]   # grouped 5-fold CV

The training split is evals/bank/train (24 articles) plus the older development sets
(evals/questions/dev*.jsonl); the development split is evals/bank/dev (8 articles). No held-out
question (evals/bank/heldout, evals/questions/heldout*.jsonl) is ever read here.

`dump` runs the real pipeline (condense, respell, hybrid retrieval, the features of
assistant/answering/features.py) over an index of each set's articles with the seed, and labels
each candidate sentence by whether it holds the question's evidence. `fit` trains two
gradient-boosted ensembles: one for P(sentence answers), and a judge over a part's best
candidates for P(answerable), whose score is then Platt-calibrated on dev. The threshold is the
highest one whose false abstention on dev stays <= .08; the second-citation ratio is chosen on
dev for citation precision. Both are saved with the trees, and READER-MODEL.md is written.
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

from assistant.answering import model as reader  # noqa: E402
from assistant.answering.features import FEATURES, FeatureExtractor  # noqa: E402
from assistant.answering.query import candidates_from  # noqa: E402
from assistant.evaluation.matching import is_evidence  # noqa: E402
from assistant.evaluation.questions import load_questions  # noqa: E402

SEED = ROOT / "corpus"
BANK = ROOT / "evals" / "bank"
OUT = ROOT / "evals" / "reader"
WORK = ROOT / ".data" / "reader-train"
MAX_FALSE_ABSTAIN = 0.08
# (name, split, question files, article folders/files)
OLD_DEV = [("dev", ["articles"]), ("dev2", ["articles", "articles-dev2"]),
           ("dev3", ["articles", "articles-dev3"]), ("dev4", ["articles", "articles-dev4"]),
           ("dev5", ["articles", "articles-dev5"])]


def sets() -> list[tuple[str, str, list[Path], list[Path]]]:
    out = []
    for split in ("train", "dev"):
        files = sorted((BANK / split).glob("*.jsonl"))
        out.append((f"bank-{split}", split, files, [SEED, *sorted((BANK / split).glob("*.txt"))]))
    for name, folders in OLD_DEV:
        out.append((name, "train", [ROOT / "evals" / "questions" / f"{name}.jsonl"],
                    [SEED] + [ROOT / "evals" / f for f in folders]))
    return out


class _NoModel:
    """Stands in for the reader model while features are dumped: they do not depend on it."""

    threshold, second_ratio, version = 0.5, 1.0, "none"


def read_question(bot, q):
    """The question as the assistant asks it (Assistant.prepare): its query and passages."""
    return bot.prepare(q.question, [dict(t) for t in q.history])


def dump() -> None:
    from assistant import Assistant
    from assistant.answering import model

    model.ReaderModel.load = classmethod(lambda cls, path=None: _NoModel())
    OUT.mkdir(parents=True, exist_ok=True)
    for name, split, files, corpus in sets():
        bot = Assistant(corpus, WORK / name, include_uploads=False, prune=True, progress=False,
                        cross_encoder=False)  # the features do not depend on it
        extractor = FeatureExtractor(bot.index, bot.word_vectors)
        rows, meta, texts = [], [], []
        for path in files:
            for q in load_questions(path):
                genre = genre_of(q)
                query, passages = read_question(bot, q)
                for p_i, (part, vector) in enumerate(zip(query.parts, bot.part_vectors(query),
                                                         strict=True)):
                    candidates = candidates_from(passages, bot.index.documents)
                    x = extractor.extract(part, vector, candidates)
                    for c, row in zip(candidates, x, strict=True):
                        label = q.answerable and is_evidence(c.sentence.text, q.evidence)
                        rows.append(row)
                        meta.append((q.id, p_i, int(q.answerable), int(label), genre,
                                     c.sentence.doc_id))
                        texts.append((part.text, c.sentence.text))
        np.savez_compressed(OUT / f"{name}.npz", x=np.asarray(rows, np.float32),
                            qid=np.array([m[0] for m in meta]), part=np.array([m[1] for m in meta]),
                            answerable=np.array([m[2] for m in meta]),
                            label=np.array([m[3] for m in meta]),
                            genre=np.array([m[4] for m in meta]), doc=np.array([m[5] for m in meta]),
                            split=np.array(split), features=np.array(FEATURES),
                            qtext=np.array([t[0] for t in texts]), text=np.array([t[1] for t in texts]))
        print(f"{name}: {len(files)} files, {len(rows)} candidate rows", flush=True)


GENRES = ("news", "encyclopedic", "sports", "business", "local-government")


def genre_of(q) -> str:
    """The question's genre tag (the older dev sets carry none: news)."""
    return next((t for t in q.tags if t in GENRES), "news")


def load(split: str) -> dict[str, np.ndarray]:
    parts = []
    for path in sorted(OUT.glob("*.npz")):
        data = np.load(path)
        if str(data["split"]) != split:
            continue
        if tuple(data["features"]) != FEATURES:
            raise SystemExit(f"{path} holds other features; run dump again")
        parts.append({k: data[k] for k in ("x", "qid", "part", "answerable", "label", "genre", "doc")})
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def groups(data: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Row indices of each (question, part), in order."""
    keys = np.char.add(np.char.add(data["qid"].astype(str), "#"), data["part"].astype(str))
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first)
    return [np.flatnonzero(inverse == g) for g in order]


def fit_trees(x, y, seed=0):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, max_leaf_nodes=15,
                                          min_samples_leaf=40, l2_regularization=1.0,
                                          early_stopping=False, random_state=seed).fit(x, y)


def judge_table(data, p, gs):
    rows = np.stack([reader.judge_row(p[g], data["x"][g]) for g in gs])
    y = np.array([data["answerable"][g[0]] for g in gs])
    return rows, y


def out_of_fold(data, k=5):
    """Sentence probabilities for the training rows from models that never saw their article."""
    docs = np.unique(data["doc"])
    rng = np.random.default_rng(0)
    fold_of = dict(zip(docs, rng.permutation(len(docs)) % k, strict=True))
    folds = np.array([fold_of[d] for d in data["doc"]])
    # A question's candidates come from several articles; its fold is its first row's.
    qfold = {}
    for q, f in zip(data["qid"], folds, strict=True):
        qfold.setdefault(q, f)
    folds = np.array([qfold[q] for q in data["qid"]])
    p = np.zeros(len(folds))
    for f in range(k):
        m = fit_trees(data["x"][folds != f], data["label"][folds != f])
        p[folds == f] = m.predict_proba(data["x"][folds == f])[:, 1]
    return p


def train(train_data, fraction=1.0, seed=0):
    """(sentence model, judge model) fitted on a share of the training questions."""
    if fraction < 1.0:
        qids = np.unique(train_data["qid"])
        keep = set(np.random.default_rng(seed).choice(qids, int(len(qids) * fraction), replace=False))
        mask = np.array([q in keep for q in train_data["qid"]])
        train_data = {k: v[mask] for k, v in train_data.items()}
    sentence = fit_trees(train_data["x"], train_data["label"])
    p_oof = out_of_fold(train_data)
    jx, jy = judge_table(train_data, p_oof, groups(train_data))
    judge = fit_trees(jx, jy)
    return sentence, judge


def platt(raw, y):
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6).fit(raw[:, None], y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def evaluate(data, sentence, judge, calibration=None):
    """Per-part: best sentence is evidence, P(answerable), answerable label, genre."""
    gs = groups(data)
    p = sentence.predict_proba(data["x"])[:, 1]
    jx, jy = judge_table(data, p, gs)
    raw = judge.decision_function(jx)
    prob = 1 / (1 + np.exp(-(calibration[0] * raw + calibration[1]))) if calibration else None
    top_ok = np.array([bool(data["label"][g][np.argmax(p[g])]) for g in gs])
    genre = np.array([data["genre"][g[0]] for g in gs])
    return {"p": p, "groups": gs, "raw": raw, "prob": prob, "y": jy, "top_ok": top_ok,
            "genre": genre}


def rates(ev, threshold):
    y, prob, top = ev["y"].astype(bool), ev["prob"], ev["top_ok"]
    answered = prob >= threshold
    return {"answer_top1": float(np.mean(answered[y] & top[y])),
            "false_abstain": float(np.mean(~answered[y])),
            "abstain": float(np.mean(~answered[~y])) if (~y).any() else None}


def auc(y, s):
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, s))


def choose_threshold(ev) -> float:
    y = ev["y"].astype(bool)
    candidates = np.unique(np.round(ev["prob"], 4))
    ok = [t for t in candidates if np.mean(ev["prob"][y] < t) <= MAX_FALSE_ABSTAIN]
    return float(max(ok)) if ok else float(candidates.min())


MIN_PRECISION = 0.78


def choose_second_ratio(data, ev, threshold) -> float:
    """The ratio (second sentence's P over the best's) that cites evidence most often among the
    answered parts while the share of cited sentences that are evidence stays >= MIN_PRECISION."""
    best_ratio, best_hit = 1.01, -1.0
    for ratio in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01):
        hits = cites = evidence = answered = 0
        for g, y, prob in zip(ev["groups"], ev["y"], ev["prob"], strict=True):
            if not y or prob < threshold:
                continue
            order = g[np.argsort(-ev["p"][g])]
            picks = [order[0]] + [i for i in order[1:3] if data["doc"][i] == data["doc"][order[0]]
                                  and ev["p"][i] >= ev["p"][order[0]] * ratio][:1]
            labels = [data["label"][i] for i in picks]
            answered += 1
            hits += any(labels)
            evidence += sum(labels)
            cites += len(picks)
        hit, precision = hits / max(answered, 1), evidence / max(cites, 1)
        if precision >= MIN_PRECISION and hit > best_hit:
            best_ratio, best_hit = ratio, hit
    return best_ratio


def fit() -> None:
    train_data, dev_data = load("train"), load("dev")
    sentence, judge = train(train_data)
    ev = evaluate(dev_data, sentence, judge)
    calibration = platt(ev["raw"], ev["y"])
    ev = evaluate(dev_data, sentence, judge, calibration)
    threshold = choose_threshold(ev)
    second = choose_second_ratio(dev_data, ev, threshold)
    dense_auc = auc(ev["y"], np.array([dev_data["x"][g][:, FEATURES.index("dense")].max()
                                       for g in ev["groups"]]))
    report = {"threshold": threshold, "second_ratio": second,
              "dev_auc_answerable": auc(ev["y"], ev["prob"]),
              "dev_auc_best_cosine": dense_auc,
              "dev_top1_evidence": float(np.mean(ev["top_ok"][ev["y"].astype(bool)])),
              **{f"dev_{k}": v for k, v in rates(ev, threshold).items()},
              "per_genre": {gname: rates({**ev, **{k: ev[k][ev["genre"] == gname]
                                                   for k in ("y", "prob", "top_ok")}}, threshold)
                            for gname in sorted(set(ev["genre"]))},
              "train_rows": int(len(train_data["x"])),
              "train_questions": int(len(np.unique(train_data["qid"]))),
              "dev_questions": int(len(np.unique(dev_data["qid"])))}
    version = datetime.now(UTC).strftime("%Y%m%d%H%M")
    meta = {"format": reader.FORMAT, "version": version, "features": list(FEATURES),
            "judge_features": list(reader.JUDGE_FEATURES), "threshold": threshold,
            "second_ratio": second, "judge_calibration": list(calibration), "report": report}
    arrays = {**reader.trees_to_arrays(sentence, "sentence"), **reader.trees_to_arrays(judge, "judge")}
    np.savez_compressed(reader.MODEL_FILE, meta=np.array(json.dumps(meta)), **arrays)
    _check_numpy_matches(sentence, judge, dev_data)
    print(json.dumps(report, indent=2))
    (OUT / "fit-report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def _check_numpy_matches(sentence, judge, data) -> None:
    """The saved arrays predict what scikit-learn predicts (to float precision)."""
    model = reader.ReaderModel.load()
    x = data["x"][:2000]
    ours = model.sentence_probabilities(x)
    theirs = sentence.predict_proba(x)[:, 1]
    if not np.allclose(ours, theirs, atol=1e-6):
        raise SystemExit(f"saved sentence trees disagree: max diff {np.abs(ours - theirs).max()}")


def curve() -> None:
    train_data, dev_data = load("train"), load("dev")
    for fraction in (0.25, 0.5, 1.0):
        sentence, judge = train(train_data, fraction)
        ev = evaluate(dev_data, sentence, judge)
        y = ev["y"].astype(bool)
        print(json.dumps({"fraction": fraction, "dev_auc_answerable": auc(ev["y"], ev["raw"]),
                          "dev_top1_evidence": float(np.mean(ev["top_ok"][y]))}), flush=True)


def cross_validate(without: list[str]) -> None:
    """Grouped 5-fold cross-validation over train + dev (folds by article), with some features
    left out: removing a rule is a measurement with more questions than dev alone holds. Prints
    the pooled AUC (answerable vs not), how often the best sentence is evidence, and abstention
    where pooled false abstention is .08, overall and by genre."""
    unknown = set(without) - set(FEATURES)
    if unknown:
        raise SystemExit(f"no such feature: {', '.join(sorted(unknown))}")
    train_data, dev_data = load("train"), load("dev")
    data = {k: np.concatenate([train_data[k], dev_data[k]]) for k in train_data}
    data["x"] = data["x"][:, [i for i, name in enumerate(FEATURES) if name not in without]]
    article = {}
    for q, d in zip(data["qid"], data["doc"], strict=True):
        article.setdefault(q, d)
    docs = sorted(set(article.values()))
    fold_of = dict(zip(docs, np.random.default_rng(1).permutation(len(docs)) % 5, strict=True))
    folds = np.array([fold_of[article[q]] for q in data["qid"]])
    y, raw, top, genre = [], [], [], []
    for f in range(5):
        sentence, judge = train({k: v[folds != f] for k, v in data.items()})
        ev = evaluate({k: v[folds == f] for k, v in data.items()}, sentence, judge)
        y.append(ev["y"]), raw.append(ev["raw"]), top.append(ev["top_ok"]), genre.append(ev["genre"])
    y, raw, top, genre = (np.concatenate(a) for a in (y, raw, top, genre))
    y = y.astype(bool)
    threshold = np.quantile(raw[y], MAX_FALSE_ABSTAIN)
    print(json.dumps({"without": without, "parts": int(len(y)), "auc": round(auc(y, raw), 4),
                      "top1_evidence": round(float(np.mean(top[y])), 4),
                      "abstain": round(float(np.mean(raw[~y] < threshold)), 4),
                      "abstain_by_genre": {g: round(float(np.mean(raw[~y & (genre == g)] < threshold)), 4)
                                           for g in GENRES}}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=("dump", "fit", "curve", "cv"))
    parser.add_argument("--without", nargs="*", default=[], metavar="FEATURE",
                        help="with cv: features left out")
    args = parser.parse_args()
    if args.step == "cv":
        cross_validate(args.without)
    else:
        {"dump": dump, "fit": fit, "curve": curve}[args.step]()


if __name__ == "__main__":
    main()
