"""The `assistant` command, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.integration


def run(*args, env_extra=None, stdin=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def index_args(two_article_corpus, tmp_path_factory):
    return ["--corpus", str(two_article_corpus), "--index-dir", str(tmp_path_factory.mktemp("cli"))]


def test_ingest_then_ask_json(index_args):
    first = run("ingest", *index_args)
    assert first.returncode == 0, first.stderr
    assert "2 added" in first.stdout
    second = run("ingest", *index_args)
    assert "0 added, 0 removed, 2 unchanged" in second.stdout
    out = run("ask", "How much did the bridge cost?", "--json", *index_args)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert "410 million euros" in data["text"]
    assert data["citations"][0]["title"].startswith("Valmora")


def test_ask_prints_numbered_sources(index_args):
    out = run("ask", "How many ethnic Armenians live in Nagorno-Karabakh?", *index_args)
    assert "Sources:" in out.stdout and "[1] Azerbaijan Escalates" in out.stdout


def test_chat_keeps_history(index_args):
    out = run("chat", *index_args,
              stdin="Who proposed talks in Yevlakh?\nHow far is that town from the capital?\n")
    assert out.returncode == 0, out.stderr
    assert "60 miles" in out.stdout


def test_bad_setting_is_one_line_error(index_args):
    out = run("ask", "hi", "--set", "top_k=lots", *index_args)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "top_k" in out.stderr
    assert "Traceback" not in out.stderr


def test_empty_question_exits_2_with_message(index_args):
    out = run("ask", "  ", *index_args)
    assert out.returncode == 2 and "Please type a question" in out.stdout


def test_a_closed_pipe_is_not_an_error(index_args):
    """`assistant ask ... --json | head -1`: the reader went away; no 'Broken pipe' error, exit 0."""
    env = {**os.environ}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "ask", "How much did the bridge cost?",
                             "--json", *index_args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the answer is printed: every write meets EPIPE
    _, err = proc.communicate(timeout=300)
    err = err.decode()
    assert "Broken pipe" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 0, err
    piped = subprocess.run(f"{sys.executable} -m assistant ask 'How much did the bridge cost?' --json "
                           + " ".join(index_args) + " | head -1", shell=True, cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert piped.stdout == "{\n" and "Broken pipe" not in piped.stderr, piped.stderr
