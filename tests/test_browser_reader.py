"""The chat reads cleanly (issue 16): Debian's Chromium, driven by Playwright, against a real
app.py server, at desktop (1280x800) and phone (390x844) sizes and in Gradio's dark theme."""

from __future__ import annotations

import re

import pytest
from test_browser import CHROMIUM_ARGS, Watched, browser, corpus_with  # noqa: F401  (browser is a fixture)
from test_web import running_app

pytestmark = pytest.mark.integration

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Straight apostrophes in the article and in the question: they must show as typed.
FERRY = """Kelby Island Opens Its First Charging Point

The town's charging point opened on Monday beside the ferry terminal, the council said.

The island has 2,400 residents. The charging point cost 85,000 euros.
The ferry's new battery lets it cross the sound 14 times a day without recharging.

Harbour master Ines Holt said the island's fishing boats would be next.
"""


@pytest.fixture(scope="module")
def corpus(two_article_corpus, tmp_path_factory):
    return corpus_with(two_article_corpus, tmp_path_factory.mktemp("reader-corpus"),
                       "kelby-charging.txt", FERRY)


@pytest.fixture(scope="module")
def app_url(corpus, tmp_path_factory):
    with running_app(corpus, tmp_path_factory.mktemp("reader-data")) as url:
        yield url


@pytest.fixture(scope="module")
def library(corpus, tmp_path_factory):
    """The library over the same articles, to say what the chat should answer."""
    from assistant import Assistant

    return Assistant.from_corpus(corpus, index_dir=tmp_path_factory.mktemp("reader-index"))


class Sized(Watched):
    """A watched page (dialogs, errors, requests leaving 127.0.0.1) at its own size and theme."""

    def __init__(self, browser, url: str, viewport: dict, dark: bool = False):  # noqa: F811
        self.context = browser.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.dialogs, self.console_errors, self.outside = [], [], []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        self.context.route("**/*", self._route)
        self.page.goto(url + ("?__theme=dark" if dark else ""), wait_until="load")
        self.page.locator(".qa-suggestion").first.wait_for(state="visible", timeout=60_000)


def open_page(browser, url, viewport, dark=False) -> Sized:  # noqa: F811
    return Sized(browser, url, viewport, dark)


@pytest.fixture
def desktop(browser, app_url):  # noqa: F811
    page = open_page(browser, app_url, DESKTOP)
    yield page
    page.close()


@pytest.fixture
def phone(browser, app_url):  # noqa: F811
    page = open_page(browser, app_url, PHONE)
    yield page
    page.close()


def _bot_html(page, n: int = 0) -> str:
    return page.page.locator('[data-testid="bot"]').nth(n).inner_html()


def _in_window(page, element_id: str) -> bool:
    """Whether the element is wholly inside the browser window and inside its scrolling box."""
    return page.page.evaluate(
        """(id) => { const m = document.getElementById(id); const r = m.getBoundingClientRect();
                     const box = m.closest('.qa-articles').getBoundingClientRect();
                     return r.top >= 0 && r.bottom <= window.innerHeight
                            && r.top >= box.top && r.bottom <= box.bottom; }""", element_id)


# 1. HTML entities ---------------------------------------------------------------------------

@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_apostrophes_show_as_typed_in_the_question_and_the_answer(request, size):
    page = request.getfixturevalue(size)
    question = "What's the ferry's battery like, and where's the town's charging point?"
    reply = page.ask(question)
    shown = page.page.locator('[data-testid="user"]').first.inner_text().strip()
    assert shown == question
    assert "the town's charging point" in reply or "The ferry's new battery" in reply
    for text in (shown, reply, page.page.locator("#qa-chat").inner_text()):
        assert "&#" not in text and "&amp;" not in text and "&lt;" not in text and "\\" not in text
    assert "&amp;#" not in page.page.locator("#qa-chat").inner_html()  # escaped once, not twice


# 3. Phone: [n] shows its sentence; the chat shows the answer's start ----------------------------

def test_on_a_phone_the_chats_marker_is_a_link_that_shows_the_sentence(phone):
    reply = phone.ask("How many ethnic Armenians live in Nagorno-Karabakh and who accused "
                      "Azerbaijan of ethnic cleansing?")
    assert "120,000" in reply and "ethnic cleansing" in reply  # two quotes: taller than the chat
    phone.page.wait_for_timeout(600)
    # The answer's start is in view in the chat, not only its tail.
    assert phone.page.evaluate(
        """() => { const bots = document.querySelectorAll('[data-testid="bot"]');
                   const m = bots[bots.length - 1].getBoundingClientRect();
                   const chat = document.querySelector('#qa-chat').getBoundingClientRect();
                   return m.top >= chat.top - 1 && m.top < chat.bottom; }""")
    link = phone.page.locator("#qa-chat .qa-chat-cite", has_text="[1]").first
    assert link.evaluate("e => e.tagName") == "BUTTON"  # the same kind of link as the panel's
    link.click()
    phone.page.wait_for_timeout(400)
    assert "qa-active" in phone.page.locator("#qa-mark-1").get_attribute("class")
    assert _in_window(phone, "qa-mark-1")
    # The panel's own [1] does the same, from wherever the page is scrolled.
    phone.page.evaluate("window.scrollTo(0, 0)")
    phone.page.locator('#qa-sources [data-target="qa-mark-1"]').click()
    phone.page.wait_for_timeout(400)
    assert _in_window(phone, "qa-mark-1")


# 4. Dark mode contrast --------------------------------------------------------------------

_CONTRAST = """(sel) => {
  const el = document.querySelector(sel);
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => { const v = rgb(c).map(x => { x /= 255;
      return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
      return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const s = getComputedStyle(el);
  const a = lum(s.color), b = lum(s.backgroundColor);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_highlighted_sentence_meets_wcag_aa_contrast(browser, app_url, dark):  # noqa: F811
    page = open_page(browser, app_url, DESKTOP, dark=dark)
    try:
        page.ask("How many ethnic Armenians live in Nagorno-Karabakh?")
        page.page.locator("#qa-sources mark#qa-mark-1").wait_for()
        if dark:
            assert page.page.evaluate("document.body.classList.contains('dark')")
        assert page.page.evaluate(_CONTRAST, "#qa-sources mark#qa-mark-1") >= 4.5
        page.page.locator('#qa-sources [data-target="qa-mark-1"]').click()
        assert page.page.evaluate(_CONTRAST, "#qa-sources mark.qa-active") >= 4.5
    finally:
        page.close()


# 5. A too-large upload says why, and the reason stays ----------------------------------------

@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_too_large_upload_is_refused_with_a_lasting_one_line_reason(request, size, tmp_path):
    page = request.getfixturevalue(size)
    big = tmp_path / "big-report.txt"
    big.write_bytes(b"All work and no play makes a dull article.\n" * 700_000)  # ~30 MB
    page.page.get_by_text("Add an article").click()
    page.page.locator('#qa-upload input[type="file"]').set_input_files(str(big))
    reason = page.page.locator("#qa-upload-refused")
    reason.wait_for(state="visible", timeout=10_000)
    page.page.wait_for_timeout(6_000)  # longer than Gradio's pop-ups last
    assert reason.is_visible()
    text = reason.inner_text().strip()
    assert text == "Could not add big-report.txt: it is 30.1 MB; the limit is 5 MB."
    assert "Error" not in page.page.locator("#qa-upload").inner_text()


def test_a_too_large_file_dropped_on_the_upload_box_is_refused_the_same_way(desktop):
    desktop.page.get_by_text("Add an article").click()
    sent = []
    desktop.page.on("request", lambda r: "/upload" in r.url and sent.append(r.url))
    desktop.page.evaluate(
        """() => { const dt = new DataTransfer();
                   dt.items.add(new File([new Uint8Array(30_000_000)], 'dropped.txt', {type: 'text/plain'}));
                   const area = document.querySelector('#qa-upload [data-testid="file-upload"]')
                                .parentElement;
                   area.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true,
                                                             cancelable: true})); }""")
    reason = desktop.page.locator("#qa-upload-refused")
    reason.wait_for(state="visible", timeout=10_000)
    desktop.page.wait_for_timeout(3_000)
    assert reason.inner_text().strip() == "Could not add dropped.txt: it is 30.0 MB; the limit is 5 MB."
    assert sent == []  # refused in the browser: nothing was sent


# 6. Clearing the chat clears what the assistant remembers -----------------------------------

def test_the_chats_own_clear_icon_also_forgets_the_conversation(desktop, library):
    first, follow = "Who is the mayor of Valmora?", "What did she say?"
    answer = library.ask(first)
    remembered = library.ask(follow, history=[{"role": "user", "content": first},
                                              {"role": "assistant", "content": answer.text}])
    fresh = library.ask(follow)
    assert remembered.citations[0].text != fresh.citations[0].text  # the history matters here
    desktop.ask(first)
    desktop.page.locator('#qa-chat button[aria-label="Clear"]').click()
    desktop.page.wait_for_function("document.querySelectorAll('[data-testid=\"bot\"]').length == 0")
    reply = desktop.ask(follow)
    assert fresh.citations[0].text in reply
    assert remembered.citations[0].text not in reply


# 7. Say it once ---------------------------------------------------------------------------

def test_the_chat_says_the_answer_once_and_leaves_the_rest_to_the_panel(desktop, library):
    question = "How many ethnic Armenians live in Nagorno-Karabakh?"
    expected = library.ask(question)
    reply = desktop.ask(question)
    assert reply.startswith("Approximately 120,000 ethnic Armenians")
    assert "Sources" not in reply
    for c in expected.citations:
        assert reply.count(c.text) == 1  # quoted once in the chat, with its marker
        assert f"[{c.marker}]" in reply
    panel = desktop.page.locator("#qa-sources")
    assert panel.locator("blockquote.qa-quote").count() == len(expected.citations)
    assert panel.locator("mark.qa-mark").count() == len(expected.citations)


# 8. Suggested questions -------------------------------------------------------------------

_WH = re.compile(r"^(?:How many|How much|How|What|Who|When|Where|Which|Why)\b")


def test_suggested_questions_are_natural_and_each_one_asks_and_is_answered(desktop):
    buttons = desktop.page.locator(".qa-suggestion:visible")
    assert buttons.count() >= 4
    for text in buttons.all_inner_texts():
        assert _WH.match(text.strip()) and text.strip().endswith("?"), text
    reply = desktop.ask("What is the population of Brazil?")
    assert "do not say" in reply
    offered = desktop.page.locator("#qa-sources [data-question]")
    per_article = desktop.page.evaluate(
        """() => Array.from(document.querySelectorAll('#qa-sources .qa-covered > li'))
                 .map(li => li.querySelectorAll('[data-question]').length)""")
    assert len(per_article) == 3 and all(4 <= n <= 6 for n in per_article), per_article
    for text in offered.all_inner_texts():
        assert _WH.match(text.strip()) and text.strip().endswith("?"), text
    chosen = offered.nth(0)
    question = chosen.inner_text().strip()
    chosen.click()
    answer = desktop.wait_for_reply(1)
    assert desktop.page.locator('[data-testid="user"]').nth(1).inner_text().strip() == question
    assert "do not say" not in answer
    assert desktop.page.locator("#qa-sources mark.qa-mark").count() >= 1
