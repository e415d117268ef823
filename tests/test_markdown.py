"""Markdown articles, read with a Markdown parser: title, byline, images, links, lists, front matter."""

from __future__ import annotations

from assistant.documents import load_file


def _load(tmp_path, text: str, name: str = "a.md"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_file(path, max_bytes=1_000_000)


def _sentences(doc) -> list[str]:
    return [s.text for s in doc.sentences]


NAV_AND_BYLINE = """Home | News | Sport | Weather

# Fjord Ferry Returns After Storm
By Ingrid Solberg

The ferry resumed service on Monday, the operator said.
"""


def test_title_is_the_first_heading_not_a_nav_line_and_the_byline_stays_text(tmp_path):
    doc = _load(tmp_path, NAV_AND_BYLINE)
    assert doc.title == "Fjord Ferry Returns After Storm"
    assert "By Ingrid Solberg" in _sentences(doc)
    assert "Home | News" not in doc.text


def test_front_matter_gives_the_title_and_the_author_as_a_byline(tmp_path):
    doc = _load(tmp_path, "---\ntitle: 'Tram Line Opens: A First Ride'\nauthor: Ingrid Solberg\n"
                          "date: 2025-05-03\n---\nThe new tram line carried 9,000 riders on its first day.\n")
    assert doc.title == "Tram Line Opens: A First Ride"
    assert _sentences(doc)[1:] == ["By Ingrid Solberg",
                                   "The new tram line carried 9,000 riders on its first day."]
    assert "date:" not in doc.text and "---" not in doc.text


def test_an_image_drops_out_of_the_sentence_and_links_keep_their_words(tmp_path):
    doc = _load(tmp_path, "# Ferry\n\nThe ferry left at dawn after the markdown image "
                          "![a ferry (at dawn)](http://img.example/ferry(1).png) was taken, "
                          "said [the operator](http://op.example/about).\n")
    assert _sentences(doc) == ["Ferry", "The ferry left at dawn after the markdown image was taken, "
                                        "said the operator."]
    assert "http" not in doc.text and "!" not in doc.text


def test_list_items_are_sentences_and_headings_are_not_glued_to_paragraphs(tmp_path):
    doc = _load(tmp_path, "# Storm Damage\n\n## What closed\n- The coastal road\n- Two schools\n"
                          "1. The harbour *ferry*\n\nRepairs start on **Monday**.\n")
    assert _sentences(doc) == ["Storm Damage", "What closed", "The coastal road", "Two schools",
                               "The harbour ferry", "Repairs start on Monday."]


def test_text_that_only_looks_like_front_matter_is_kept(tmp_path):
    doc = _load(tmp_path, "---\nBridge: open: again: [\n---\nThe bridge reopened on Friday.\n")
    assert "The bridge reopened on Friday." in _sentences(doc)
    assert "open: again" in doc.text
