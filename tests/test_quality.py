"""Quality floors on the held-out sets (never tuned on), through the real `assistant eval` gate.

The thresholds sit a little under what the held-out part measures today (see README); raise them
as quality improves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.integration

# Each set's floors sit a little under what it measures today (README, "Evaluation").
# heldout: answer 0.800, cite 0.865, precision 0.797, abstain 0.833, false abstain 0.075.
FLOORS = {"--min-answer": "0.75", "--min-cite": "0.80", "--min-precision": "0.75",
          "--min-abstain": "0.75", "--max-false-abstain": "0.10"}
# heldout2: 0.871 / 0.931 / 0.845 / 0.778 / 0.065 (first run, before the soft-matching round:
# 0.677 / 0.875 / 0.875 / 0.778 / 0.226).
FLOORS_2 = {"--min-answer": "0.80", "--min-cite": "0.85", "--min-precision": "0.80",
            "--min-abstain": "0.70", "--max-false-abstain": "0.10"}
# heldout3: 0.667 / 0.929 / 0.821 / 0.727 / 0.282 (first run, before dev3:
# 0.615 / 0.923 / 0.865 / 0.636 / 0.333). Precision fell from 0.879 when a close second sentence
# of the same article began to be cited too.
FLOORS_3 = {"--min-answer": "0.62", "--min-cite": "0.85", "--min-precision": "0.77",
            "--min-abstain": "0.65", "--max-false-abstain": "0.33"}
# heldout4, the clean set (committed before the system was first run on it; only its aggregate
# and per-tag numbers have been read, twice): first run 0.559 / 0.633 / 0.533 / 0.438 / 0.118,
# second (after the date, measure and elsewhere rules) 0.559 / 0.633 / 0.567 / 0.562 / 0.118.
# Far under the floors: these guard against getting worse, not a claim of quality.
FLOORS_4 = {"--min-answer": "0.50", "--min-cite": "0.58", "--min-precision": "0.52",
            "--min-abstain": "0.50", "--max-false-abstain": "0.18"}
# heldout5, the clean set now: 60 questions written to the issue's own brief by a helper who
# never ran the system, committed before its first run; only aggregate and per-tag numbers read.
# First run 0.795 / 0.878 / 0.768 / 0.562 / 0.068; second (after this round's type rules and the
# relevance gate) 0.773 / 0.875 / 0.762 / 0.625 / 0.091. Under the floors on answer,
# cite and abstain: a guard against getting worse.
FLOORS_5 = {"--min-answer": "0.72", "--min-cite": "0.82", "--min-precision": "0.72",
            "--min-abstain": "0.55", "--max-false-abstain": "0.14"}
SETS = {
    "heldout": ("evals/questions/heldout.jsonl", ["corpus", "evals/articles"], FLOORS, 50),
    "heldout2": ("evals/questions/heldout2.jsonl",
                 ["corpus", "evals/articles", "evals/articles-heldout2"], FLOORS_2, 40),
    "heldout3": ("evals/questions/heldout3.jsonl",
                 ["corpus", "evals/articles", "evals/articles-heldout3"], FLOORS_3, 50),
    "heldout4": ("evals/questions/heldout4.jsonl",
                 ["corpus", "evals/articles", "evals/articles-heldout4"], FLOORS_4, 50),
    "heldout5": ("evals/questions/heldout5.jsonl",
                 ["corpus", "evals/articles", "evals/articles-heldout5"], FLOORS_5, 60),
}


@pytest.mark.parametrize("name", sorted(SETS))
def test_held_out_questions_clear_the_floors(tmp_path, name):
    questions, corpora, floors, n_questions = SETS[name]
    out = tmp_path / "report"
    args = [sys.executable, "-m", "assistant", "eval", questions, "--index-dir", str(tmp_path / "index"),
            "--out", str(out), "--no-progress"]
    for corpus in corpora:
        args += ["--corpus", corpus]
    for flag, value in floors.items():
        args += [flag, value]
    run = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["metrics"]["n_questions"] >= n_questions
    assert (out / "report.md").stat().st_size > 0 and (out / "report.png").stat().st_size > 1000


def test_the_gate_fails_when_a_floor_is_missed(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "assistant", "eval", "evals/questions/heldout.jsonl", "--corpus", "corpus",
         "--corpus", "evals/articles", "--index-dir", str(tmp_path / "index"), "--out", str(tmp_path / "r"),
         "--no-progress", "--min-answer", "0.999"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert run.returncode == 1, run.stdout + run.stderr
