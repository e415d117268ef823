"""PDF articles: text read with pypdf, each sentence keeps its page, and the page is shown with the
citation; scanned (image-only) and unreadable PDFs are refused with a one-line reason."""

from __future__ import annotations

import shutil
import sqlite3

import pytest
from pdf_maker import make_pdf

from assistant.documents import BadFile, load_file
from tests.conftest import SEED

TRAM = [["Valmora Tram Line Opens",
         "The new tram line in Valmora opened to passengers on Monday morning.",
         "It links the harbour with the university campus.",
         "1"],
        ["The line cost 212 million euros to build, the city council said.",
         "Trams run every six minutes at peak times.",
         "Page 2 of 2"]]


def _pdf(tmp_path, name="tram.pdf", **kwargs):
    path = tmp_path / name
    path.write_bytes(make_pdf(**kwargs))
    return path


def test_pdf_sentences_keep_their_page_and_the_first_line_is_the_title(tmp_path):
    doc = load_file(_pdf(tmp_path, pages=TRAM), max_bytes=1_000_000)
    assert doc.title == "Valmora Tram Line Opens"
    pages = {s.text: s.page for s in doc.sentences}
    assert pages == {"Valmora Tram Line Opens": 1,
                     "The new tram line in Valmora opened to passengers on Monday morning.": 1,
                     "It links the harbour with the university campus.": 1,
                     "The line cost 212 million euros to build, the city council said.": 2,
                     "Trams run every six minutes at peak times.": 2}  # page-number lines dropped
    assert all(doc.text[s.start:s.end] == s.text for s in doc.sentences)


def test_the_title_metadata_names_the_article(tmp_path):
    doc = load_file(_pdf(tmp_path, pages=TRAM[1:], title="Tram Fares and Costs"), max_bytes=1_000_000)
    assert doc.title == "Tram Fares and Costs" and doc.sentences[0].page is None
    assert doc.sentences[1].page == 1  # its only page


@pytest.mark.parametrize("data, reason", [
    (make_pdf(image_pages=2), "no text layer (a scanned, image-only PDF?)"),
    (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", "the PDF could not be read"),
    (b"Valmora tram news, not a PDF at all.\n", "not a PDF file"),
])
def test_scanned_and_broken_pdfs_are_refused_with_a_one_line_reason(tmp_path, data, reason):
    path = tmp_path / "scan.pdf"
    path.write_bytes(data)
    with pytest.raises(BadFile) as err:
        load_file(path, max_bytes=1_000_000)
    assert reason in str(err.value) and "\n" not in str(err.value)


def test_a_catalog_from_before_pages_still_opens_and_gains_the_column(tmp_path):
    from assistant.catalog import Catalog

    path = tmp_path / "catalog.sqlite3"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE documents (doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL,
                                text TEXT NOT NULL);
        CREATE TABLE sentences (doc_id TEXT NOT NULL, idx INTEGER NOT NULL, start INTEGER NOT NULL,
                                end INTEGER NOT NULL, embedding BLOB NOT NULL, PRIMARY KEY (doc_id, idx));
        INSERT INTO documents VALUES ('d1', 'Old Title', 'old.txt', 'Old Title');
        INSERT INTO sentences VALUES ('d1', 0, 0, 9, x'00');""")
    db.commit()
    db.close()
    catalog = Catalog(path)
    [doc] = catalog.load_documents()
    assert doc.sentences[0].text == "Old Title" and doc.sentences[0].page is None
    catalog.close()
    db = sqlite3.connect(path)
    assert "page" in {row[1] for row in db.execute("PRAGMA table_info(sentences)")}
    db.close()


@pytest.mark.integration
def test_a_pdf_in_the_corpus_is_answered_with_its_page_everywhere(tmp_path):
    import numpy as np

    from assistant import Assistant
    from assistant.cli import format_answer
    from assistant.web import add_article
    from assistant.web_render import render_answer, render_sources

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    _pdf(corpus, pages=TRAM)
    _pdf(corpus, "scan.pdf", image_pages=1)
    bot = Assistant(corpus, tmp_path / "index")
    assert "Valmora Tram Line Opens" in {d.title for d in bot.documents()}
    [skipped] = bot.last_ingest.skipped
    assert skipped.path.endswith("scan.pdf") and "no text layer" in skipped.reason

    answer = bot.ask("How much did the tram line cost?")
    cite = answer.citations[0]
    assert "212 million euros" in cite.text and cite.page == 2
    assert answer.to_dict()["citations"][0]["page"] == 2
    assert f"[1] Valmora Tram Line Opens (p. 2, sentence {cite.sentence_id}" in format_answer(answer)
    assert "p.\u00a02" in render_answer(answer)
    assert "Valmora Tram Line Opens</span>, p.\u00a02" in render_sources(
        answer, {d.doc_id: d for d in bot.documents()})

    # Pages are stored: a fresh process that does not ingest still cites page 2.
    again = Assistant(corpus, tmp_path / "index", ingest=False)
    assert again.ask("How much did the tram line cost?").citations[0].page == 2
    assert np.isfinite(again.catalog.load_sentence_matrix(again.documents(), 384)).all()

    # Uploads take PDFs too; a scan is refused in one line and the uploads folder stays empty.
    fares = _pdf(tmp_path, "fares.pdf", pages=[["Tram Fares Set", "A single tram ticket costs two euros."]])
    message, doc = add_article(bot, fares, bot.uploads)
    assert doc is not None and doc.title == "Tram Fares Set", message
    scan = _pdf(tmp_path, "scan-upload.pdf", image_pages=1)
    message, doc = add_article(bot, scan, bot.uploads)
    assert doc is None and "no text layer" in message and "\n" not in message
    assert [p.name for p in bot.uploads.iterdir()] == ["fares.pdf"]
