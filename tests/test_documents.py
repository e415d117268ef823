"""Reading, cleaning and sentence splitting: the text a reader sees and the offsets into it."""

from __future__ import annotations

import pytest
from conftest import SEED

from assistant.documents import (
    BadFile,
    build_document,
    clean_text,
    decode,
    is_boilerplate,
    load_file,
)


@pytest.mark.parametrize("line", [
    "Follow us on Google News! ✔️",
    "Follow us on Twitter",
    "Subscribe to our newsletter for daily updates",
    "Share this article on Facebook",
    "Sign up for push notifications",
    "Download our app from the App Store",
    "Read more: Ceasefire talks stall",
    "© 2023 Example Media. All rights reserved.",
    "Advertisement",
    "Join our Telegram channel!",
    "Home | News | Sport | Weather",
])
def test_promotional_lines_are_boilerplate(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize("line", [
    "Share prices fell 3% on Monday after the announcement.",
    "Like many residents, she fled north with two suitcases.",
    "Follow-up talks are expected in Brussels next week, officials said.",
    "Azerbaijan has escalated its military presence within Nagorno-Karabakh.",
    "Watchdogs said the vote was fair.",
    "Get-togethers were banned under the curfew, the mayor said.",
])
def test_story_sentences_are_kept(line):
    assert not is_boilerplate(line)


def test_clean_text_drops_boilerplate_control_chars_and_extra_space():
    raw = ("Title  here\r\n\r\nFirst\x00 line\u200b of  story.\nstill first para.\n\n"
           "Follow us on X!\n\n\x07Second para.")
    title, paras = clean_text(raw)
    assert title == "Title here"
    assert paras == ["First line of story. still first para.", "Second para."]


def test_seed_article_loses_its_promo_line_and_keeps_the_story():
    doc = load_file(SEED, max_bytes=10_000_000)
    assert doc.title.startswith("Azerbaijan Escalates Military Presence")
    assert "Follow us" not in doc.text
    assert "120,000 ethnic Armenians" in doc.text
    assert len(doc.sentences) > 30


def test_every_sentence_is_the_text_at_its_offsets():
    doc = load_file(SEED, max_bytes=10_000_000)
    for i, s in enumerate(doc.sentences):
        assert s.index == i
        assert doc.text[s.start:s.end] == s.text
        assert s.text == s.text.strip() and s.text


def test_segmenter_respects_abbreviations():
    doc = build_document("T", ["Mr. Smith met Dr. Jones at 3 p.m. on Monday. They talked."], "x")
    assert [s.text for s in doc.sentences[1:]] == [
        "Mr. Smith met Dr. Jones at 3 p.m. on Monday.", "They talked."]


def test_document_id_is_a_content_hash():
    a = build_document("Title", ["One sentence."], "a.txt")
    b = build_document("Title", ["One sentence."], "b.txt")
    c = build_document("Title", ["Another sentence."], "a.txt")
    assert a.doc_id == b.doc_id != c.doc_id


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    (b"   \n\n  ", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" * 20, "binary"),
    ("caf\u00e9".encode("latin-1") + b" au lait", "UTF-8"),
])
def test_bad_bytes_are_refused_with_a_reason(data, reason):
    with pytest.raises(BadFile, match=reason):
        decode(data)


def test_a_few_nul_bytes_are_stripped_not_fatal(tmp_path):
    f = tmp_path / "a.txt"
    f.write_bytes(b"Title\n\nSome\x00 text here.")
    doc = load_file(f, max_bytes=1000)
    assert "\x00" not in doc.text and "Some text here." in doc.text


def test_oversize_and_unsupported_files_are_refused(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("Title\n\n" + "word " * 1000)
    with pytest.raises(BadFile, match="too large"):
        load_file(big, max_bytes=100)
    pdf = tmp_path / "x.docx"
    pdf.write_text("hello")
    with pytest.raises(BadFile, match="unsupported"):
        load_file(pdf, max_bytes=1000)


def test_markdown_keeps_words_and_drops_images_and_links(tmp_path):
    md = tmp_path / "a.md"
    md.write_text("# Big News\n\nThe **mayor** said [yes](http://x.example).\n\n![pic](http://evil.example/a.png)")
    doc = load_file(md, max_bytes=1000)
    assert doc.title == "Big News" and "The mayor said yes." in doc.text
    assert "http" not in doc.text and "pic" not in doc.text


def test_html_main_text_and_title_are_extracted(tmp_path):
    page = tmp_path / "a.html"
    page.write_text(
        "<html><head><title>Harbour Bridge Opens</title></head><body>"
        "<nav>Home | World | Sport</nav><article><h1>Harbour Bridge Opens</h1>"
        "<p>The coastal city of Valmora opened its new harbour bridge to traffic on Saturday, "
        "ending six years of construction.</p><p>The bridge is 1.4 kilometres long and carries "
        "four lanes of traffic, a tram line and a cycle path.</p>"
        "<script>alert('x')</script></article><footer>Contact us</footer></body></html>")
    doc = load_file(page, max_bytes=100_000)
    assert doc.title == "Harbour Bridge Opens"
    assert "1.4 kilometres long" in doc.text
    assert "alert" not in doc.text and "Home | World" not in doc.text
