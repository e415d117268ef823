"""Sentence-aligned token chunks."""

from __future__ import annotations

from conftest import SEED

from assistant.chunking import chunk_document, count_tokens
from assistant.documents import build_document, load_file


def _seed():
    return load_file(SEED, max_bytes=10_000_000)


def test_chunks_cover_every_sentence_in_order_and_stay_under_the_limit():
    doc = _seed()
    chunks = chunk_document(doc, max_tokens=120, overlap_tokens=30)
    covered = set()
    for c in chunks:
        covered.update(range(c.first_sentence, c.last_sentence + 1))
        assert c.n_tokens <= 120 or c.first_sentence == c.last_sentence
        first, last = doc.sentences[c.first_sentence], doc.sentences[c.last_sentence]
        assert c.text == doc.text[first.start:last.end]  # sentence-aligned
    assert covered == set(range(len(doc.sentences)))
    assert [c.first_sentence for c in chunks] == sorted(c.first_sentence for c in chunks)


def test_consecutive_chunks_overlap_by_whole_sentences_within_the_budget():
    doc = _seed()
    chunks = chunk_document(doc, max_tokens=120, overlap_tokens=30)
    overlaps = 0
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.first_sentence > a.first_sentence  # always moves forward
        if b.first_sentence <= a.last_sentence:
            overlaps += 1
            shared = [doc.sentences[i].text for i in range(b.first_sentence, a.last_sentence + 1)]
            assert sum(count_tokens(shared)) <= 30
    assert overlaps > 0


def test_no_overlap_setting_gives_disjoint_chunks():
    chunks = chunk_document(_seed(), max_tokens=100, overlap_tokens=0)
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.first_sentence == a.last_sentence + 1


def test_a_sentence_longer_than_the_limit_stands_alone():
    long = "word " * 200 + "end."
    doc = build_document("Title", [f"Short one. {long} Short two."], "x")
    chunks = chunk_document(doc, max_tokens=50, overlap_tokens=10)
    long_chunks = [c for c in chunks if c.n_tokens > 50]
    assert len(long_chunks) == 1 and long_chunks[0].first_sentence == long_chunks[0].last_sentence


def test_token_counts_use_cl100k():
    assert count_tokens(["hello world"]) == [2]
