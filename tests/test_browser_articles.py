"""Removing an article in the web chat, in a real browser against a real app.py server."""

from __future__ import annotations

import shutil

import pytest
from test_browser import UPLOAD, Watched, browser  # noqa: F401  (browser is a fixture)
from test_web import running_app

pytestmark = pytest.mark.integration
TITLE = "Greywater Mill Reopens As Museum"
QUESTION = "How many working looms does the restored mill hold?"


@pytest.fixture(scope="module")
def served(two_article_corpus, tmp_path_factory):
    corpus = tmp_path_factory.mktemp("articles-corpus")
    for f in two_article_corpus.iterdir():
        shutil.copy(f, corpus / f.name)
    data = tmp_path_factory.mktemp("articles-data")
    with running_app(corpus, data, timeout=600) as url:  # the machine is shared: starts can be slow
        yield url, data


def _picker_options(page) -> list[str]:
    page.locator("#qa-picker input").click()
    options = page.get_by_role("option")
    options.first.wait_for(state="visible", timeout=10_000)
    names = [o.inner_text().strip().split("\n")[-1] for o in options.all()]  # "✓\nTitle" when picked
    page.keyboard.press("Escape")
    return names


def test_removing_an_uploaded_article_asks_first_then_it_is_gone_from_picker_answers_and_disk(
        browser, served, tmp_path):  # noqa: F811
    url, data = served
    watched = Watched(browser, url)
    page = watched.page
    try:
        article = tmp_path / "greywater-mill.txt"
        article.write_text(UPLOAD, encoding="utf-8")
        page.get_by_text("Add an article").click()
        page.locator('#qa-upload input[type="file"]').set_input_files(str(article))
        page.wait_for_function(
            "document.querySelector('#qa-upload-status').innerText.includes('Added')", timeout=60_000)
        assert "46" in watched.ask(QUESTION)
        assert [p.name for p in (data / "uploads").iterdir()] == ["greywater-mill.txt"]

        # The upload picked the new article, so the control is offered; it asks before acting.
        remove = page.locator("#qa-remove")
        remove.wait_for(state="visible", timeout=10_000)
        remove.click()
        question = page.locator("#qa-remove-question")
        question.wait_for(state="visible", timeout=10_000)
        page.wait_for_function(
            "document.querySelector('#qa-remove-question').innerText.includes('Greywater')")
        assert f"Remove \u201c{TITLE}\u201d" in question.inner_text()
        assert "uploaded file is deleted" in question.inner_text()
        page.locator("#qa-remove-cancel").click()
        page.wait_for_function(
            "document.querySelector('#qa-remove-status').innerText.includes('Nothing was removed')")
        assert TITLE in _picker_options(page)

        remove.click()
        page.locator("#qa-remove-yes").wait_for(state="visible", timeout=10_000)
        page.locator("#qa-remove-yes").click()
        page.wait_for_function(
            "document.querySelector('#qa-remove-status').innerText.includes('Removed')", timeout=60_000)
        status = page.locator("#qa-remove-status").inner_text()
        assert TITLE in status and "deleted its uploaded file" in status

        options = _picker_options(page)
        assert TITLE not in options and "All articles" in options and len(options) == 3
        reply = watched.ask(QUESTION)
        assert "46" not in reply and "Greywater" not in reply
        assert list((data / "uploads").iterdir()) == []
        assert watched.console_errors == [] and watched.outside == []
    finally:
        watched.close()
