"""Soft word matching (answering/wordsim.py) with the real embedding model."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answering.wordsim import WordVectors, soft_coverage
from assistant.embeddings import Embedder
from assistant.text import match_words


@pytest.fixture(scope="module")
def vectors():
    calls: list[list[str]] = []
    embedder = Embedder()

    def encode(words):
        calls.append(list(words))
        return embedder.encode(words)

    wv = WordVectors(encode)
    wv.calls = calls
    return wv


def test_match_words_keeps_meaningful_words_once():
    assert match_words("How many of the farmers, the Farmers, sold 40 tonnes?") == [
        "farmers", "sold", "tonnes"]


def test_a_reworded_sentence_covers_the_question_better_than_an_unrelated_one(vectors):
    question = match_words("what are growers replacing their bushes with")
    weights = np.ones(len(question), np.float32)
    sentences = [match_words("Some farmers are switching to durian, a fruit sold in China."),
                 match_words("The council approved the tram line on Tuesday.")]
    reworded, unrelated = soft_coverage(question, weights, sentences, vectors)
    assert reworded > unrelated + 0.15
    assert 0.0 <= unrelated < reworded <= 1.0


def test_exact_words_count_fully_and_weights_matter(vectors):
    question = ["drought", "coffee"]
    sentences = [["drought", "tram"], ["coffee", "tram"]]
    heavy_drought = soft_coverage(question, np.array([3.0, 1.0], np.float32), sentences, vectors)
    assert heavy_drought[0] >= 0.75 and heavy_drought[0] > heavy_drought[1]
    assert soft_coverage(question, np.ones(2, np.float32), [["drought", "coffee"]], vectors)[0] == 1.0
    assert soft_coverage(question, np.ones(2, np.float32), [[]], vectors)[0] == 0.0


def test_each_word_is_encoded_once(vectors):
    vectors.calls.clear()
    vectors.matrix(["harvest", "harvest", "rainfall"])
    vectors.matrix(["rainfall", "harvest"])
    assert vectors.calls == [["harvest", "rainfall"]]
    known = vectors.known()
    vectors.add({"made-up": np.ones(384, np.float32) / np.sqrt(384)})
    assert vectors.known() == known | {"made-up"} and not vectors.calls[1:]


def test_the_models_vocabulary_is_embedded_once_and_kept(tmp_path):
    from assistant.answering.wordsim import common_vocabulary

    embedder = Embedder()
    calls: list[int] = []

    def encode(words):
        calls.append(len(words))
        return embedder.encode(words)

    first = common_vocabulary(embedder.path, embedder.identity, tmp_path, encode)
    assert calls == [len(first)] and len(first) > 15_000
    assert {"farmers", "growers", "bridge"} & set(first) == {"farmers", "bridge"}  # whole words only
    again = common_vocabulary(embedder.path, embedder.identity, tmp_path, encode)
    assert calls == [len(first)] and again.keys() == first.keys()
    assert np.allclose(again["farmers"], first["farmers"], atol=1e-3)
    assert common_vocabulary(str(tmp_path / "no-model"), "x", tmp_path, encode) == {}
