"""The question's predicate, found without a tagger (assistant/answering/predicate.py)."""

from __future__ import annotations

import pytest

from assistant.answering.features import _WORD
from assistant.answering.predicate import question_verbs, verb_stem


@pytest.mark.parametrize(("question", "verbs"), [
    ("How many Azerbaijani soldiers were killed in the operation?", {"killed"}),
    ("Who founded Tamar Dartside Brewery?", {"founded"}),
    ("Who owns the club?", {"owns"}),
    ("Which company owns the brewery?", {"owns"}),
    ("How many people live in Stepanakert?", {"live"}),
    ("When did the company open its plant in Ohio?", {"open"}),
    ("When will the new bridge open?", {"open"}),
    ("Which club did Jean Pickard join in 2019?", {"join"}),
    ("Why did officials reject the plan?", {"reject"}),
    ("Who will lead the team?", {"lead"}),
    ("How many seats were won by Labour?", {"win"}),
    ("How long is the Lachin corridor?", set()),
    ("What is the population?", set()),
])
def test_the_question_verbs_are_found(question, verbs):
    assert question_verbs(_WORD.findall(question)) == {verb_stem(v) for v in verbs}


def test_an_irregular_past_form_is_compared_as_its_base():
    assert verb_stem("won") == verb_stem("wins") == verb_stem("win")
    assert verb_stem("held") == verb_stem("holding")
    assert verb_stem("sold") != verb_stem("founded")
