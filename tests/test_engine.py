"""The answer engine end to end: real model, real Chroma, the public API contract."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import DATA, SEED

from assistant import Answer, Assistant, Citation
from assistant.catalog import Catalog

pytestmark = pytest.mark.integration


def test_answer_contract(bot):
    answer = bot.ask("How many ethnic Armenians live in Nagorno-Karabakh?")
    assert isinstance(answer, Answer)
    assert isinstance(answer.text, str) and isinstance(answer.abstained, bool)
    assert not answer.abstained
    assert "120,000" in answer.text
    assert answer.citations and all(isinstance(c, Citation) for c in answer.citations)
    assert [c.marker for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for c in answer.citations:
        assert f"[{c.marker}]" in answer.text
        assert isinstance(c.sentence_id, int) and isinstance(c.score, float)
    data = answer.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert {"text", "citations", "abstained", "timings"} <= set(data)
    assert data["timings"]["total_ms"] > 0


def test_every_citation_is_the_exact_sentence_of_its_document(bot):
    docs = {d.doc_id: d for d in bot.documents()}
    for q in ["Who accused Azerbaijan of ethnic cleansing?", "How long is the harbour bridge?",
              "Where did protesters clash with police?"]:
        answer = bot.ask(q)
        assert answer.citations, q
        for c in answer.citations:
            doc = docs[c.doc_id]
            assert doc.text[c.start:c.end] == c.text
            assert doc.sentences[c.sentence_id].text == c.text
            assert c.title == doc.title


def test_citations_name_the_right_article(bot):
    bridge = bot.ask("How much did the bridge cost?")
    assert not bridge.abstained and "410 million euros" in bridge.text
    assert {c.title for c in bridge.citations} == {"Valmora Opens Harbour Bridge After Six Years of Work"}
    karabakh = bot.ask("Who proposed talks in Yevlakh?")
    assert {c.title for c in karabakh.citations} == {
        "Azerbaijan Escalates Military Presence, Initiates Operation in Nagorno-Karabakh"}


def test_the_answer_leads_with_the_key_phrase(bot):
    answer = bot.ask("How far is Yevlakh from Khankendi?")
    assert answer.text.lower().startswith("approximately 60 miles")


@pytest.mark.parametrize("question", [
    "Who won the 2022 football World Cup?",
    "What is a good recipe for banana bread?",
])
def test_off_topic_questions_are_declined_without_citations(bot, question):
    answer = bot.ask(question)
    assert answer.abstained and answer.citations == []
    assert "do not say" in answer.text
    assert "Valmora Opens Harbour Bridge" in answer.text  # says what the articles do cover


def test_follow_up_uses_the_history(bot):
    history = [{"role": "user", "content": "Who is the prime minister of Armenia?"}]
    first = bot.ask(history[0]["content"])
    history.append({"role": "assistant", "content": first.text})
    answer = bot.ask("What did he accuse Azerbaijan of?", history=history)
    assert "Pashinyan" in answer.standalone_question
    assert "ethnic cleansing" in answer.text


@pytest.mark.parametrize("question, fragment", [
    ("", "Please type a question"),
    ("   \n\t ", "Please type a question"),
    ("x" * 50_000, "characters long"),
    (None, "as text"),
])
def test_unusable_questions_get_a_message_not_a_crash(bot, question, fragment):
    answer = bot.ask(question)
    assert answer.abstained and answer.citations == [] and answer.error
    assert fragment in answer.text


def test_odd_characters_do_not_crash(bot):
    for q in ["\ud800 how many?", "\x00\x07 who?", "مرحبا كم عدد", "🙂🙂 how many Armenians? 🙂"]:
        assert isinstance(bot.ask(q).text, str)


def test_article_filter_restricts_sources(bot):
    bridge_id = next(d.doc_id for d in bot.documents() if d.title.startswith("Valmora"))
    answer = bot.ask("Who accused Azerbaijan of ethnic cleansing?", doc_ids=[bridge_id])
    assert all(c.doc_id == bridge_id for c in answer.citations)
    assert all(p.doc_id == bridge_id for p in answer.passages)


def _counts(index_dir):
    cat = Catalog(index_dir / "catalog.sqlite3")
    try:
        return cat.counts()
    finally:
        cat.close()


def test_ingest_is_incremental_and_idempotent(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    shutil.copy(SEED, corpus / "seed.txt")
    bridge = corpus / "bridge.txt"
    shutil.copy(DATA / "articles" / "harbour-bridge.txt", bridge)
    bot = Assistant.from_corpus(corpus, index_dir=index)
    assert len(bot.last_ingest.added) == 2
    before = _counts(index)
    chroma_before = bot.store.count()

    again = Assistant.from_corpus(corpus, index_dir=index)  # unchanged corpus: writes nothing
    assert again.last_ingest.added == [] and again.last_ingest.removed == []
    assert again.last_ingest.unchanged == 2
    assert _counts(index) == before and again.store.count() == chroma_before

    bridge.write_text(bridge.read_text().replace("410 million euros", "455 million euros"))
    changed = again.ingest()
    assert len(changed.added) == 1 and len(changed.removed) == 1
    assert "455 million euros" in again.ask("How much did the bridge cost?").text
    assert _counts(index) == before

    bridge.unlink()
    kept = again.ingest()  # a file that is gone leaves the index only when asked
    assert kept.removed == [] and len(kept.kept_elsewhere) == 1 and len(again.documents()) == 2
    gone = again.ingest(prune=True)
    assert len(gone.removed) == 1
    assert len(again.documents()) == 1
    assert again.store.count() < chroma_before
    assert all(c.doc_id != changed.added[0] for c in again.ask("How much did the bridge cost?").citations)


def test_bad_files_are_skipped_with_reasons_and_the_rest_ingested(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / "seed.txt")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00" * 100)
    (corpus / "latin1.md").write_bytes("Caf\u00e9 news\n\nIt was a caf\u00e9.".encode("latin-1"))
    (corpus / "copy.txt").write_bytes(SEED.read_bytes())
    bot = Assistant.from_corpus(corpus, index_dir=tmp_path / "index")
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in bot.last_ingest.skipped}
    assert set(reasons) == {"empty.txt", "image.txt", "latin1.md"}
    assert "empty" in reasons["empty.txt"] and "binary" in reasons["image.txt"]
    assert "UTF-8" in reasons["latin1.md"]
    assert len(bot.documents()) == 1  # the duplicate is one document
    assert len(bot.last_ingest.duplicates) == 1


def test_opening_an_index_built_with_another_model_is_refused(tmp_path):
    from assistant.errors import IndexUnusable

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(DATA / "articles" / "harbour-bridge.txt", corpus / "b.txt")
    Assistant.from_corpus(corpus, index_dir=tmp_path / "index")
    cat = Catalog(tmp_path / "index" / "catalog.sqlite3")
    cat.set_meta("embedding_model", "some-other-model|768")
    cat.close()
    with pytest.raises(IndexUnusable, match="some-other-model.*assistant ingest --rebuild"):
        Assistant.from_corpus(corpus, index_dir=tmp_path / "index")


def test_an_unreadable_vector_index_degrades_to_bm25(bot, monkeypatch):
    from chromadb.errors import InternalError

    def broken(*_args, **_kwargs):
        raise InternalError("Error creating hnsw segment reader: Nothing found on disk")

    monkeypatch.setattr(bot.store, "search", broken)
    answer = bot.ask("How much did the bridge cost?")
    assert answer.error is None and "410 million euros" in answer.text


# Answering helpers (pure functions, no model).

def test_synonyms_and_agent_nouns_meet():
    from assistant.text import content_terms

    assert content_terms("protesters") == content_terms("protestors") == content_terms("demonstrators")
    assert content_terms("killed") == content_terms("deaths") == content_terms("dead")
    assert content_terms("truce") == content_terms("ceasefire")
    assert content_terms("what kind of weapons") == content_terms("weapons")


def test_typed_match_prefers_the_unit_and_the_grain_asked_for():
    from assistant.answering.analysis import answer_type, typed_match
    from assistant.text import canonical, content_terms, stem

    def fit(question, sentence):
        return typed_match(answer_type(question), question, sentence,
                           set(content_terms(question)), lambda w: canonical(stem(w)))

    stops = "The line will run to the hospital campus, with 16 stops along the way."
    assert fit("how many stops will the tram have", stops) == 1.0
    assert fit("how many trams will be ordered", stops) == 0.5
    assert fit("how many trams will be ordered", "The council approved the plan.") == -1.0
    assert fit("in which decade was the first war", "It was fought in the 1990s.") == 1.0
    assert fit("in which decade was the first war", "The last war was three years ago.") == 0.5
    assert answer_type("Until when will it keep going?") != "date"
    # A count of things is not a length; a unit the question names must be the number's.
    fish = "Dead fish have since been found along a 12-kilometre stretch of the river."
    assert fit("how many dead fish have they pulled out so far", fish) == -1.0
    assert fit("how many people were evacuated",
               "About 1,200 people were evacuated from a 5-kilometre zone.") == 1.0
    assert fit("how many babies were born there in 2010",
               "The hospital will stop delivering babies on 31 January.") == -1.0
    assert fit("how many tram drivers will they hire", "They will order 14 low-floor trams.") == 0.5
    corridor = "For the past nine months, Azerbaijan has blocked the only access corridor."
    assert fit("how long is the corridor in kilometres", corridor) == -1.0
    assert fit("how long has the corridor been blocked", corridor) in (0.5, 1.0)
    # How long a physical thing is asks for a distance; how long an act lasts may want a time.
    assert fit("How long is the Lachin corridor?", corridor) == -1.0
    assert fit("How long is the Lachin corridor?", "The corridor is 65 kilometres long.") > 0
    assert fit("how long is the strike", "Dockers began a 48-hour strike on Monday.") in (0.5, 1.0)
    assert fit("how long were the roads shut there",
               "Roads were shut for up to seven hours.") in (0.5, 1.0)
    # "Which outlet" wants a name the question does not give: the reporter's own does not count.
    reporter = "Local journalist, Siranush Sargsyan reported on the damage."
    assert fit("which news outlet does sargsyan report for", reporter) == -1.0
    assert fit("which news outlet does sargsyan report for",
               "Siranush Sargsyan told Reuters about the damage.") == 1.0


def test_person_questions_do_not_take_weekdays_nationalities_or_datelines_for_names():
    from assistant.answering.analysis import PERSON, spans_of

    def names(sentence):
        return [sentence[a:b] for a, b in spans_of(PERSON, sentence)]

    assert names("LEUVEN, Belgium — The council voted on Tuesday.") == []
    assert names("Wednesday saw Armenian forces retreat.") == []
    assert names("It came from Armenian Prime Minister Nikol Pashinyan.") == ["Nikol Pashinyan"]


def test_later_parts_of_a_question_carry_what_the_first_part_is_about():
    from assistant.answering.analysis import split_parts

    parts = split_parts("what did pashinyan accuse azerbaijan of and which country does he name")
    assert parts[0] == ("what did pashinyan accuse azerbaijan of", "")
    assert parts[1][0] == "which country does he name" and "pashinyan" in parts[1][1]
    assert split_parts("When was the first war, and in what year did Azerbaijan win?")[1] == \
        ("what year did Azerbaijan win?", "")


def test_verb_and_noun_forms_meet_at_one_stem():
    from assistant.text import stem

    assert stem("accuse") == stem("accused") == stem("accusation") == stem("accusations")
    assert stem("operate") == stem("operation") == stem("operations")
    assert stem("fire") == stem("fires") and stem("nation") != stem("nat")


def test_how_long_and_what_share_are_the_kind_of_answer_not_its_topic():
    from assistant.answering.analysis import without_frame
    from assistant.text import content_terms

    assert content_terms(without_frame("How long is the tram line?")) == content_terms("tram line")
    assert content_terms(without_frame("how far is Goris from the border")) == \
        content_terms("Goris border")
    assert "harvest" in content_terms(without_frame("What share of the harvest was lost?"))
    assert "share" not in content_terms(without_frame("What share of the harvest was lost?"))


def test_a_follow_up_pronoun_takes_the_name_without_its_titles():
    from assistant.conversation import condense

    history = [{"role": "user", "content": "Who is the prime minister of Armenia?"},
               {"role": "assistant", "content": "\u201cArmenian Prime Minister Nikol Pashinyan "
                                                "alleged that Azerbaijan had initiated an "
                                                "offensive.\u201d [1]"}]
    assert condense("What does he think Russia is doing?", history).text == \
        "What does Nikol Pashinyan think Russia is doing?"


def test_each_part_of_a_question_gets_its_own_answer(bot):
    # One sentence answers both parts, each with its own number: it is not dropped for the
    # second part just because the first quoted it (dev question multi-dev-006 covers the case
    # where the second part must move on to another sentence).
    answer = bot.ask("How many ethnic Armenians live in Nagorno-Karabakh, and how many civilians "
                     "did the Russian peacekeepers relocate?")
    assert "120,000" in answer.text and "500" in answer.text


def _reading(bot, question: str, vector=None):
    """The candidates of a one-part question over the bot's retrieval, with their features."""
    from assistant.answering.query import Query, candidates_from
    from assistant.assistant import Turn

    turn = bot._retrieve_step(bot._condense_step(Turn(question=question, history=[])))
    query: Query = turn.query
    candidates = candidates_from(turn.passages, bot.index.documents)
    return query, turn.passages, candidates, vector if vector is not None else bot.part_vectors(query)[0]


def test_headline_words_pick_the_article_not_the_sentence(bot):
    """A word of an article's headline ("bridge") says which article is asked about, not which
    of its sentences answers: it counts less there, so the lead sentence that merely repeats it
    loses ground to the one that holds the rest of the question ("cost")."""
    from assistant.answering.features import FeatureExtractor

    query, _, candidates, vector = _reading(bot, "How much did the bridge cost?")

    def lexical(headline_weight):
        FeatureExtractor(bot.index, headline_weight=headline_weight).extract(
            query.parts[0], vector, candidates)
        by_text = {c.sentence.text: c.features["lexical"] for c in candidates}
        lead = next(v for t, v in by_text.items() if t.startswith("The coastal city of Valmora"))
        cost = next(v for t, v in by_text.items() if t.startswith("The project cost"))
        return lead, cost

    lead_plain, cost_plain = lexical(1.0)
    lead_down, cost_down = lexical(0.25)
    assert lead_down < lead_plain and cost_down > cost_plain
    assert cost_down - lead_down > cost_plain - lead_plain


def test_a_follow_up_stays_with_the_article_the_last_answer_quoted(bot):
    """'What did she say?' after a quote from the bridge article is answered from that article."""
    history = [{"role": "user", "content": "Who cut the ribbon?"},
               {"role": "assistant", "content": "Mayor Elena Ruiz \u2014 \u201cMayor Elena Ruiz cut "
                "the ribbon at a ceremony attended by about 3,000 residents.\u201d [1]"}]
    answer = bot.ask("what did she say about the city", history=history)
    assert not answer.abstained
    assert "joins the two halves of our city" in answer.citations[0].text
    assert all("Bridge" in c.title for c in answer.citations)


def test_misspelt_question_words_are_respelt_from_the_articles(bot):
    respell = bot.index.respell
    assert respell("how long had Azerbijan kept the corridor shut", bot._model_words) == \
        "how long had Azerbaijan kept the corridor shut"
    assert respell("how many ethnic armenians live in karabach", bot._model_words) == \
        "how many ethnic armenians live in karabakh"
    # Real words the articles lack are left alone, however close to an article word.
    assert respell("how do I tune a guitar", bot._model_words) == "how do I tune a guitar"
    answer = bot.ask("how many ethnic armenians live in karabach")
    assert "120,000" in answer.text


def test_lower_case_names_count_as_names(bot):
    """A reader who types "pashinyan" names someone: the word is known as a name from the
    articles, so it does not count as one of the ordinary words a sentence must hold."""
    assert {"pashinyan", "stepanakert", "valmora"} <= bot.index.proper
    assert not {"bridge", "refuge", "ceasefire"} & bot.index.proper


class _FixedScorer:
    """The reader model with the sentence probabilities a test sets (the selection is tested,
    not the model)."""

    threshold, second_ratio, version = 0.5, 0.7, "test"

    def __init__(self, by_text: dict[str, float], answerable: float = 0.9):
        self.by_text, self.value, self.rows = by_text, answerable, []

    def sentence_probabilities(self, features):
        return self.rows.pop(0)

    def answerable(self, probabilities, features):
        return self.value


def test_a_close_second_sentence_of_the_same_article_is_cited_too(bot):
    """When the runner-up of the same article is nearly as likely to answer, the reader gets
    both; a close runner-up from another article is not added."""
    import numpy as np

    from assistant.answering.answerer import Evidence
    from assistant.answering.extractive import ExtractiveAnswerer

    query, passages, candidates, vector = _reading(bot, "How much did the bridge cost?")
    bridge = next(d.doc_id for d in bot.documents() if "Valmora" in d.title)
    same = [c for c in candidates if c.sentence.doc_id == bridge]
    other = next(c for c in candidates if c.sentence.doc_id != bridge)
    best, runner = same[0], next(c for c in same[1:] if abs(c.sentence.index - same[0].sentence.index) > 1)

    def probabilities(runner_p):
        p = {best.sentence.key: 1.0, other.sentence.key: 0.95, runner.sentence.key: runner_p}
        return np.array([p.get(c.sentence.key, 0.1) for c in candidates])

    model = _FixedScorer({})
    answerer = ExtractiveAnswerer(bot.index, model=model, max_citations=3)
    model.rows = [probabilities(0.75)]
    draft = answerer.answer(query, Evidence(passages, [vector]))
    assert [c.sentence_id for c in draft.citations] == [best.sentence.index, runner.sentence.index]
    model.rows = [probabilities(0.6)]  # under second_ratio of the best: one citation
    assert len(answerer.answer(query, Evidence(passages, [vector])).citations) == 1
    model.value, model.rows = 0.4, [probabilities(0.75)]  # the part judged unanswerable
    assert answerer.answer(query, Evidence(passages, [vector])).abstained


def test_a_question_about_a_name_is_not_answered_from_an_article_that_never_mentions_it(bot):
    """'How many people live in Valmora?' was answered with the seed's 'six lives'; the seed
    never mentions Valmora, which its sentences' `elsewhere` feature says."""
    from assistant.answering.features import FeatureExtractor

    query, _, candidates, vector = _reading(bot, "how many people live in valmora")
    FeatureExtractor(bot.index).extract(query.parts[0], vector, candidates)
    bridge = next(d.doc_id for d in bot.documents() if "Valmora" in d.title)
    assert {c.features["elsewhere"] for c in candidates if c.sentence.doc_id == bridge} == {0.0}
    assert {c.features["elsewhere"] for c in candidates if c.sentence.doc_id != bridge} == {1.0}
    answer = bot.ask("How many people live in Valmora?")
    assert all(c.doc_id == bridge for c in answer.citations)


def test_a_question_no_sentence_comes_near_in_meaning_is_declined_whatever_words_it_shares(bot):
    """'How many bones are in the human body' met the seed's 'human chains' and was answered
    with a number; the model reads the distance in meaning (best_dense) and declines it."""
    assert not bot.ask("How long is the bridge and how many lanes does it carry?").abstained
    answer = bot.ask("how many bones are in the human body")
    assert answer.abstained and answer.citations == []


def test_prepare_gives_the_query_and_passages_an_ask_answers_from(bot):
    """The evaluation scripts read questions through Assistant.prepare: the same standalone
    query and the same passages the ask's own steps produce."""
    history = [{"role": "user", "content": "How many ethnic Armenians live in Nagorno-Karabakh?"},
               {"role": "assistant", "content": "About 120,000."}]
    query, passages = bot.prepare("what do they speak?", history)
    assert "Armenians" in query.borrowed  # the follow-up borrows the first question's topic
    answer = bot.ask("what do they speak?", history)
    assert [p.doc_id for p in passages] and {c.doc_id for c in answer.citations} <= {
        p.doc_id for p in passages}


def test_a_length_question_is_told_from_a_duration_question():
    from assistant.answering.analysis import asks_length

    assert asks_length("How long is the Lachin corridor?")
    assert asks_length("How long are the Theodosian Walls?")       # a plural, a name before it
    assert asks_length("How long is the bridge at Cigacice?")      # the phrase ends at "at"
    assert not asks_length("How long has the Lachin corridor been blocked?")  # a verb
    assert not asks_length("how long is the strike")               # first sense: an act
    assert not asks_length("how long were the burglars inside")    # how long in a state
    assert not asks_length("how long was it")
    assert not asks_length("How many kilometres long is the corridor?")
