"""Pure parts of retrieval and answering: rank fusion, question analysis, follow-up rewriting."""

from __future__ import annotations

import pytest

from assistant.answering import analysis
from assistant.conversation import condense, normalise_history
from assistant.retrieval import reciprocal_rank_fusion
from assistant.text import content_terms, stem


def test_rrf_rewards_agreement_between_rankings():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=60)
    ids = [i for i, _ in fused]
    assert ids[0] == "b"  # ranked by both
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    assert set(ids) == {"a", "b", "c", "d"}


def test_rrf_with_one_ranking_keeps_its_order():
    assert [i for i, _ in reciprocal_rank_fusion([["x", "y", "z"]])] == ["x", "y", "z"]


@pytest.mark.parametrize("question, kind", [
    ("How many ethnic Armenians live there?", analysis.NUMBER),
    ("how far is Yevlakh from the capital", analysis.NUMBER),
    ("When did the operation begin?", analysis.DATE),
    ("Who accused Azerbaijan of ethnic cleansing?", analysis.PERSON),
    ("Where did protesters clash with police?", analysis.PLACE),
    ("What did Baku demand?", analysis.OTHER),
    # A question after a name (a company, a party, what something is called) wants a name too.
    ("which company did the inspection", analysis.PERSON),
    ("which new group did they set up", analysis.PERSON),
    ("How many groups joined?", analysis.NUMBER),
    # A "who" or "when" inside the question is a clause, not what it asks for.
    ("what did she promise about who pays the bill", analysis.OTHER),
    ("what did they say when the bridge cracked", analysis.OTHER),
    ("are any of the people who got sick in danger", analysis.OTHER),
    ("did they say when it ends", analysis.DATE),
])
def test_answer_type(question, kind):
    assert analysis.answer_type(question) == kind


def test_key_phrase_picks_the_number_near_the_question_words():
    s = ("The Nagorno-Karabakh region houses approximately 120,000 ethnic Armenians in addition "
         "to almost 500 civilians relocated by Russian soldiers.")
    q = "How many ethnic Armenians live in the region?"
    assert analysis.key_phrase(analysis.NUMBER, s, set(content_terms(q)), stem) == \
        "approximately 120,000 ethnic Armenians"


def test_key_phrase_skips_what_the_question_already_says():
    s = "Mayor Elena Ruiz cut the ribbon while Tomas Varga watched."
    q = "Who watched while Mayor Elena Ruiz cut the ribbon?"
    assert analysis.key_phrase(analysis.PERSON, s, set(content_terms(q)), stem) == "Tomas Varga"


def test_multi_part_questions_are_split():
    # A later part that refers back ("it") borrows the first part's words, in a field of its
    # own: nothing is appended to the question's text and parsed back out.
    assert analysis.split_parts("When did it open and how much did it cost?") == [
        ("When did it open", ""), ("how much did it cost?", "it open")]
    assert analysis.split_parts("When did the bridge open and how much did the city pay?") == [
        ("When did the bridge open", ""), ("how much did the city pay?", "")]
    assert analysis.split_parts("Where do Armenians and Azerbaijanis live?") == [
        ("Where do Armenians and Azerbaijanis live?", "")]
    # What a follow-up borrowed from the conversation stays with every part.
    assert analysis.split_parts("who won and when", "the cup final") == [
        ("who won and when", "the cup final")]


def test_lives_is_not_live():
    assert stem("lives") == stem("life") != stem("live")


def test_stemming_meets_plural_and_tense():
    assert stem("troops") == stem("troop")
    assert stem("talks") == stem("talk")
    assert stem("killed") == stem("kill")


HISTORY = [
    {"role": "user", "content": "Who is the prime minister of Armenia?"},
    {"role": "assistant", "content": "Nikol Pashinyan \u2014 \u201cThis intention provoked an "
                                     "accusation from Armenian Prime Minister Nikol Pashinyan.\u201d [1]"},
]


def test_person_pronoun_takes_the_latest_name():
    assert condense("What did he accuse Azerbaijan of?", HISTORY).text == \
        "What did Nikol Pashinyan accuse Azerbaijan of?"


def test_place_reference_takes_the_latest_place():
    history = [{"role": "user", "content": "What town did Azerbaijan propose for talks?"},
               {"role": "assistant", "content": "Yevlakh \u2014 \u201c...\u201d [1]"}]
    assert "Yevlakh" in condense("How far is that town from the capital?", history).text


def test_there_is_not_a_capitalised_common_word_but_the_place_the_reader_typed():
    history = [{"role": "user", "content": "who was the local reporter describing the bombing "
                                           "in stepanakert"},
               {"role": "assistant", "content": "Siranush Sargsyan \u2014 \u201cLocal journalist, "
                                                "Siranush Sargsyan reported on the damage.\u201d [1]"}]
    rewritten = condense("what was going on there while she was reporting", history).text
    assert "in stepanakert" in rewritten and "Local" not in rewritten


def test_a_title_or_a_part_of_a_name_is_not_a_place():
    history = [{"role": "user", "content": "Who cut the ribbon?"},
               {"role": "assistant", "content": "Mayor Elena Ruiz — “Mayor Elena Ruiz cut "
                                                "the ribbon at a ceremony in Valmora.” [1]"}]
    rewritten = condense("what did she say about the city", history).text
    assert "about Mayor" not in rewritten and "about Elena" not in rewritten
    assert rewritten.endswith("say about Valmora") and "Elena Ruiz" in rewritten
    assert "Valmora" in condense("How many people live there?", history).text


def test_other_follow_ups_borrow_the_previous_topic():
    history = [{"role": "user", "content": "What happened at the Lachin corridor?"},
               {"role": "assistant", "content": "..."}]
    standalone = condense("Why did they block it?", history)
    assert standalone.text == "Why did they block it?"  # the reader's words, untouched
    assert "Lachin corridor" in standalone.borrowed


def test_fresh_question_is_left_alone():
    assert condense("How many people live in Stepanakert?", HISTORY).text == \
        "How many people live in Stepanakert?"
    assert condense("Who is he?", []).text == "Who is he?"


def test_gradio_history_formats_are_both_accepted():
    browser = [{"role": "user", "content": [{"type": "text", "text": "hi"}], "metadata": None},
               {"role": "assistant", "content": "hello"}, {"role": "system", "content": "x"}, "junk"]
    assert normalise_history(browser) == [{"role": "user", "content": "hi"},
                                          {"role": "assistant", "content": "hello"}]


def test_accents_are_folded_so_readers_can_type_plain_letters():
    from assistant.text import fold, words

    assert words("Třebíč, Doležal, Łódź, Straße") == ["trebic", "dolezal", "lodz", "strasse"]
    assert content_terms("who is Doležal") == content_terms("who is dolezal")
    assert fold("plain") == "plain"


@pytest.mark.parametrize("typed, meant", [
    ("whos the head of the hospital", "who is the head of the hospital"),
    ("how many ppl signed", "how many people signed"),
    ("what did the govt say w/o a vote", "what did the government say without a vote"),
    ("what is u.s. policy", "what is u.s. policy"),  # not "you.s."
    ("who owns Ursa", "who owns Ursa"),  # only whole words
])
def test_chat_shorthand_is_spelled_out(typed, meant):
    from assistant.conversation import spell_out

    assert spell_out(typed) == meant
    assert condense(typed, []).text == meant


def test_whos_asks_for_a_person():
    assert analysis.answer_type(condense("whos the head of the hospital", []).text) == analysis.PERSON


def test_names_are_known_from_how_the_articles_write_them():
    from assistant.text import proper_terms

    proper = proper_terms([
        "The bridge in Maribor was closed on Thursday.",
        "Mayor Tjaša Kovačič said the bridge would stay closed.",
        "Traffic moved to the other bridge, Kovačič said.",
        "Maribor Closes Its Oldest Bridge For Repairs",  # a title-case headline says nothing
    ])
    assert {"maribor", "kovacic", "tjasa"} <= proper
    assert "bridge" not in proper and "closed" not in proper and "clos" not in proper


def test_an_ordinal_day_answers_a_which_day_question():
    spans = [m.group() for m in analysis.DATE_SPAN.finditer(
        "The offensive entered its second day on Wednesday.")]
    assert spans == ["its second day", "on Wednesday"]
    assert analysis.typed_match(analysis.DATE, "what day of the operation was it",
                                "The offensive entered its second day.", set(), stem) > 0


@pytest.mark.parametrize("question, sentence, fits", [
    ("how old is Kollarova", "Kollarova said the wells would reopen after three daily tests.", False),
    ("how old is Kollarova", "Kollarova, 54, said the wells would reopen.", True),
    ("how old is the bridge", "The bridge, opened in 1913, was closed on Thursday.", True),
    ("how deep are the wells", "The town of 27,000 people draws water from wells.", False),
    ("how deep are the wells", "The wells are about 40 metres deep.", True),
    ("how much money have the hotels lost", "Hotels reported about 1,300 cancelled bookings.", False),
    ("how much money did he borrow", "He borrowed 25 million dong to deepen his well.", True),
    ("how much of the bill will the state pay", "The state will pay 70 percent of the bill.", True),
    ("how far is Goris from the border", "Goris is a 40-minute drive from the border.", True),
    ("how far below average was the rain", "Rain was 45 percent below average.", True),
])
def test_a_measuring_question_needs_a_number_of_its_measure(question, sentence, fits):
    """'How deep' is not answered by '27,000 people', nor 'how much money' by '1,300 bookings'."""
    got = analysis.typed_match(analysis.NUMBER, question, sentence, set(content_terms(question)),
                               stem)
    assert (got > 0) == fits, got


def test_a_pronoun_takes_the_name_the_reader_just_asked_about():
    history = [{"role": "user", "content": "who is laurence broers"},
               {"role": "assistant", "content": "Observers of South Caucasus political dynamics, "
                                                "like Laurence Broers"}]
    assert condense("what does he reckon baku is after", history).text == \
        "what does Laurence Broers reckon baku is after"


def test_the_key_phrase_is_the_span_that_holds_the_question_word():
    """'how many armenians' leads with '120,000 ethnic Armenians', which holds the word, not with
    the next figure, whose start happens to lie nearer to it."""
    from assistant.text import content_terms, term_stem

    sentence = ("The Nagorno-Karabakh region houses approximately 120,000 ethnic Armenians in "
                "addition to almost 500 civilians relocated by Russian soldiers.")
    lead = analysis.key_phrase(analysis.NUMBER, sentence,
                               set(content_terms("how many armenians live in karabakh")), term_stem)
    assert lead == "approximately 120,000 ethnic Armenians"
