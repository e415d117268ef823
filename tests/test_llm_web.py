"""LLM mode end to end in the browser: app.py talks to a loopback OpenAI-protocol server, the reply
streams into the Gradio chat word by word, then the verified answer with its sources replaces it."""

from __future__ import annotations

import pytest
from fake_openai_server import FakeOpenAI, Reply
from test_browser import Watched, browser  # noqa: F401  (the module-scoped Chromium fixture)
from test_llm import ARMENIANS, is_answer_request, numbered_line
from test_web import running_app

pytestmark = pytest.mark.integration


def slow_model(request: dict) -> Reply:
    """Cites the 120,000 sentence, one word every 0.3 s, and adds an image the reader must not see."""
    if not is_answer_request(request):
        return Reply(ARMENIANS)
    n = numbered_line(request, "120,000")
    return Reply(f"Roughly 120,000 ethnic Armenians live in the Nagorno-Karabakh region [{n}]. "
                 "![x](http://evil.example/p.png)", token_delay=0.3)


def test_the_llm_reply_streams_into_the_chat_then_shows_verified_sources(browser, two_article_corpus,  # noqa: F811
                                                                          tmp_path, monkeypatch):
    with FakeOpenAI(slow_model) as server:
        monkeypatch.setenv("ASSISTANT_ANSWER_MODE", "llm")
        monkeypatch.setenv("ASSISTANT_LLM_MODEL", "fake")
        monkeypatch.setenv("ASSISTANT_LLM_BASE_URL", server.base_url)
        with running_app(two_article_corpus, tmp_path / "data") as url:
            page = Watched(browser, url)
            try:
                box = page.page.locator('#qa-question textarea[data-testid="textbox"]')
                box.fill(ARMENIANS)
                box.press("Enter")
                bot_msg = page.page.locator('[data-testid="bot"]').first
                page.page.wait_for_function(
                    "() => { const b = document.querySelector('[data-testid=\"bot\"]');"
                    " return b && b.innerText.includes('checking the sources'); }", timeout=60_000)
                partial = bot_msg.inner_text()
                # The verified answer replaces the streamed words (its sources are in the panel).
                page.page.wait_for_function(
                    "() => !document.querySelector('[data-testid=\"bot\"]').innerText"
                    ".includes('checking the sources')", timeout=60_000)
                final = bot_msg.inner_text()
                mark = page.page.locator("#qa-sources mark#qa-mark-1").inner_text()
                intro = page.page.locator("#qa-intro").inner_text()
            finally:
                page.close()
    assert "Roughly" in partial and "Sources" not in partial  # words arrived before the answer was done
    assert "Roughly 120,000 ethnic Armenians live in the Nagorno-Karabakh region [1]" in final
    assert "checking the sources" not in final
    assert "120,000 ethnic Armenians" in mark
    assert "written by fake" in intro and "checked" in intro
    assert page.outside == [] and page.page.is_closed()
    assert "evil.example" not in partial + final
    assert [r for r in server.requests if is_answer_request(r)]
