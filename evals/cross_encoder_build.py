"""The cross-encoder's files: its training data, and its ONNX graph for the package.

    .venv/bin/python evals/cross_encoder_build.py data [OUT.npz]
    .venv/bin/python evals/cross_encoder_build.py swap IN.npz OUT.npz
    PYTHONPATH=<dir with the onnx package> .venv/bin/python evals/cross_encoder_build.py onnx WEIGHTS_DIR

`data` gathers every candidate row of the reader's dumps (evals/train_reader.py dump, which
keeps each row's question part and sentence) into one file for evals/train_cross_encoder.py:
the texts once, and per row the question and sentence, the label, the split and the question.
Default OUT: .gpu/data.npz (ignored by git; the dumps make it again).

`swap` adds a swapped-name negative for each training pair whose sentence answers its question
and shares a proper name with it (SQuAD 2.0's swapped entity): the name in the question is
replaced by another name of the same article that the sentence does not contain, and that pair
is labelled as not answering. Only bank training articles are used (the names come from the
article's text); dev rows are copied unchanged.

`onnx`: WEIGHTS_DIR holds weights-L6-*.pt: every weight of the fine-tuned model except the word
embeddings, which training left frozen at the bundled all-MiniLM-L6-v2's and which the runtime
reads from that package. The graph takes the looked-up word vectors (`inputs_embeds`), the
attention mask and the token types, and returns one logit per pair. Its linear layers are
quantized to int8 (onnxruntime's dynamic quantization): assistant/answering/cross_encoder.onnx.
Needs the `onnx` package, which the project itself does not (install it anywhere on PYTHONPATH).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "assistant" / "answering" / "cross_encoder.onnx"


def load_model(weights: Path):
    from transformers import AutoModelForSequenceClassification

    from assistant.embeddings import resolve_model_path

    model = AutoModelForSequenceClassification.from_pretrained(
        resolve_model_path(""), num_labels=1, torch_dtype=torch.float32)
    state = {}
    for part in sorted(weights.glob("weights-L6-*.pt")):
        state.update(torch.load(part, map_location="cpu"))
    missing, unexpected = model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    assert not unexpected and all(k.startswith("bert.embeddings.") for k in missing), (missing, unexpected)
    return model.eval()


class _FromVectors(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, inputs_embeds, attention_mask, token_type_ids):
        return self.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).logits[:, 0]


def data(out: Path) -> None:
    rows = {k: [] for k in ("q", "s", "label", "answerable", "qid", "part", "split", "doc", "genre",
                            "set")}
    texts: dict[str, int] = {}
    for path in sorted((ROOT / "evals" / "reader").glob("*.npz")):
        dump = np.load(path)
        if "text" not in dump:
            raise SystemExit(f"{path} keeps no texts; run evals/train_reader.py dump again")
        n, split = len(dump["x"]), str(dump["split"])
        rows["q"] += [texts.setdefault(t, len(texts)) for t in dump["qtext"].tolist()]
        rows["s"] += [texts.setdefault(t, len(texts)) for t in dump["text"].tolist()]
        for k in ("label", "answerable", "qid", "part", "doc", "genre"):
            rows[k] += dump[k].tolist()
        rows["split"] += [split] * n
        rows["set"] += [path.stem] * n
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, texts=np.array(list(texts)), **{k: np.array(v) for k, v in rows.items()})
    print(f"{out}: {len(rows['q'])} rows, {len(texts)} texts")


_NAME = re.compile(r"\b[A-Z][\w'’.-]*[\w](?:\s+(?:of|de|del|da|van|von|the|al|bin)?\s*[A-Z][\w'’.-]*[\w])*")
_NOT_NAMES = {"The", "A", "An", "He", "She", "It", "They", "We", "I", "In", "On", "At", "By", "For",
              "His", "Her", "Its", "Their", "This", "That", "These", "Those", "But", "And", "After",
              "Before", "When", "While", "As", "With", "From", "Of", "To", "Under", "Over", "Some",
              "Many", "Most", "There", "Then", "Although", "If", "Since", "During", "Despite"}


def article_names(text: str) -> list[str]:
    """Proper names of an article: runs of capitalised words seen at least once inside a
    sentence (after its first word), so that a sentence's capitalised opener is not a name."""
    names = set()
    for m in _NAME.finditer(text):
        before = text[:m.start()].rstrip()
        if not before or before[-1] in ".!?:;\"“”‘'(\n":
            continue
        words = m.group().split()
        while words and words[0] in _NOT_NAMES:
            words = words[1:]
        if words and not any(ch.isdigit() for ch in " ".join(words)):
            names.add(" ".join(words))
    return sorted(names)


def _contains(text: str, name: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(name.lower()) + r"(?!\w)", text.lower()) is not None


def swapped_question(question: str, sentence: str, names: list[str], rng) -> str | None:
    """`question` with a name it shares with `sentence` replaced by one of `names` that shares
    no word with it and that neither text contains (one of the same word count if any);
    None where the two share no name."""
    shared = sorted((n for n in names if _contains(question, n) and _contains(sentence, n)),
                    key=len, reverse=True)
    if not shared:
        return None
    name = shared[0]
    words = set(name.lower().split())
    others = [n for n in names if not _contains(sentence, n) and not _contains(question, n)
              and not words & set(n.lower().split())]
    same = [n for n in others if len(n.split()) == len(name.split())]
    pool = same or others
    if not pool:
        return None
    other = pool[rng.integers(len(pool))]
    lower = question == question.lower()
    return re.sub(r"(?<!\w)" + re.escape(name) + r"(?!\w)", other.lower() if lower else other,
                  question, count=1, flags=re.IGNORECASE)


def swap(src: Path, out: Path) -> None:
    data = dict(np.load(src))
    texts = data["texts"].tolist()
    index = {t: i for i, t in enumerate(texts)}
    rng = np.random.default_rng(0)
    names: dict[str, list[str]] = {}
    add = {k: [] for k in data if k != "texts"}
    positives = np.flatnonzero((data["label"] == 1) & (data["split"] == "train")
                               & (data["set"] == "bank-train"))
    for i in positives:
        prefix = str(data["qid"][i]).split("-")[1]
        if prefix not in names:
            [path] = (ROOT / "evals" / "bank" / "train").glob(f"{prefix}-*.txt")
            names[prefix] = article_names(path.read_text(encoding="utf-8"))
        new = swapped_question(texts[data["q"][i]], texts[data["s"][i]], names[prefix], rng)
        if new is None:
            continue
        for k in add:
            add[k].append(data[k][i])
        add["q"][-1] = index.setdefault(new, len(index))
        add["label"][-1] = 0
        add["answerable"][-1] = 0
        add["qid"][-1] = f"{data['qid'][i]}~s{len(add['q'])}"
    texts = list(index)
    merged = {k: np.concatenate([data[k], np.array(v, dtype=data[k].dtype)]) for k, v in add.items()}
    np.savez_compressed(out, texts=np.array(texts), **merged)
    print(f"{out}: {len(positives)} positive training pairs, {len(add['q'])} swapped-name negatives added")


def onnx() -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = load_model(Path(sys.argv[2]))
    tmp = OUT.with_suffix(".fp32.onnx")
    x = torch.zeros(2, 16, 384)
    mask = torch.ones(2, 16, dtype=torch.int64)
    torch.onnx.export(_FromVectors(model), (x, mask, mask * 0), str(tmp), dynamo=False,
                      input_names=["inputs_embeds", "attention_mask", "token_type_ids"],
                      output_names=["logit"], opset_version=17,
                      dynamic_axes={"inputs_embeds": {0: "batch", 1: "tokens"},
                                    "attention_mask": {0: "batch", 1: "tokens"},
                                    "token_type_ids": {0: "batch", 1: "tokens"}, "logit": {0: "batch"}})
    quantize_dynamic(str(tmp), str(OUT), weight_type=QuantType.QInt8)
    tmp.unlink()
    print(f"{OUT}: {OUT.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    if sys.argv[1:2] == ["data"]:
        data(Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / ".gpu" / "data.npz")
    elif sys.argv[1:2] == ["swap"] and len(sys.argv) == 4:
        swap(Path(sys.argv[2]), Path(sys.argv[3]))
    elif sys.argv[1:2] == ["onnx"] and len(sys.argv) == 3:
        onnx()
    else:
        raise SystemExit(__doc__)
