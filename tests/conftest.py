"""Shared fixtures: a temp data directory per test, and one real index over the seed + a second article."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "corpus" / "nagorno-karabakh-2023.txt"
DATA = Path(__file__).parent / "data"


def stop(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Stop a child server by its process id: terminate, then kill if it does not go in time."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's data directory or picks up their ASSISTANT_* variables."""
    import os

    for key in list(os.environ):
        if key.startswith("ASSISTANT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    # One ONNX export of the model for the whole session, not one per test's data directory.
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "models"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session")
def two_article_corpus(tmp_path_factory) -> Path:
    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copy(SEED, corpus / SEED.name)
    shutil.copy(DATA / "articles" / "harbour-bridge.txt", corpus / "harbour-bridge.txt")
    return corpus


@pytest.fixture(scope="session")
def bot(two_article_corpus, tmp_path_factory):
    """One real Assistant (real model, real Chroma) shared by the read-only engine tests."""
    from assistant import Assistant

    return Assistant.from_corpus(two_article_corpus, index_dir=tmp_path_factory.mktemp("index"))
