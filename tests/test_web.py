"""The web chat: a real Gradio server, called by gradio_client, rendering answers safely."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ROOT

from assistant.types import Answer, Citation
from assistant.web import escape, render_answer


def test_article_text_never_renders_as_markup():
    hostile = 'Boom <script>alert(1)</script> <img src=x onerror=alert(2)> ![p](http://evil.example/x.png) [l](http://evil.example)'
    out = escape(hostile)
    assert "<script" not in out and "<img" not in out
    assert "](" not in out and "![" not in out


def test_rendered_answer_lists_escaped_sources():
    c = Citation(1, "d", "T <b>", 3, 0, 5, "Hello <i>x</i>.", 0.9)
    md = render_answer(Answer(question="q", text="\u201cHello <i>x</i>.\u201d [1]", citations=[c]))
    assert "**Sources**" in md and "sentence 3" in md
    assert "<i>" not in md and "<b>" not in md


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(two_article_corpus, tmp_path_factory):
    port = _free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "ASSISTANT_CORPUS_DIR": str(two_article_corpus),
           "ASSISTANT_DATA_DIR": str(tmp_path_factory.mktemp("webdata"))}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("app.py exited:\n" + proc.stdout.read())
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("app.py did not answer within 180 s")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.mark.integration
def test_ask_endpoint_returns_the_library_answer(server, bot):
    from gradio_client import Client

    client = Client(server, verbose=False)
    question = "How many ethnic Armenians live in Nagorno-Karabakh?"
    remote = client.predict(question, [], api_name="/ask")
    local = bot.ask(question).to_dict()
    assert remote["text"] == local["text"]
    assert [c["text"] for c in remote["citations"]] == [c["text"] for c in local["citations"]]


@pytest.mark.integration
def test_server_binds_to_loopback_only(server):
    port = int(server.rsplit(":", 1)[1].strip("/"))
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                addr, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                    listening.append(addr)
    assert listening == ["0100007F"]  # 127.0.0.1 only, nothing on all interfaces
