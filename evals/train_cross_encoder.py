"""Fine-tune the bundled MiniLM as a cross-encoder: P(this sentence answers this question).

    python evals/train_cross_encoder.py DATA.npz MODEL_DIR OUT_DIR [--layers 6] [--epochs 4]

Run on a GPU machine (2026-11-28: one H100, 228 s for 4 epochs of the 6-layer model); on 2 CPU
cores it would take hours. DATA.npz: `evals/cross_encoder_build.py data`. MODEL_DIR: the
bundled model's folder (config, tokenizer and model.safetensors, fp16 is enough). Only rows of
split "train" are trained on: every positive and the first 12 negatives (in retrieval order) of
each question part, binary cross-entropy, AdamW 5e-5, linear warm-up and decay, batch 32, bf16,
seed 0. The word embeddings stay frozen at the bundled model's, so the package need not carry
them. Rows of split "dev" are scored after each epoch: the AUC of each part's best score
(answerable vs not) and how often the best-scored sentence is evidence are printed, and the
scores written to OUT_DIR/scores-L{n}.npz. The weights (all but the word embeddings, fp16) go
to OUT_DIR/weights-L{n}-*.pt after every scored epoch, for `evals/cross_encoder_build.py onnx`.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def training_rows(data: dict, negatives: int, fraction: float = 1.0) -> np.ndarray:
    """Every positive row of the training split, and each part's first `negatives` negatives;
    with `fraction` < 1, only those of that share of the training questions (seed 0)."""
    keys = part_keys(data)
    rows = np.flatnonzero(data["split"] == "train")
    if fraction < 1.0:
        questions = np.unique(data["qid"][rows])
        chosen = set(np.random.default_rng(0).choice(questions, int(len(questions) * fraction),
                                                     replace=False))
        rows = np.array([i for i in rows if data["qid"][i] in chosen])
    keep, seen = [], {}
    for i in rows:
        if data["label"][i]:
            keep.append(i)
        elif seen.get(keys[i], 0) < negatives:
            seen[keys[i]] = seen.get(keys[i], 0) + 1
            keep.append(i)
    return np.array(keep)


def length_batches(rows: np.ndarray, size: int, lengths: np.ndarray, pool: int = 50) -> list:
    """`rows` (already shuffled) cut into pools of `pool` batches; in each pool the rows are
    sorted by length and batched, so a batch pads little; the batches are then shuffled (seed 0)
    so that lengths do not come in order."""
    out = []
    for a in range(0, len(rows), size * pool):
        chunk = rows[a:a + size * pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        out += [chunk[b:b + size] for b in range(0, len(chunk), size)]
    order = np.random.default_rng(0).permutation(len(out))
    return [out[i] for i in order]


def pair_lengths(tok, texts: list[str], data: dict) -> np.ndarray:
    """Tokens of each row's pair ([CLS] question [SEP] sentence [SEP], at most 160), each text
    tokenised once."""
    text_tokens = np.array([len(ids) for ids in tok(texts, add_special_tokens=False)["input_ids"]])
    return np.minimum(text_tokens[data["q"]] + text_tokens[data["s"]] + 3, 160)


def save_weights(model, out: Path, n_layers: int) -> None:
    """Every weight but the word embeddings (frozen at the bundled model's), fp16, in files of
    at most ~11 MB: `weights-L{n}-*.pt`, for `cross_encoder_build.py onnx`."""
    state = {k: v.half() for k, v in model.state_dict().items()
             if not k.startswith("bert.embeddings")}
    names = sorted(state)
    for h in range(0, len(names), 40):
        path = out / f"weights-L{n_layers}-{h // 40}.pt"
        torch.save({k: state[k] for k in names[h:h + 40]}, path.with_suffix(".tmp"))
        path.with_suffix(".tmp").replace(path)  # a run stopped while saving keeps the last whole file


def part_keys(data: dict) -> np.ndarray:
    return np.char.add(np.char.add(data["qid"].astype(str), "#"), data["part"].astype(str))


def dev_report(data: dict, scores: np.ndarray, rows: np.ndarray) -> dict:
    """AUC of each part's best score (answerable vs not); how often its best sentence is evidence."""
    from sklearn.metrics import roc_auc_score

    keys = part_keys(data)
    parts: dict[str, list] = {}
    for score, i in zip(scores, rows, strict=True):
        parts.setdefault(keys[i], []).append((score, data["label"][i], data["answerable"][i]))
    best = np.array([max(v)[0] for v in parts.values()])
    y = np.array([v[0][2] for v in parts.values()])
    top = np.array([max(v)[1] for v in parts.values()])
    auc = round(float(roc_auc_score(y, best)), 4) if len(set(y)) > 1 else None
    return {"auc": auc, "top1": round(float(top[y == 1].mean()), 4)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--layers", default="6")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--budget", type=float, default=330, help="seconds; later variants are skipped")
    ap.add_argument("--tiny", action="store_true", help="a few rows, to check the script on a CPU")
    ap.add_argument("--negatives", type=int, default=12)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--fraction", type=float, default=1.0, help="share of training questions")
    ap.add_argument("--bucket", action="store_true",
                    help="batch pairs of similar length (pools of 50 batches sorted by length, "
                         "the batches shuffled): less padding, about twice as fast on a CPU")
    ap.add_argument("--fp32", action="store_true", help="no bf16 autocast on a GPU (as on a CPU)")
    ap.add_argument("--score-last-only", action="store_true",
                    help="score the dev rows after the last epoch only (on a CPU, scoring "
                         "all 12,980 dev rows costs about a quarter of a 25 %% epoch)")
    args = ap.parse_args()
    t0 = time.time()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    data = dict(np.load(args.data))  # read each array once: an NpzFile inflates on every access
    texts = data["texts"].tolist()
    keep = training_rows(data, args.negatives, args.fraction)
    dev_rows = np.flatnonzero(data["split"] == "dev")
    if args.tiny:
        keep, dev_rows = keep[:256], dev_rows[:300]
    print(f"train pairs {len(keep)} (positives {int(data['label'][keep].sum())}), "
          f"dev rows {len(dev_rows)}, device {device}", flush=True)
    tok = AutoTokenizer.from_pretrained(args.model)
    lengths = pair_lengths(tok, texts, data) if args.bucket else None

    def batches(rows, size):
        for b in (length_batches(rows, size, lengths) if args.bucket else
                  [rows[a:a + size] for a in range(0, len(rows), size)]):
            enc = tok([texts[data["q"][i]] for i in b], [texts[data["s"][i]] for i in b],
                      truncation=True, max_length=160, padding=True, return_tensors="pt")
            yield b, {k: v.to(device) for k, v in enc.items()}

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bf16 = {"device_type": device, "dtype": torch.bfloat16, "enabled": device == "cuda" and not args.fp32}
    for n_layers in [int(x) for x in args.layers.split(",")]:
        if time.time() - t0 > args.budget:
            print("budget spent; skipping L", n_layers)
            break
        torch.manual_seed(0)
        model = AutoModelForSequenceClassification.from_pretrained(
            args.model, num_labels=1, torch_dtype=torch.float32)
        model.bert.encoder.layer = model.bert.encoder.layer[:n_layers]
        for p in model.bert.embeddings.parameters():
            p.requires_grad = False
        model.to(device)
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
        size = 32
        steps = args.epochs * math.ceil(len(keep) / size)
        warm = int(0.06 * steps)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s, warm=warm, steps=steps: min(1, (s + 1) / max(warm, 1))
            * max(0.0, (steps - s) / max(steps - warm, 1)))
        rng = np.random.default_rng(0)
        by_epoch = {}
        for epoch in range(args.epochs):
            model.train()
            losses = []
            for b, enc in batches(rng.permutation(keep), size):
                with torch.autocast(**bf16):
                    logit = model(**enc).logits[:, 0].float()
                y = torch.tensor(data["label"][b], dtype=torch.float32, device=device)
                loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, y)
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                sched.step()
                losses.append(loss.item())
            if args.score_last_only and epoch + 1 < args.epochs:
                print(json.dumps({"layers": n_layers, "epoch": epoch + 1,
                                  "train_loss": round(float(np.mean(losses)), 4),
                                  "t": round(time.time() - t0)}), flush=True)
                continue
            model.eval()
            scores = np.empty(len(dev_rows), np.float32)
            position = {row: i for i, row in enumerate(dev_rows)}
            with torch.no_grad():
                for b, enc in batches(dev_rows, 256):
                    with torch.autocast(**bf16):
                        got = model(**enc).logits[:, 0].float().cpu().numpy()
                    scores[[position[row] for row in b]] = got
            print(json.dumps({"layers": n_layers, "epoch": epoch + 1,
                              "train_loss": round(float(np.mean(losses)), 4),
                              "loss_last_fifth": round(float(np.mean(losses[-len(losses) // 5:])), 4),
                              **dev_report(data, scores, dev_rows), "t": round(time.time() - t0)}),
                  flush=True)
            by_epoch[f"e{epoch + 1}"] = scores
            tag = "" if args.fraction == 1.0 else f"-f{args.fraction:g}"
            np.savez(out / f"scores-L{n_layers}{tag}.npz", rows=dev_rows, **by_epoch)
            save_weights(model, out, n_layers)  # every scored epoch: a run stopped early keeps one
            if time.time() - t0 > args.budget + 60:
                print("budget spent mid-variant")
                break
        rate = data["label"][keep].mean()
        print("base-rate entropy", round(float(-(rate * np.log(rate) + (1 - rate) * np.log(1 - rate))), 4))
    print("total s", round(time.time() - t0))


if __name__ == "__main__":
    main()
