"""How the costs grow with the corpus: 1,000 / 3,000 / 10,000 generated articles, really embedded.

Usage:
  .venv/bin/python benchmarks/scale.py build   --work DIR [--sizes 1000,3000,10000]
  .venv/bin/python benchmarks/scale.py measure --work DIR [--out benchmarks/scale.json]
  .venv/bin/python benchmarks/scale.py ingest  --work DIR [--size 10000] [--baseline OLD_TREE]

`build` ingests one growing corpus in stages (1,000 articles, then 2,000 more, then 7,000 more),
each stage a fresh process, and copies the index after each stage: the stages' times show
whether ingest stays linear, and the copies are the indexes `measure` serves from. The articles
are benchmarks/run.py's generated ones (the first 1,000 are that benchmark's corpus). Raw
encoding (sentence-transformers over the same sentences) is timed on the first stage only and
scaled by sentence count for the others: it is linear by construction (one forward pass per
batch), and timing it at 10,000 articles would add an hour.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from run import PEAK_RSS  # noqa: E402

# One ingest stage in its own process: ingest, then time the first index load after it.
CHILD_INGEST = """
import json, sys, time
from pathlib import Path
from assistant.catalog import Catalog
from assistant.embeddings import Embedder
from assistant.index import CorpusIndex
from assistant.ingest import ingest
from assistant.settings import Settings
from assistant.store import open_store
corpus, index = Path(sys.argv[1]), Path(sys.argv[2])
settings = Settings.load().replace(index_dir=index)
embedder = Embedder(settings.embedding_model, batch_size=settings.embedding_batch_size,
                    runtime=settings.embedding_runtime, export_dir=settings.model_cache_path)
catalog = Catalog(index / "catalog.sqlite3")
store = open_store(settings, index)
embedder.encode(["A first sentence, so that no timing holds the runtime's start."])
t, cpu = time.perf_counter(), time.process_time()
report = ingest([corpus], catalog, store, embedder, settings, index, progress=True)
ingest_s, ingest_cpu = time.perf_counter() - t, time.process_time() - cpu
out = {"ingest_seconds": round(ingest_s, 2), "ingest_cpu_seconds": round(ingest_cpu, 2),
       "added": len(report.added)}
if "--no-load" not in sys.argv:  # the index a process then builds from the whole catalog
    t = time.perf_counter()
    loaded = CorpusIndex.load(catalog, embedder.dimension)
    out.update(first_load_seconds=round(time.perf_counter() - t, 2), sentences=len(loaded.sentences),
               chunks=len(loaded.chunks), articles=len(loaded.documents))
print(json.dumps(out))
"""

CHILD_RAW_ENCODE = """
import json, sys, time
from pathlib import Path
from assistant.catalog import Catalog
from assistant.embeddings import Embedder
catalog = Catalog(Path(sys.argv[1]) / "catalog.sqlite3")
texts = [s.text for d in catalog.load_documents() for s in d.sentences]
texts = texts[:int(sys.argv[2])] if len(sys.argv) > 2 else texts
model = Embedder(runtime="torch", cache_size=0)
t, cpu = time.perf_counter(), time.process_time()
model.encode(texts)
print(json.dumps({"raw_encode_seconds": round(time.perf_counter() - t, 2),
                  "raw_encode_cpu_seconds": round(time.process_time() - cpu, 2),
                  "sentences": len(texts)}))
"""


def child(code: str, args: list[str], env: dict | None = None, timeout: float = 4 * 3600,
          tree: Path = ROOT) -> dict:
    """Run `code` in a fresh interpreter that imports `tree`'s assistant package: `python -c`
    puts its working directory first on sys.path, ahead of PYTHONPATH, so both are `tree`."""
    env = {**(os.environ if env is None else env), "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True,
                          env=env, cwd=tree, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed ({done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def build(work: Path, sizes: list[int]) -> None:
    from run import generate_corpus

    work.mkdir(parents=True, exist_ok=True)
    log = work / "build.json"
    stages = json.loads(log.read_text()) if log.exists() else {}
    everything = work / "all-articles"
    if not everything.exists() or len(list(everything.glob("*.txt"))) < max(sizes):
        generate_corpus(max(sizes), everything, seed=0)
    corpus, index = work / "corpus", work / "index"
    corpus.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["PYTHONPATH"] = str(ROOT)
    for n in sizes:
        if str(n) in stages and (work / f"index-{n}").exists():
            if n == sizes[0] and "sample_raw_encode" not in stages[str(n)]:
                # CPU seconds per sentence, from a sample (the stage's own wall-clock ran
                # beside other work): what later stages' ingest CPU time is compared with.
                stages[str(n)]["sample_raw_encode"] = child(
                    CHILD_RAW_ENCODE, [str(work / f"index-{n}"), "8000"], env)
                log.write_text(json.dumps(stages, indent=2) + "\n")
            continue
        for i in range(1, n + 1):
            name = f"article-{i:05d}.txt"
            if not (corpus / name).exists():
                shutil.copy2(everything / name, corpus / name)
        print(f"stage {n}: ingesting", file=sys.stderr, flush=True)
        stage = child(CHILD_INGEST, [str(corpus), str(index)], env)
        if n == sizes[0]:
            stage.update(child(CHILD_RAW_ENCODE, [str(index)], env))
        shutil.rmtree(work / f"index-{n}", ignore_errors=True)
        shutil.copytree(index, work / f"index-{n}")
        stages[str(n)] = stage
        log.write_text(json.dumps(stages, indent=2) + "\n")
        print(f"stage {n}: {stage}", file=sys.stderr, flush=True)


# A serving process: start on the index (scanning the corpus, as the web chat does), answer
# warm questions, then take one uploaded article and answer from it.
CHILD_SERVE = PEAK_RSS + """
import json, sys, time
from pathlib import Path
sys.path.insert(0, BENCHMARKS)
from run import timed
from assistant import Assistant
job = json.loads(sys.argv[1])
overrides = job.get("settings", {})
t = time.perf_counter()
bot = Assistant.from_corpus(job["corpus"], index_dir=job["index"], progress=False, **overrides)
start_s = time.perf_counter() - t
questions, warmup = job["questions"], job["warmup"]
bot.embedder._cache.clear()  # each question once: no measurement reads the cache
ask = timed(bot.ask, questions, warmup)
bot.embedder._cache.clear()
one = [bot.documents()[len(bot.documents()) // 2].doc_id]  # the web chat's "this article only"
ask_one = timed(lambda q: bot.ask(q, doc_ids=one), questions, warmup)
bot.embedder._cache.clear()
floor = timed(lambda q: bot.store.search(bot.embedder.encode([q])[0], 4), questions, warmup)
serving_rss = peak_rss_mb()
upload = None
if job.get("upload"):
    path = Path(job["upload"]["path"])
    web = job["upload"].get("web") and bot.uploads is not None
    if web:  # as the web chat's upload does: into the uploads folder, reading only that folder
        path = bot.uploads / path.name
    t = time.perf_counter()
    path.write_text(job["upload"]["text"], encoding="utf-8")
    report = bot.ingest(progress=False, only=[bot.uploads]) if web else bot.ingest(progress=False)
    ingest_s = time.perf_counter() - t
    answer = bot.ask(job["upload"]["question"])
    answerable_s = time.perf_counter() - t
    getattr(bot, "wait_until_saved", lambda: None)()  # the background save, in the peak RSS
    if web:
        path.unlink()
    upload = {"web": bool(web), "seconds": round(answerable_s, 2), "ingest_seconds": round(ingest_s, 2),
              "saved_seconds": round(time.perf_counter() - t, 2),
              "added": len(report.added),
              "cited_new_article": any(c.doc_id in report.added for c in answer.citations)}
print(json.dumps({"start_seconds": round(start_s, 2), "ask_ms": ask, "ask_one_article_ms": ask_one,
                  "floor_own_encoder_ms": floor,
                  "serving_rss_mb": round(serving_rss, 1), "peak_rss_mb": round(peak_rss_mb(), 1),
                  "upload": upload, "articles": len(bot.documents())}))
""".replace("BENCHMARKS", repr(str(ROOT / "benchmarks")))

UPLOAD_TEXT = ("Zorvanek Observatory Opens\n\nThe Zorvanek observatory opened on 14 March with 212 "
               "staff and a telescope paid for by the regional council. Its director, Ilse Marrow, "
               "said the first survey would map the northern sky within three years.\n")
UPLOAD_QUESTION = "How many staff did the Zorvanek observatory open with?"


def disk_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6, 1)


CHILD_ENCODE_FILES = """
import json, sys, time
from pathlib import Path
from assistant.documents import load_file
from assistant.embeddings import Embedder
texts = [s.text for p in sorted(Path(sys.argv[1]).glob("*.txt"))
         for s in load_file(p, max_bytes=10_000_000).sentences]
model = Embedder(runtime="torch", cache_size=0)
model.encode(texts[:64])  # warm
t, cpu = time.perf_counter(), time.process_time()
model.encode(texts)
print(json.dumps({"raw_encode_seconds": round(time.perf_counter() - t, 2),
                  "raw_encode_cpu_seconds": round(time.process_time() - cpu, 2),
                  "sentences": len(texts)}))
"""
CHILD_CHECK = """
import json, sys
from pathlib import Path
from assistant.catalog import Catalog
from assistant.settings import Settings
from assistant.store import open_store
index = Path(sys.argv[1])
catalog = Catalog(index / "catalog.sqlite3")
store = open_store(Settings.load().replace(index_dir=index), index)
counts = catalog.counts()
print(json.dumps({"documents": counts["documents"], "chunks": counts["chunks"],
                  "store_chunks": store.count(), "same_articles": store.doc_ids() == catalog.doc_ids(),
                  "ingest_state": catalog.get_meta("ingest_state")}))
"""
def marginal_ingest(work: Path, n: int, env: dict, resume: bool, count: int,
                    code: Path = ROOT) -> dict:
    """Ingest `count` new articles into a copy of the stage's index (the cost of growing it at
    this size) and encode their sentences raw, back to back; with `resume`, then interrupt an
    ingest of `count` more and run it again (what a killed ingest at this size costs)."""
    from run import generate_corpus

    extra = work / f"extra-{count}"
    if not extra.exists():
        generate_corpus(2 * count, extra / "all", seed=1)
        for i, f in enumerate(sorted((extra / "all").glob("*.txt"))):
            part = extra / ("first" if i < count else "second")
            part.mkdir(exist_ok=True)
            shutil.copy2(f, part / f.name)
    index = work / "marginal-index"
    shutil.rmtree(index, ignore_errors=True)
    shutil.copytree(work / f"index-{n}", index)
    try:
        out = child(CHILD_INGEST, [str(extra / "first"), str(index), "--no-load"], env, tree=code)
        out.update(child(CHILD_ENCODE_FILES, [str(extra / "first")], env, tree=code))
        out["ingest_vs_raw_encode"] = round(out["ingest_seconds"] / out["raw_encode_seconds"], 3)
        if resume:
            out["resume"] = interrupted_ingest(extra / "second", index, env, n + count, count)
        return out
    finally:
        shutil.rmtree(index, ignore_errors=True)


def ingest_recheck(work: Path, n: int, count: int, baseline: Path | None, rounds: int) -> dict:
    """The marginal ingest at one size, alone: this code's (and a baseline tree's, alternating
    with it) ingest of `count` more articles into a copy of the index, against raw encoding."""
    trees = {"this": ROOT, **({"baseline": baseline.resolve()} if baseline else {})}
    runs: dict[str, list[dict]] = {name: [] for name in trees}
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    for _ in range(rounds):
        for name, tree in trees.items():
            runs[name].append(marginal_ingest(work, n, env, False, count, code=tree))
    out = {"articles": n, "added": count, "rounds": rounds,
           "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    for name, found in runs.items():
        out[name] = {"ingest_vs_raw_encode": [r["ingest_vs_raw_encode"] for r in found],
                     "ingest_seconds": [r["ingest_seconds"] for r in found],
                     "raw_encode_seconds": [r["raw_encode_seconds"] for r in found],
                     "ingest_cpu_seconds": [r["ingest_cpu_seconds"] for r in found]}
    return out


def interrupted_ingest(corpus: Path, index: Path, env: dict, before: int, count: int) -> dict:
    """Kill an ingest half-way (SIGKILL, as a crash), run it again, and check the index."""
    import signal
    import sqlite3

    proc = subprocess.Popen([sys.executable, "-c", CHILD_INGEST, str(corpus), str(index), "--no-load"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    t = time.perf_counter()
    committed = before
    while proc.poll() is None and committed < before + count // 2:
        time.sleep(0.5)
        with sqlite3.connect(index / "catalog.sqlite3") as db:
            committed = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_after = time.perf_counter() - t
    again = child(CHILD_INGEST, [str(corpus), str(index), "--no-load"], env)
    check = child(CHILD_CHECK, [str(index)], env)
    return {"killed_after_seconds": round(killed_after, 1), "committed_when_killed": committed - before,
            "rerun": again, "check": check,
            "complete": check["documents"] == before + count and check["same_articles"]
            and check["store_chunks"] == check["chunks"] and check["ingest_state"] == "clean"}


def arrange_corpus(work: Path, n: int) -> Path:
    """Make work/corpus hold exactly articles 1..n (the catalog records their paths there)."""
    corpus, spare = work / "corpus", work / "spare"
    spare.mkdir(exist_ok=True)
    for f in list(corpus.glob("*.txt")):
        if not f.name.startswith("article-") or int(f.stem.split("-")[1]) > n:
            f.rename(spare / f.name)
    for f in list(spare.glob("article-*.txt")):
        if int(f.stem.split("-")[1]) <= n:
            f.rename(corpus / f.name)
    return corpus


def serve(work: Path, n: int, questions: list[str], warmup: list[str], env: dict,
          settings: dict | None = None, index: Path | None = None, code: Path = ROOT,
          web_upload: bool = False) -> dict:
    """`code`: the tree whose assistant package serves (another commit's, for a baseline)."""
    corpus = arrange_corpus(work, n)
    upload = corpus / "zz-upload.txt"
    fresh = index is None
    if fresh:  # a copy, so that the upload does not change the stage's index
        index = work / "serving-index"
        shutil.rmtree(index, ignore_errors=True)
        shutil.copytree(work / f"index-{n}", index)
    job = {"corpus": str(corpus), "index": str(index), "questions": questions, "warmup": warmup,
           "settings": settings or {},
           "upload": {"path": str(upload), "text": UPLOAD_TEXT, "question": UPLOAD_QUESTION,
                      "web": web_upload}}
    try:
        return child(CHILD_SERVE, [json.dumps(job)], env, timeout=3600, tree=code)
    finally:
        upload.unlink(missing_ok=True)
        if fresh:
            shutil.rmtree(index, ignore_errors=True)


def measure(work: Path, out: Path, questions_n: int, baseline: Path | None = None,
            marginal: int = 100) -> dict:
    from run import cold_start, load_questions

    stages = json.loads((work / "build.json").read_text())
    sizes = sorted(int(n) for n in stages)
    questions = load_questions("dev.jsonl", questions_n)
    warmup = load_questions("heldout.jsonl", 200)[:5]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    # As run.cold_start's children: one ONNX export (made here, before anything is timed) and a
    # data folder of this run's own, so no earlier upload joins the corpus.
    env.update(PYTHONPATH=str(ROOT), ASSISTANT_DATA_DIR=str(work / "child-data"),
               ASSISTANT_MODEL_CACHE_DIR=str(work / "models"))
    os.environ["ASSISTANT_MODEL_CACHE_DIR"] = str(work / "models")
    from assistant.embeddings import Embedder

    Embedder(runtime="onnx", export_dir=work / "models")
    first = stages[str(sizes[0])]
    per_sentence = first["raw_encode_seconds"] / first["sentences"]
    rows, done = [], 0
    for n in sizes:
        stage = stages[str(n)]
        added_sentences = stage["sentences"] - done
        done = stage["sentences"]
        row = {"articles": n, "sentences": stage["sentences"], "chunks": stage["chunks"],
               "stage_articles": stage["added"], "stage_ingest_seconds": stage["ingest_seconds"],
               "stage_ingest_per_article_ms": round(1000 * stage["ingest_seconds"] / stage["added"], 1),
               "stage_raw_encode_seconds": round(per_sentence * added_sentences, 2),
               "first_load_seconds": stage["first_load_seconds"],
               "index_disk_mb": disk_mb(work / f"index-{n}")}
        # The stages ran beside other work: wall-clock ratios are upper bounds. CPU seconds
        # against a sample's raw-encode CPU seconds per sentence are given beside them.
        row["stage_ingest_vs_raw_encode"] = round(stage["ingest_seconds"]
                                                  / row["stage_raw_encode_seconds"], 3)
        sample = first.get("sample_raw_encode")
        if sample and "ingest_cpu_seconds" in stage:
            cpu = sample["raw_encode_cpu_seconds"] / sample["sentences"] * added_sentences
            row["stage_ingest_cpu_vs_raw_encode_cpu"] = round(stage["ingest_cpu_seconds"] / cpu, 3)
        print(f"[{n}] serving", file=sys.stderr, flush=True)
        row["serve"] = serve(work, n, questions, warmup, env)
        print(f"[{n}] {row['serve']}", file=sys.stderr, flush=True)
        arrange_corpus(work, n)
        row["cold_start"] = cold_start(work / "corpus", work / f"index-{n}", questions[0], work,
                                       runs=2 if n == sizes[-1] else 1)
        print(f"[{n}] cold start {row['cold_start']}", file=sys.stderr, flush=True)
        row["marginal_ingest"] = marginal_ingest(work, n, env, n == sizes[-1], marginal)
        print(f"[{n}] marginal ingest {row['marginal_ingest']}", file=sys.stderr, flush=True)
        rows.append(row)
    result = {"sizes": sizes, "rows": rows, "raw_encode_measured_at": sizes[0],
              "server": server_mode(work, sizes[-1], questions, warmup, env)}
    if baseline is not None:  # the code before this work, at the largest size
        print(f"[{sizes[-1]}] serving with {baseline}", file=sys.stderr, flush=True)
        result["baseline"] = {"code": str(baseline), "articles": sizes[-1],
                              **serve(work, sizes[-1], questions, warmup, env, code=baseline)}
    result["extrapolated_100k"] = extrapolate(rows, 100_000)
    result["targets"] = targets(result)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


# What each row reports, as (label, how to read it from a row, unit).
MEASURES = [
    ("ask p50", lambda r: r["serve"]["ask_ms"]["p50"], "ms"),
    ("ask p95", lambda r: r["serve"]["ask_ms"]["p95"], "ms"),
    ("ask one article p50", lambda r: r["serve"]["ask_one_article_ms"]["p50"], "ms"),
    ("cold start", lambda r: r["cold_start"]["seconds"], "s"),
    ("serving RSS", lambda r: r["serve"]["serving_rss_mb"], "MB"),
    ("upload to answerable", lambda r: r["serve"]["upload"]["seconds"], "s"),
    ("index on disk", lambda r: r["index_disk_mb"], "MB"),
    ("ingest per article", lambda r: 1000 * r["marginal_ingest"]["ingest_seconds"]
     / r["marginal_ingest"]["added"], "ms"),
]


def extrapolate(rows: list[dict], n: int) -> dict:
    """Each measure at n articles on the straight line (log-log) through the two largest sizes:
    growth continued at the rate last seen, labelled as such, not measured."""
    import math

    a, b = rows[-2], rows[-1]
    out = {"articles": n, "from": [a["articles"], b["articles"]], "measured": False}
    for label, read, unit in MEASURES:
        ya, yb = read(a), read(b)
        slope = math.log(yb / ya) / math.log(b["articles"] / a["articles"]) if ya > 0 and yb > 0 else 0.0
        slope = max(0.0, slope)  # a cost that fell between the two sizes (noise) is held flat
        out[label] = {"value": round(yb * (n / b["articles"]) ** slope, 2), "unit": unit,
                      "growth_exponent": round(slope, 3)}
    return out


def targets(result: dict) -> dict:
    rows = result["rows"]
    first, last = rows[0], rows[-1]
    checks = {
        "ask_p50_vs_first_size": (last["serve"]["ask_ms"]["p50"] / first["serve"]["ask_ms"]["p50"],
                                  "<=", 1.5),
        "ingest_vs_raw_encode": (last["marginal_ingest"]["ingest_vs_raw_encode"], "<=", 1.3),
        "serving_rss_mb": (last["serve"]["serving_rss_mb"], "<=", 1536.0),
        "cold_start_vs_floor": (last["cold_start"]["cold_start_vs_floor"], "<=", 1.2),
        "server_ask_p50_vs_embedded": (result["server"]["ask_ms"]["p50"]
                                       / last["serve"]["ask_ms"]["p50"], "<=", 1.5),
    }
    return {name: {"value": round(v, 3), "target": f"{op} {limit:g}", "at": last["articles"],
                   "met": v <= limit} for name, (v, op, limit) in checks.items()}


def table(result: dict) -> str:
    rows = result["rows"]
    ext = result["extrapolated_100k"]
    head = ["measure"] + [f"{r['articles']:,}" for r in rows] + [f"{ext['articles']:,} (extrapolated)",
                                                                 "growth exponent"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, read, unit in MEASURES:
        cells = [f"{label} ({unit})"] + [f"{read(r):,.1f}" for r in rows]
        cells += [f"{ext[label]['value']:,.1f}", f"{ext[label]['growth_exponent']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"{'MET ' if t['met'] else 'MISS'} {name} at {t['at']:,}: {t['value']} (target {t['target']})"
              for name, t in result["targets"].items()]
    return "\n".join(lines)


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["rows"]
    ext = result["extrapolated_100k"]
    xs = [r["articles"] for r in rows]
    fig, ax = plt.subplots(figsize=(8.5, 5.5), dpi=100)
    for label, read, unit in MEASURES:
        ys = [read(r) for r in rows]
        line, = ax.plot(xs, ys, marker="o", label=f"{label} ({unit})")
        ax.plot([xs[-1], ext["articles"]], [ys[-1], ext[label]["value"]], linestyle=":",
                color=line.get_color())
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("articles (dotted: extrapolated to 100,000)")
    ax.set_title("How the costs grow with the corpus (log-log)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def server_mode(work: Path, n: int, questions: list[str], warmup: list[str], env: dict) -> dict:
    """The same serving run against `chroma run` serving a copy of the stage's Chroma folder."""
    import socket

    index = work / "server-index"
    shutil.rmtree(index, ignore_errors=True)
    shutil.copytree(work / f"index-{n}", index)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chroma = Path(sys.executable).with_name("chroma")
    server = subprocess.Popen([str(chroma), "run", "--path", str(index / "chroma"), "--port", str(port),
                               "--host", "127.0.0.1"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        out = serve(work, n, questions, warmup, env, index=index,
                    settings={"chroma_host": "127.0.0.1", "chroma_port": port})
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(index, ignore_errors=True)
    return {"articles": n, **out}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--work", type=Path, required=True)
    b.add_argument("--sizes", default="1000,3000,10000")
    m = sub.add_parser("measure")
    m.add_argument("--work", type=Path, required=True)
    m.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "scale.json")
    m.add_argument("--questions", type=int, default=30)
    m.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results.json",
                   help="the benchmark results file the scale rows are added to (key 'scale')")
    m.add_argument("--marginal", type=int, default=100,
                   help="articles added to each stage's index to time growing it (default 100)")
    m.add_argument("--baseline", type=Path, help="a tree of older code to serve the largest index with")
    g = sub.add_parser("ingest", help="only the marginal ingest at one size: this code and, if "
                       "given, an older tree's, back to back, each against raw encoding")
    g.add_argument("--work", type=Path, required=True)
    g.add_argument("--size", type=int, default=10_000)
    g.add_argument("--marginal", type=int, default=100)
    g.add_argument("--baseline", type=Path)
    g.add_argument("--rounds", type=int, default=2)
    g.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results.json")
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.work, [int(s) for s in args.sizes.split(",")])
    elif args.command == "ingest":
        recheck = ingest_recheck(args.work, args.size, args.marginal, args.baseline, args.rounds)
        print(json.dumps(recheck, indent=2))
        results = json.loads(args.results.read_text()) if args.results.exists() else {}
        results.setdefault("scale", {})["ingest_recheck"] = recheck
        args.results.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    else:
        result = measure(args.work, args.out, args.questions, args.baseline, args.marginal)
        plot(result, args.out.with_suffix(".png"))
        print(table(result))
        if args.results is not None:  # beside the 1,000-article benchmark's figures
            results = json.loads(args.results.read_text()) if args.results.exists() else {}
            results["scale"] = result
            args.results.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
