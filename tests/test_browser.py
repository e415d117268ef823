"""The web chat in a real browser: Debian's Chromium driven by Playwright against a real app.py server."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import ROOT
from test_web import running_app

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HOSTILE = """Orvanne Lake Festival Draws Record Crowd <script>alert('title')</script>

The Orvanne lake festival drew 12,500 visitors on Sunday, organisers said. <script>alert('xss')</script>

A banner read <img src="http://evil.example/pixel.png" onerror="alert('img')"> at the gate,
and the programme showed ![logo](http://evil.example/logo.png) beside the map.

Festival director Mira Solberg said the lantern parade would return next year. ${alert('template')}
"""
UPLOAD = """Greywater Mill Reopens As Museum

The old Greywater textile mill reopened on Friday as a museum of weaving.

The restored mill holds 46 working looms, the largest collection in the region.

Curator Jonas Pell said the museum expects 20,000 visitors in its first year.
"""


def corpus_with(base: Path, folder: Path, name: str, text: str) -> Path:
    """`folder` holding the articles of `base` and one more, `name`, with `text`."""
    for f in base.iterdir():
        shutil.copy(f, folder / f.name)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def app_url(two_article_corpus, tmp_path_factory):
    corpus = corpus_with(two_article_corpus, tmp_path_factory.mktemp("browser-corpus"),
                         "orvanne-festival.txt", HOSTILE)
    with running_app(corpus, tmp_path_factory.mktemp("browser-data")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed; run scripts/test, which installs it.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Watched:
    """A page that records dialogs, console errors and every request leaving 127.0.0.1."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        self.context.route("**/*", self._route)
        self.page.goto(url, wait_until="load")
        self.page.locator(".qa-suggestion").first.wait_for(state="visible", timeout=30_000)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route):
        url = route.request.url
        host = urlparse(url).hostname
        if url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def ask(self, question: str) -> str:
        """Type a question, press Enter, and return the text of the new bot message."""
        bots = self.page.locator('[data-testid="bot"]')
        before = bots.count()
        box = self.page.locator('#qa-question textarea[data-testid="textbox"]')
        box.fill(question)
        box.press("Enter")
        return self.wait_for_reply(before)

    def wait_for_reply(self, before: int) -> str:
        bots = self.page.locator('[data-testid="bot"]')
        self.page.wait_for_function(
            f"document.querySelectorAll('[data-testid=\"bot\"]').length > {before}", timeout=30_000)
        return bots.nth(before).inner_text()

    def close(self):
        self.context.close()


@pytest.fixture
def page(browser, app_url):
    watched = Watched(browser, app_url)
    yield watched
    watched.close()


def _mark_in_view(page, marker: int) -> bool:
    return page.evaluate(
        """(id) => { const m = document.getElementById(id); const box = m.closest('.qa-articles');
                     const r = m.getBoundingClientRect(), b = box.getBoundingClientRect();
                     return r.top >= b.top && r.bottom <= b.bottom; }""", f"qa-mark-{marker}")


def test_answer_is_cited_and_its_sentence_highlighted_in_the_article(page, bot):
    question = "How many ethnic Armenians live in Nagorno-Karabakh?"
    expected = bot.ask(question)
    reply = page.ask(question)
    assert "120,000" in reply and "[1]" in reply
    first = expected.citations[0]
    mark = page.page.locator("#qa-sources mark#qa-mark-1")
    assert mark.inner_text() == first.text
    assert _mark_in_view(page.page, 1)  # scrolled into view without a click
    # One click on a citation shows its sentence in context.
    last = expected.citations[-1]
    page.page.locator(f'#qa-sources [data-target="qa-mark-{last.marker}"]').click()
    assert "qa-active" in page.page.locator(f"#qa-mark-{last.marker}").get_attribute("class")
    assert _mark_in_view(page.page, last.marker)
    (ROOT / "artifacts").mkdir(exist_ok=True)
    page.page.screenshot(path=str(ROOT / "artifacts" / "web-chat.png"), full_page=True)
    # A follow-up uses the conversation.
    follow = page.ask("And what did Pashinyan accuse Azerbaijan of?")
    assert "ethnic cleansing" in follow
    page.page.locator("#qa-clear").click()
    page.page.wait_for_function("document.querySelectorAll('[data-testid=\"bot\"]').length == 0")
    assert not page.dialogs and not page.outside


def test_clicking_a_suggested_question_asks_it(page):
    suggestion = page.page.locator(".qa-suggestion").first
    text = suggestion.inner_text().strip()
    assert text.endswith("?")
    suggestion.click()
    reply = page.wait_for_reply(0)
    assert page.page.locator('[data-testid="user"]').first.inner_text().strip() == text
    assert "do not say" not in reply
    assert page.page.locator("#qa-sources mark.qa-mark").count() >= 1


def test_abstention_says_so_and_offers_what_the_articles_cover(page):
    reply = page.ask("What is the population of Brazil?")
    assert "do not say" in reply
    panel = page.page.locator("#qa-sources")
    assert "Not in the articles" in panel.inner_text()
    assert "Valmora Opens Harbour Bridge" in panel.inner_text()


def test_upload_adds_an_article_to_ask_about_and_refuses_bad_files(page, tmp_path):
    article = tmp_path / "greywater-mill.txt"
    article.write_text(UPLOAD, encoding="utf-8")
    page.page.get_by_text("Add an article").click()
    status = page.page.locator("#qa-upload-status")
    file_input = page.page.locator('#qa-upload input[type="file"]')
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n", encoding="utf-8")
    file_input.set_input_files(str(empty))
    page.page.wait_for_function(
        "document.querySelector('#qa-upload-status').innerText.includes('Could not add')", timeout=30_000)
    assert "empty file" in status.inner_text()

    file_input = page.page.locator('#qa-upload input[type="file"]')
    file_input.set_input_files(str(article))
    page.page.wait_for_function(
        "document.querySelector('#qa-upload-status').innerText.includes('Added')", timeout=60_000)
    assert "Greywater Mill Reopens As Museum" in status.inner_text()
    reply = page.ask("How many working looms does the restored mill hold?")
    assert "46" in reply


def test_hostile_article_is_shown_as_text_and_nothing_runs_or_loads(page):
    reply = page.ask("How many visitors did the Orvanne lake festival draw?")
    assert "12,500" in reply
    page.page.locator("#qa-picker input").click()
    page.page.get_by_role("option", name="Orvanne Lake Festival").click()
    panel = page.page.locator("#qa-sources")
    page.page.wait_for_function(
        "document.querySelector('#qa-sources').innerText.includes('evil.example/logo.png')")
    text = panel.inner_text()
    assert "<script>alert('xss')</script>" in text
    assert 'onerror="alert(\'img\')"' in text and "![logo](http://evil.example/logo.png)" in text
    assert panel.locator("script, img").count() == 0
    assert page.page.locator("#qa-chat img").count() == 0
    page.page.wait_for_timeout(500)
    assert page.dialogs == []
    assert page.outside == []
    assert not [e for e in page.console_errors if "alert" in e or "evil" in e]
