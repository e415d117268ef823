"""The scale benchmark's report: the growth exponents, the labelled extrapolation and the targets
(pure functions over rows shaped like `measure`'s; the measuring itself is benchmarks/scale.py's)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import scale  # noqa: E402


def row(n: int, ask: float, cold: float, rss: float, upload: float, disk: float,
        ingest_ratio: float = 1.1, floor: float = 14.0) -> dict:
    return {"articles": n, "index_disk_mb": disk,
            "serve": {"ask_ms": {"p50": ask, "p95": 2 * ask}, "ask_one_article_ms": {"p50": ask},
                      "serving_rss_mb": rss, "upload": {"seconds": upload}},
            "cold_start": {"seconds": cold, "cold_start_vs_floor": cold / floor},
            "marginal_ingest": {"ingest_seconds": 50.0, "added": 100,
                                "ingest_vs_raw_encode": ingest_ratio}}


def result(rows: list[dict], server_ask: float) -> dict:
    out = {"rows": rows, "server": {"ask_ms": {"p50": server_ask}}}
    out["extrapolated_100k"] = scale.extrapolate(rows, 100_000)
    out["targets"] = scale.targets(out)
    return out


def test_growth_is_read_on_the_log_log_line_through_the_two_largest_sizes():
    rows = [row(1000, 20, 6, 400, 1, 900), row(3000, 21, 7, 600, 1.2, 2700),
            row(10000, 22, 8, 900, 1.0, 9000)]
    ext = scale.extrapolate(rows, 100_000)
    assert ext["measured"] is False and ext["from"] == [3000, 10000]
    assert ext["index on disk"]["growth_exponent"] == pytest.approx(1.0, abs=1e-3)
    assert ext["index on disk"]["value"] == pytest.approx(90_000, rel=1e-3)  # linear: x10
    assert 0 < ext["ask p50"]["growth_exponent"] < 0.1
    # A cost that fell between the two largest sizes is held flat, never extrapolated downwards.
    assert ext["upload to answerable"]["growth_exponent"] == 0
    assert ext["upload to answerable"]["value"] == 1.0


def test_targets_compare_the_largest_size_with_the_first_and_the_limits():
    good = result([row(1000, 20, 6, 400, 1, 900), row(10000, 29, 8, 1200, 1, 9000)], server_ask=40)
    assert all(t["met"] for t in good["targets"].values()), good["targets"]
    bad = result([row(1000, 20, 6, 400, 1, 900),
                  row(10000, 31, 18, 1600, 1, 9000, ingest_ratio=1.4)], server_ask=47)
    missed = {name for name, t in bad["targets"].items() if not t["met"]}
    assert missed == {"ask_p50_vs_first_size", "ingest_vs_raw_encode", "serving_rss_mb",
                      "cold_start_vs_floor", "server_ask_p50_vs_embedded"}
    table = scale.table(bad)
    assert "100,000 (extrapolated)" in table and "MISS serving_rss_mb at 10,000" in table
