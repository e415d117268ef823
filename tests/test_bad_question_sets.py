"""Broken question sets through the real `assistant eval` command: one line, exit 2, nothing written.

The parsing rules are specified in test_evaluation.py; this suite keeps the hostile files — binary,
non-UTF-8, cut off mid-write, empty, a directory, one absurdly long question — in the reliability
checks, run end to end in a child process the way a user runs them.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.integration

BROKEN = {
    "binary": (b"\xff\xfe\x00\x01bad\x00", "cannot read the question file"),
    "latin-1": ('{"id": "a", "question": "Caf\u00e9?"}\n'.encode("latin-1"), "cannot read the question file"),
    "cut-off": (b'{"id": "a", "question": "A?"}\n{"id": "b", "quest', "line 2: invalid JSON"),
    "empty": (b"", "no questions"),
    "nul-only": (b"\x00" * 64, "line 1: invalid JSON"),
}


def run_eval(path, out, index_dir):
    return subprocess.run([sys.executable, "-m", "assistant", "eval", str(path), "--out", str(out),
                           "--index-dir", str(index_dir), "--corpus", str(ROOT / "corpus"),
                           "--no-progress"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_question_file_gets_one_line_and_exit_2(kind, tmp_path):
    content, expected = BROKEN[kind]
    path = tmp_path / "questions.jsonl"
    path.write_bytes(content)
    result = run_eval(path, tmp_path / "out", tmp_path / "index")
    assert result.returncode == 2, result.stderr
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in message
    assert expected in message and str(path) in message
    assert not (tmp_path / "out").exists() and not (tmp_path / "index").exists()


def test_a_directory_given_as_the_question_file_is_refused(tmp_path):
    (tmp_path / "questions.jsonl").mkdir()
    result = run_eval(tmp_path / "questions.jsonl", tmp_path / "out", tmp_path / "index")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_an_absurdly_long_question_is_reported_and_the_rest_are_answered(tmp_path):
    path = tmp_path / "questions.jsonl"
    path.write_text('{"id": "huge", "question": "' + "why " * 500_000 + '?"}\n'
                    '{"id": "ok", "question": "How many ethnic Armenians live in Nagorno-Karabakh?", '
                    '"answers": ["120,000"]}\n', encoding="utf-8")
    result = run_eval(path, tmp_path / "out", tmp_path / "index")
    assert result.returncode == 0, result.stderr[-2000:]
    report = (tmp_path / "out" / "report.json").read_text(encoding="utf-8")
    assert "please keep it under 2,000" in report
    rows = {r["id"]: r for r in json.loads(report)["questions"]}
    assert rows["ok"]["verdict"]["answer_correct"] is True


@pytest.mark.parametrize("line", ['[' * 100_000 + ']' * 100_000,
                                  '{"id": "q1", "question": "who \\ud800 won"}'])
def test_deep_nesting_and_lone_surrogates_are_one_line_errors(tmp_path, line):
    """Both used to run (or crash) before naming the line: a RecursionError traceback, or every
    question asked and then an empty report.json."""
    from assistant.evaluation.errors import EvalError
    from assistant.evaluation.questions import load_questions

    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "question": "fine"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(EvalError, match="line 2"):
        load_questions(path)


def test_a_folder_of_question_files_is_one_set(tmp_path):
    from assistant.evaluation.questions import load_questions

    (tmp_path / "a.jsonl").write_text('{"id": "a1", "question": "who"}\n', encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"id": "b1", "question": "when"}\n', encoding="utf-8")
    assert [q.id for q in load_questions(tmp_path)] == ["a1", "b1"]
