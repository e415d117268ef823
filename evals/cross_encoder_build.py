"""The cross-encoder's files: its training data, and its ONNX graph for the package.

    .venv/bin/python evals/cross_encoder_build.py data [OUT.npz]
    PYTHONPATH=<dir with the onnx package> .venv/bin/python evals/cross_encoder_build.py onnx WEIGHTS_DIR

`data` gathers every candidate row of the reader's dumps (evals/train_reader.py dump, which
keeps each row's question part and sentence) into one file for evals/train_cross_encoder.py:
the texts once, and per row the question and sentence, the label, the split and the question.
Default OUT: .gpu/data.npz (ignored by git; the dumps make it again).

`onnx`: WEIGHTS_DIR holds weights-L6-*.pt: every weight of the fine-tuned model except the word
embeddings, which training left frozen at the bundled all-MiniLM-L6-v2's and which the runtime
reads from that package. The graph takes the looked-up word vectors (`inputs_embeds`), the
attention mask and the token types, and returns one logit per pair. Its linear layers are
quantized to int8 (onnxruntime's dynamic quantization): assistant/answering/cross_encoder.onnx.
Needs the `onnx` package, which the project itself does not (install it anywhere on PYTHONPATH).
"""

from __future__ import annotations

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
    elif sys.argv[1:2] == ["onnx"] and len(sys.argv) == 3:
        onnx()
    else:
        raise SystemExit(__doc__)
