"""No input exhausts the machine: sentence length, history and the word-vector cache are bounded."""

from __future__ import annotations

import numpy as np

from assistant.answering.wordsim import WordVectors
from assistant.conversation import MAX_HISTORY_TURNS, MAX_TURN_CHARS, normalise_history
from assistant.documents import MAX_SENTENCE_CHARS, build_document, split_sentences


def test_a_text_without_punctuation_is_cut_into_bounded_sentences():
    paragraph = " ".join(f"word{i}" for i in range(60_000))  # ~470 KB, no sentence end
    spans = split_sentences(paragraph)
    assert len(spans) > 1 and max(b - a for a, b in spans) <= MAX_SENTENCE_CHARS
    # Nothing is lost or doubled: the pieces cover the paragraph's words in order.
    assert " ".join(paragraph[a:b] for a, b in spans) == paragraph
    doc = build_document("Title", [paragraph], source="x.txt")
    assert all(len(s.text) <= MAX_SENTENCE_CHARS for s in doc.sentences)


def test_ordinary_sentences_are_left_as_they_are():
    text = "The bridge opened on Monday. It cost 410 million euros! Who paid?"
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "The bridge opened on Monday.", "It cost 410 million euros!", "Who paid?"]


def test_a_huge_history_is_cut_to_its_latest_turns():
    history = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i} " + "x" * 100_000}
               for i in range(5_000)]
    kept = normalise_history(history)
    assert len(kept) == MAX_HISTORY_TURNS
    assert kept[-1]["content"].startswith("turn 4999")
    assert all(len(t["content"]) <= MAX_TURN_CHARS for t in kept)
    assert normalise_history("not a list") == [] and normalise_history(None) == []


def test_new_question_words_never_grow_the_word_cache_past_its_bound():
    encode = lambda words: np.ones((len(words), 4), np.float32)  # noqa: E731
    vectors = WordVectors(encode, {"base": np.ones(4, np.float32)}, max_new=50)
    for i in range(2_000):
        vectors.matrix([f"new{i}", "base"])
        vectors.remember({f"asked{i}": np.ones(4, np.float32)})
    assert len(vectors) <= 1 + 50
    assert "base" in vectors.known()  # the permanent words stay
    assert vectors.matrix(["new0"]).shape == (1, 4)  # an evicted word is simply encoded again
