"""Chroma server mode: the same corpus gives the same answers and citations as the embedded store."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import stop

from assistant.errors import SettingsError, StoreUnavailable
from assistant.settings import Settings

QUESTIONS = [
    "When did Azerbaijan launch its military offensive?",
    "How many ethnic Armenians fled Nagorno-Karabakh?",
    "Who leads Azerbaijan?",
    "How much did the Valmora harbour bridge cost?",
    "Who is the mayor of Paris?",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_heartbeat(proc: subprocess.Popen, port: int, timeout: float = 60.0) -> None:
    url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chroma run exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"no heartbeat from the Chroma server at {url} after {timeout:.0f} s")


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A real `chroma run` on a free local port; stopped by its process id afterwards."""
    chroma = Path(sys.executable).parent / "chroma"
    # chromadb.cli.cli has no __main__ guard, so without the console script call its app directly.
    cmd = [str(chroma)] if chroma.exists() else [sys.executable, "-c",
                                                 "from chromadb.cli.cli import app; app()"]
    port = _free_port()
    log = tmp_path_factory.mktemp("chroma-log") / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*cmd, "run", "--path", str(tmp_path_factory.mktemp("chroma-server")),
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    try:
        _wait_for_heartbeat(proc, port)
        yield port
    finally:
        stop(proc, timeout=10)


def _answers(bot) -> list[tuple[str, bool, list[tuple[str, int, int, int]]]]:
    out = []
    for q in QUESTIONS:
        a = bot.ask(q)
        out.append((a.text, a.abstained, [(c.doc_id, c.sentence_id, c.start, c.end) for c in a.citations]))
    return out


@pytest.mark.integration
def test_server_store_answers_like_the_embedded_store(chroma_server, two_article_corpus, tmp_path):
    from assistant import Assistant

    embedded = Assistant.from_corpus(two_article_corpus, index_dir=tmp_path / "embedded")
    served = Assistant.from_corpus(two_article_corpus, index_dir=tmp_path / "served",
                                   chroma_host="127.0.0.1", chroma_port=chroma_server)
    # The vectors went to the server, not to an embedded store under the index directory.
    assert not (tmp_path / "served" / "chroma").exists()
    assert (tmp_path / "served" / "catalog.sqlite3").exists()
    assert served.store.count() == embedded.store.count() > 0
    assert served.store.doc_ids() == embedded.store.doc_ids()

    expected = _answers(embedded)
    assert any(cites for _, abstained, cites in expected if not abstained)
    assert _answers(served) == expected


@pytest.mark.integration
def test_a_second_client_reuses_the_server_collection(chroma_server, two_article_corpus, tmp_path):
    from assistant import Assistant

    first = Assistant.from_corpus(two_article_corpus, index_dir=tmp_path / "a",
                                  chroma_host="127.0.0.1", chroma_port=chroma_server,
                                  collection="reuse")
    again = Assistant.from_corpus(two_article_corpus, index_dir=tmp_path / "a",
                                  chroma_host="127.0.0.1", chroma_port=chroma_server,
                                  collection="reuse")
    assert again.last_ingest.unchanged == 2 and not again.last_ingest.added
    assert again.store.count() == first.store.count()


def test_an_unreachable_server_says_what_to_do(tmp_path):
    from assistant.store import open_store

    settings = Settings.load(chroma_host="127.0.0.1", chroma_port=_free_port())
    with pytest.raises(StoreUnavailable, match="ASSISTANT_CHROMA_HOST"):
        open_store(settings, tmp_path)


def test_auth_header_is_parsed_and_kept_out_of_dumps():
    s = Settings.load(chroma_auth_header="Authorization: Bearer s3cret")
    assert s.chroma_headers() == {"Authorization": "Bearer s3cret"}
    assert "s3cret" not in str(s.to_dict())
    with pytest.raises(SettingsError, match="Header-Name: value"):
        Settings.load(chroma_auth_header="just-a-token")
