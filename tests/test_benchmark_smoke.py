"""The benchmark script runs end to end on a tiny corpus and writes every number it reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


@pytest.mark.integration
def test_benchmark_writes_all_measurements(tmp_path):
    out = tmp_path / "results.json"
    # benchmarks/scale.py keeps its rows in the same file; a new benchmark run must not drop them.
    out.write_text(json.dumps({"articles": 1, "scale": {"sizes": [1000]}}))
    done = subprocess.run([sys.executable, str(SCRIPT), "--articles", "5", "--questions", "3",
                           "--recall-queries", "5", "--out", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "recall@10" in done.stdout

    result = json.loads(out.read_text())
    for corpus in ("seed", "generated"):
        for key in ("ask_ms", "ask_reader_alone_ms", "plain_langchain_ms", "floor_ms"):
            assert result[corpus][key]["p50"] > 0 and result[corpus][key]["p95"] > 0
        assert result[corpus]["ask_p50_vs_plain_p50"] > 0
    assert result["ingest"]["articles"] == 5
    assert result["ingest"]["seconds"] > 0 and result["ingest"]["ingest_vs_raw_encode"] > 0
    assert result["cold_start"]["seconds"] > 0 and result["cold_start"]["cold_start_vs_floor"] > 0
    assert 0 < result["cold_start"]["peak_rss_mb"] < 100_000
    assert 0 <= result["recall_at_10"] <= 1
    assert set(result["targets"]) == {"ask_p50_vs_plain_p50", "ingest_vs_raw_encode",
                                      "cold_start_vs_floor", "peak_rss_mb", "recall_at_10"}
    assert all(isinstance(t["met"], bool) for t in result["targets"].values())
    assert result["scale"] == {"sizes": [1000]} and result["articles"] == 5
