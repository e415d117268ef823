"""The cross-encoder as shipped (assistant/answering/cross_encoder.onnx) and the second reading
built on it: it reads question and sentence together, scores each pair alone, and the
answerer uses its combined reading and threshold only when it is switched on."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.answering.cross_encoder import (
    STACK_FEATURES,
    STACK_FILE,
    CrossCheck,
    CrossEncoder,
    combined_order,
    logit,
    stack_row,
)


@pytest.fixture(scope="module")
def encoder() -> CrossEncoder:
    return CrossEncoder()


def test_the_sentence_that_answers_outscores_near_misses(encoder):
    question = "How many soldiers were killed in the operation?"
    answer = "Two hundred soldiers were killed during the operation, the defence ministry said."
    near = [
        "Almost 500 civilians were relocated after the operation, the ministry said.",  # counts others
        "The operation began on Tuesday and lasted about 24 hours.",  # same topic, no count
        "The bakery on Main Street sells two hundred loaves a day.",  # a number, another topic
    ]
    scores = encoder.score(question, [answer, *near])
    assert scores[0] > scores[1:].max() + 1.0, scores


def test_a_pair_scores_the_same_alone_and_beside_longer_ones(encoder):
    """A pair's score must not depend on what it is scored with: batched with a longer pair, the
    int8 graph's one activation range per run moved it by 0.14 (each pair now runs alone)."""
    question = "Who runs the tram company?"
    short = "Ana Novak runs it."
    long = ("The tram company, founded in 1898 and owned by the city since the 1950s, is run by "
            "a board of seven members appointed for four years by the council, which also sets "
            "the fares, the timetable and the maintenance budget every spring.")
    alone = encoder.score(question, [short])[0]
    together = encoder.score(question, [long, short])[1]
    assert abs(alone - together) < 1e-3, (alone, together)
    assert encoder.score(question, []).shape == (0,)


def test_pairs_scored_side_by_side_score_exactly_as_one_at_a_time(encoder):
    """The pairs of one call run in parallel threads; each still runs alone, so every score is
    the one it gets by itself, to the bit."""
    question = "How many civilians did the soldiers relocate?"
    sentences = ["Almost 500 civilians were relocated by Russian peacekeepers.",
                 "The soldiers said six lives had been lost in the shelling of the town.",
                 "Aid convoys reached the villages on Tuesday.",
                 "The Lachin corridor has been blocked for nine months.",
                 "Officials said the relocation would continue for several days."]
    together = encoder.score(question, sentences)
    alone = np.array([encoder.score(question, [s])[0] for s in sentences])
    assert together.dtype == np.float32 and np.array_equal(together, alone), (together, alone)


def test_the_combining_model_matches_the_encoder_it_was_fitted_with():
    meta = json.loads(STACK_FILE.read_text())
    assert tuple(meta["features"]) == STACK_FEATURES
    assert len(meta["weights"]) == len(STACK_FEATURES)
    assert 0.0 < meta["threshold"] < 1.0 and meta["top_k"] >= 1
    # fitted on dev, never on a held-out set
    assert meta["fitted_on"] == "evals/bank/dev"
    other = {**meta, "features": list(STACK_FEATURES[:-1])}
    with pytest.raises(ValueError, match="other inputs"):
        CrossCheck(encoder=None, meta=other)


def test_reread_puts_first_what_both_readings_rate_best(encoder):
    check = CrossCheck.load(encoder=encoder)
    question = "How many soldiers were killed in the operation?"
    # The reader rated the near miss a little higher; the cross-encoder reads the difference.
    sentences = ["Almost 500 civilians were relocated after the operation, the ministry said.",
                 "Two hundred soldiers were killed during the operation, the defence ministry said."]
    again = check.reread(question, sentences, np.array([0.6, 0.5]), judge=0.6)
    assert list(again.order) == [1, 0]
    assert 0.0 < again.answerable < 1.0
    row = stack_row(0.6, np.array([0.6, 0.5]), again.scores)
    expected = 1 / (1 + np.exp(-(row @ np.array(check.weights) + check.bias)))
    assert again.answerable == pytest.approx(expected)


def test_the_answerer_uses_the_second_reading_only_when_switched_on(two_article_corpus, tmp_path):
    from assistant import Assistant

    on = Assistant(two_article_corpus, tmp_path / "index", progress=False)
    off = Assistant(two_article_corpus, tmp_path / "index", progress=False, cross_encoder=False)
    assert on.answerer.cross_check is not None and off.answerer.cross_check is None
    assert on.answerer.threshold == on.cross_check.threshold
    assert off.answerer.threshold == off.reader.threshold
    question = "How many ethnic Armenians live in Nagorno-Karabakh?"
    a_on, a_off = on.ask(question), off.ask(question)
    assert not a_on.abstained and "120,000" in a_on.citations[0].text
    # the two readings give the part different confidences: the second one really ran
    assert a_on.confidence != a_off.confidence


def test_the_combining_model_refuses_another_cross_encoder(tmp_path):
    meta = json.loads(STACK_FILE.read_text())
    stale = tmp_path / "cross_check.json"
    stale.write_text(json.dumps({**meta, "cross_encoder_sha256": "0" * 64}))
    with pytest.raises(ValueError, match="another cross_encoder.onnx"):
        CrossCheck.load(stale)


def test_a_sentence_that_says_she_is_read_after_the_one_that_names_her(encoder):
    """Alone, '"...," she said.' does not say who spoke, and the sentence naming the mayor came
    first; read after its predecessor, the quote is first again. (The cross-encoder of run 10 put
    the naming sentence first even where the reader preferred the quote; the one trained on all
    88 articles reads the quote better alone, so here the reader prefers the naming sentence.)"""
    check = CrossCheck.load(encoder=encoder)
    assert check.pronoun_context
    question = "what did Mayor Elena Ruiz say about the city"
    named = "Mayor Elena Ruiz cut the ribbon at a ceremony attended by about 3,000 residents."
    quote = "\u201cThis bridge joins the two halves of our city,\u201d she said."
    in_context = encoder.score_in_context(question, [quote], [named])[0]
    assert in_context > encoder.score(question, [quote])[0]
    p = np.array([0.05, 0.95])
    alone = check.reread(question, [quote, named], p, judge=0.74)
    assert list(alone.order) == [1, 0]  # without the sentence before it
    read = check.reread(question, [quote, named], p, judge=0.74, previous=[named, None])
    assert list(read.order) == [0, 1]
    # answerability is read from the sentences alone either way
    assert read.answerable == pytest.approx(alone.answerable)


def test_only_a_candidate_that_could_overtake_the_first_is_read_in_context(encoder, monkeypatch):
    """Reading a sentence after its predecessor can only raise its score: the one already first
    keeps its place and is not read again unless another, read in context, overtakes it; one
    behind it is read. The order is the one reading every such sentence in context gives."""
    check = CrossCheck.load(encoder=encoder)
    calls = []
    score = encoder.score
    monkeypatch.setattr(encoder, "score", lambda q, s: calls.append(list(s)) or score(q, s))
    named = "Mayor Elena Ruiz cut the ribbon at a ceremony attended by about 3,000 residents."
    quote = "\u201cThis bridge joins the two halves of our city,\u201d she said."
    question = "what did Mayor Elena Ruiz say about the bridge"
    first = check.reread(question, [quote, named], np.array([0.99, 0.01]), judge=0.7,
                         previous=[named, None])
    assert list(first.order) == [0, 1] and calls == [[quote, named]]
    calls.clear()
    check.reread(question, [named, quote], np.array([0.99, 0.01]), judge=0.7,
                 previous=[None, named])
    assert calls == [[named, quote], [f"{named} {quote}"]]
    # The second quote, read after the sentence naming her, overtakes the first quote alone (the
    # reader's odds make up all but ~0.4 of the logits between them); so the first is read in
    # context too, before the order is settled.
    named_too = "Mayor Elena Ruiz said the bridge would open in May."
    other = "\u201cWe waited forty years for it,\u201d she told reporters."
    close = np.array([0.5, 0.9954])
    alone = encoder.score(question, [quote, other]) + logit(close)
    assert alone[0] > alone[1]
    calls.clear()
    both = check.reread(question, [quote, other], close, judge=0.7, previous=[named_too, named])
    assert calls == [[quote, other], [f"{named} {other}"], [f"{named_too} {quote}"]]
    assert list(both.order) == list(combined_order(close, encoder.score_in_context(
        question, [quote, other], [named_too, named])))
    for sentences, previous, p in (
            ([quote, named], [named, None], np.array([0.99, 0.01])),
            ([named, quote], [None, named], np.array([0.99, 0.01])),
            ([quote, quote, named_too], [named, named_too, None], np.array([0.5, 0.45, 0.4])),
            ([quote, named_too, quote], [named_too, None, named], np.array([0.6, 0.3, 0.55])),
            ([quote, other], [named_too, named], np.array([0.5, 0.5])),
            ([quote, other], [named_too, named], close)):
        full = encoder.score_in_context(question, sentences, previous)
        got = check.reread(question, sentences, p, judge=0.7, previous=previous)
        assert list(got.order) == list(combined_order(p, full))
