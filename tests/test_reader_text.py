"""How the chat's text reads (issue 16): characters as typed, a short lead, natural questions."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from assistant.answering import analysis
from assistant.answering.features import term_stem
from assistant.text import content_terms
from assistant.types import Answer, Citation
from assistant.web_render import escape, render_answer

_WH = re.compile(r"^(?:How many|How much|What|Who|When|Where|Which|Why|How)\b")


def test_apostrophes_and_quotes_are_escaped_once_not_twice():
    # Markdown shows "&#x27;" raw when its "#" is backslash-escaped: quotes stay as typed.
    assert escape("What's the ferry's \"range\"?") == "What's the ferry's \"range\"?"
    assert escape("<b>&amp;</b> #1") == "&lt;b&gt;&amp;amp;&lt;/b&gt; \\#1"
    c = Citation(1, "d", "T", 0, 0, 5, "The town's charging point.", 0.9)
    md = render_answer(Answer(question="q", text="\u201cThe town's charging point.\u201d [1]", citations=[c]))
    assert "town's charging point" in md and "&#x27;" not in md


@pytest.mark.parametrize("kind, question, sentence, lead", [
    (analysis.NUMBER, "How many homes were destroyed?",
     "In the village, 230 homes were destroyed by the flood.", "230 homes"),
    (analysis.PERSON, "Who called for a ceasefire?",
     "UN Secretary-General Antonio Guterres, the European Union and the United States called for "
     "an immediate ceasefire.", None),
    (analysis.PERSON, "Who cut the ribbon?",
     "Mayor Elena Ruiz cut the ribbon at a ceremony attended by about 3,000 residents.", "Mayor Elena Ruiz"),
    (analysis.PERSON, "Who is the prime minister of Armenia?",
     "This intention provoked an accusation from Armenian Prime Minister Nikol Pashinyan who alleged "
     "that Azerbaijan had initiated an \u201cethnic cleansing\u201d operation.", "Nikol Pashinyan"),
    (analysis.PERSON, "Who is Nikol Pashinyan?",  # the old lead: "Azerbaijan"
     "This intention provoked an accusation from Armenian Prime Minister Nikol Pashinyan who alleged "
     "that Azerbaijan had initiated an \u201cethnic cleansing\u201d operation.", None),
])
def test_the_lead_is_a_short_answer_or_nothing(kind, question, sentence, lead):
    from assistant.answering.extractive import _short_answer

    terms = set(content_terms(question))
    found = analysis.key_phrase(kind, sentence, terms, term_stem)
    assert _short_answer(kind, found, sentence, terms, question) == lead


def test_suggested_questions_put_the_question_word_first_and_read_as_questions():
    from assistant.documents import load_file
    from assistant.suggestions import candidate_questions

    karabakh = load_file(ROOT / "corpus" / "nagorno-karabakh-2023.txt", max_bytes=10**6)
    bridge = load_file(ROOT / "tests" / "data" / "articles" / "harbour-bridge.txt", max_bytes=10**6)
    asked = candidate_questions(karabakh) + candidate_questions(bridge)
    assert "How many ethnic Armenians does the Nagorno-Karabakh region house?" in asked
    assert {"How many kilometres long is the bridge?", "How many residents attended the ceremony?",
            "How much did the project cost?"} <= set(asked)
    for q in asked:
        assert _WH.match(q) and q.endswith("?") and " how many " not in q, q


@pytest.mark.parametrize("sentence, question", [
    ("The restored mill holds 46 working looms.", "How many working looms does the restored mill hold?"),
    ("The octopus has 500 million neurons.", "How many neurons does the octopus have?"),
    ("The plant built 12,000 cars last year.", "How many cars did the plant build?"),
    ("The council relocated 300 families.", "How many families did the council relocate?"),
    ("Tickets now cost 12 euros.", None),  # a capitalised common noun is not a name to turn round
    ("Chief engineer Tomas Varga said the bridge was designed to withstand winds of up to 180 "
     "kilometres per hour.", None),  # no question reads well from "... winds of up to"
])
def test_quantity_sentences_turn_into_questions_or_none(sentence, question):
    from assistant.suggestions import _quantity_question

    assert _quantity_question(sentence) == question
