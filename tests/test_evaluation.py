"""The evaluation command, specified without the engine: question files, metrics, reports, gates."""

from __future__ import annotations

import argparse
import json
import runpy
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.errors import IndexUnusable, SettingsError
from assistant.evaluation import load_questions, main, register
from assistant.evaluation.errors import EvalError
from assistant.evaluation.matching import contains, is_evidence, normalize, token_f1
from assistant.evaluation.metrics import aggregate, judge, percentile
from assistant.evaluation.questions import Question
from assistant.evaluation.report import cell
from assistant.types import Answer, Citation, Passage

DATA = Path(__file__).parent / "data" / "eval"

# Sentences of corpus/nagorno-karabakh-2023.txt, as the engine would cite them.
S_TUESDAY = ("Azerbaijan has escalated its military presence within Nagorno-Karabakh, marking a "
             "critical upturn in activities leading up to a recently launched operation on "
             "Tuesday.")
S_CAMPAIGN = ("This operation, hailed as an \u201canti-terror\u201d campaign by Azerbaijan, saw "
              "its second day of action as the nation made clear its intentions to press on "
              "until the surrender of ethnic-Armenian separatists.")
S_BAKU = ("Earlier this week, Baku directed the disbandment and disarmament of \u201cillegal "
          "Armenian military formations\u201d, referring to them as an \u201cillegal regime\u201d.")
S_SOVIET = ("A parallel can be drawn to the first war between the nations following the fall of "
            "the Soviet Union in the 1990s.")
S_RUSSIA = ("In a series of recuperative manoeuvres in 2020, Azerbaijan reclaimed territories, "
            "followed by a mutually agreed ceasefire overseen by Russian peacekeepers.")
S_NEWS = "Follow us on Google News! \u2714\ufe0f"


def cite(text: str, sentence_id: int, marker: int = 1) -> Citation:
    return Citation(marker=marker, doc_id="nk", title="NK", sentence_id=sentence_id, start=0,
                    end=len(text), text=text, score=1.0)


def passage(*sentences: str) -> Passage:
    return Passage(chunk_id="nk:0", doc_id="nk", title="NK", first_sentence=0,
                   last_sentence=len(sentences) - 1, text=" ".join(sentences), score=1.0)


def answer(text: str, citations=(), passages=(), abstained=False) -> Answer:
    return Answer(question="", text=text, citations=list(citations), passages=list(passages),
                  abstained=abstained)


# ---------------------------------------------------------------------------------------------
# Question files


EXPECTED = [
    Question(id="op-day", question="On which day did the operation start?", answers=("Tuesday",),
             evidence=("recently launched operation on Tuesday",), tags=("facts", "dates")),
    Question(id="follow-up", question="And who oversaw the ceasefire?",
             answers_all=("Russian", "peacekeepers"),
             history=({"role": "user", "content": "What happened in 2020?"},
                      {"role": "assistant", "content": "Azerbaijan reclaimed territories."})),
    Question(id="unknown", question="What is the population of Stepanakert?", answerable=False,
             tags=("unanswerable",)),
]


@pytest.mark.parametrize("name", ["questions.jsonl", "questions.json"])
def test_valid_files_load_exactly_with_defaults_and_unknown_keys_ignored(name):
    assert load_questions(DATA / name) == EXPECTED


MALFORMED = [
    # (file name, content, what the one-line message must mention)
    ("q.jsonl", '{"id": "a", "question": "A?"}\n{"id": "b", "question": \n',
     ["q.jsonl", "line 2", "invalid JSON"]),
    ("q.jsonl", '{"id": "a", "question": "A?"}\n\n{"id": "b"}\n',
     ["line 3", "missing required field 'question'"]),
    ("q.jsonl", '{"question": "A?"}\n', ["line 1", "missing required field 'id'"]),
    ("q.jsonl", '{"id": 7, "question": "A?"}\n', ["line 1", "'id' must be a string"]),
    ("q.jsonl", '{"id": "a", "question": ""}\n', ["line 1", "'question' is empty"]),
    ("q.jsonl", '{"id": "a", "question": "A?", "answerable": "no"}\n',
     ["line 1", "'answerable' must be true or false"]),
    ("q.jsonl", '{"id": "a", "question": "A?", "answers": "Tuesday"}\n',
     ["line 1", "'answers' must be a list of strings"]),
    ("q.jsonl", '{"id": "a", "question": "A?", "evidence": [""]}\n',
     ["line 1", "'evidence' contains an empty string"]),
    ("q.jsonl", '{"id": "a", "question": "A?", "tags": [1]}\n', ["line 1", "'tags'"]),
    ("q.jsonl", '{"id": "a", "question": "A?", "history": [{"role": "bot", "content": "x"}]}\n',
     ["line 1", "history turn [0]"]),
    ("q.jsonl", '{"id": "a", "question": "A?"}\n{"id": "a", "question": "B?"}\n',
     ["line 2", "duplicate id 'a'", "line 1"]),
    ("q.jsonl", '["id", "question"]\n', ["line 1", "expected a JSON object"]),
    ("q.jsonl", "\n  \n", ["q.jsonl", "no questions"]),
    ("q.json", "", ["q.json", "no questions"]),
    ("q.json", "[]", ["q.json", "no questions"]),
    ("q.json", '{"id": "a", "question": "A?"}', ["q.json", "must hold a list"]),
    ("q.json", '[{"id": "a", "question": "A?"},\n {"id": "b" "question": "B?"}]',
     ["q.json", "line 2", "invalid JSON"]),
    ("q.json", '[{"id": "a", "question": "A?"}, {"id": "b", "question": "B?", "answers": [1]}]',
     ["item [1] (id 'b')", "'answers'"]),
    ("q.json", '[{"id": "a", "question": "A?"}, {"question": "B?"}]',
     ["item [1]", "missing required field 'id'"]),
    ("q.json", '[{"id": "a", "question": "A?"}, {"id": "a", "question": "B?"}]',
     ["item [1] (id 'a')", "duplicate id 'a'"]),
    ("q.csv", "id,question\na,A?\n", ["q.csv", "unknown question file type"]),
]


class NeverBuilt:
    """A factory that fails the test if the index would be built."""

    def __call__(self, *args, **kwargs):
        raise AssertionError("the assistant was built for an invalid run")


@pytest.mark.parametrize(("name", "content", "mentions"), MALFORMED,
                         ids=[f"{m[0]}-{i}" for i, m in enumerate(MALFORMED)])
def test_malformed_file_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, name,
                                                                 content, mentions):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    out = tmp_path / "out"

    code = main([str(path), "--out", str(out), "--no-progress"], assistant_factory=NeverBuilt())

    captured = capsys.readouterr()
    assert code == 2
    message = captured.err.strip()
    assert "\n" not in message and "Traceback" not in message
    for part in mentions:
        assert part in message
    assert not out.exists()


@pytest.mark.parametrize(("argv", "mentions"), [
    (["missing.jsonl"], "question file not found"),
    ([str(DATA / "questions.jsonl"), "--set", "top_k"], "--set expects KEY=VALUE"),
    ([str(DATA / "questions.jsonl"), "--set", "=3"], "--set expects KEY=VALUE"),
    ([str(DATA / "questions.jsonl"), "--min-answer", "80"], "--min-answer must be a fraction"),
    ([str(DATA / "questions.jsonl"), "--max-false-abstain", "x"], "must be a fraction"),
    ([str(DATA / "questions.jsonl"), "--corpus", "no/such/dir"], "corpus path not found"),
    ([], "no question file given"),
    (["--compare", "missing-a.json", "missing-b.json"], "report not found"),
    ([str(DATA / "questions.jsonl"), "--compare", "a", "b"], "not both"),
])
def test_user_errors_exit_2_with_one_line(tmp_path, capsys, argv, mentions):
    out = tmp_path / "out"
    code = main([*argv, "--out", str(out), "--no-progress"], assistant_factory=NeverBuilt())
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "\n" not in err and mentions in err
    assert not out.exists()


@pytest.mark.parametrize("error", [
    SettingsError("Unknown setting 'top_kk'; known settings: top_k, ..."),
    IndexUnusable("The index was built with another model;\nrebuild it."),
])
def test_engine_refusing_to_build_is_a_one_line_error(tmp_path, capsys, error):
    def factory(corpus, **overrides):
        raise error

    code = main([str(DATA / "questions.jsonl"), "--set", "top_kk=3", "--out",
                 str(tmp_path / "out"), "--no-progress"], assistant_factory=factory)
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "could not build the assistant" in err
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------
# Matching and metrics


def test_normalisation_unifies_unicode_quotes_dashes_case_and_spaces():
    assert normalize("  The \u201cANTI\u2011terror\u201d\u00a0 campaign\u2019s\n end ") == \
        "the \"anti-terror\" campaign's end"
    assert normalize("\uff34uesday") == "tuesday"  # NFKC folds full-width letters
    assert contains("An \u201canti\u2014terror\u201d op", '"anti-terror"')
    assert not contains("anything", "   ")


def test_token_f1_is_squad_style():
    assert token_f1("The Tuesday.", "tuesday") == 1.0  # articles and punctuation ignored
    assert token_f1("on Tuesday", "Tuesday") == pytest.approx(2 / 3)
    assert token_f1("Monday", "Tuesday") == 0.0
    assert token_f1("Tuesday [1]", "Tuesday") == 1.0  # citation markers are not words


def test_a_citation_is_evidence_when_it_contains_or_lies_inside_an_evidence_string():
    assert is_evidence(S_BAKU, ["Baku directed the disbandment"])
    assert is_evidence(S_SOVIET, [S_NEWS + " " + S_SOVIET])
    assert not is_evidence(S_NEWS, ["Baku directed the disbandment"])


def test_percentile_interpolates_linearly():
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([10, 20, 30, 40, 50, 60, 70], 50) == 40
    assert percentile([10, 20, 30, 40, 50, 60, 70], 95) == pytest.approx(67)


HAND_CHECKED = [
    # q1: right answer, one of two citations is evidence, one of two evidence strings retrieved.
    (Question(id="q1", question="Who ordered the disbandment?", answers=("Baku",),
              evidence=("Baku directed the disbandment", "second day of action")),
     answer("Baku ordered it [1].", [cite(S_BAKU, 3), cite(S_NEWS, 2, marker=2)],
            [passage(S_BAKU)])),
    # q2: all of answers_all present despite curly quotes and a non-breaking hyphen; the same
    # evidence sentence cited twice; the evidence string is two sentences, the citation one.
    (Question(id="q2", question="What was the operation called and when did it start?",
              answers_all=("Tuesday", "anti-terror"), evidence=(S_TUESDAY + " " + S_CAMPAIGN,)),
     answer("An \u201canti\u2011terror\u201d operation began on Tuesday.",
            [cite(S_CAMPAIGN, 1), cite(S_CAMPAIGN, 1, marker=2)],
            [passage(S_TUESDAY, S_CAMPAIGN)])),
    # q3: a false abstention; its evidence was not retrieved.
    (Question(id="q3", question="Who oversaw the ceasefire?", answers=("Russian peacekeepers",),
              evidence=("overseen by Russian peacekeepers",)),
     answer("I could not find this in the articles.", [], [passage(S_NEWS)], abstained=True)),
    # q4: unanswerable and rightly abstained.
    (Question(id="q4", question="What is the population of Stepanakert?", answerable=False),
     answer("I could not find this in the articles.", abstained=True)),
    # q5: unanswerable but answered.
    (Question(id="q5", question="How many tanks were destroyed?", answerable=False),
     answer("Maybe 42.", [cite(S_NEWS, 2)])),
    # q6: answerable with no gold strings: any answer counts; no F1, no citation metrics.
    (Question(id="q6", question="Summarise the article."),
     answer("Azerbaijan launched an operation.", [cite(S_TUESDAY, 0)])),
    # q7: right answer, but it cites the wrong sentence; evidence was retrieved.
    (Question(id="q7", question="When did the first war follow?", answers=("1990s",),
              evidence=("fall of the Soviet Union in the 1990s",)),
     answer("In the 1990s.", [cite(S_NEWS, 2)], [passage(S_SOVIET)])),
]
LATENCIES_MS = [10, 20, 30, 40, 50, 60, 70]


def test_verdicts_by_hand():
    v = [judge(q, a, ms) for (q, a), ms in zip(HAND_CHECKED, LATENCIES_MS, strict=True)]
    q1, q2, q3, q4, q5, q6, q7 = v
    assert (q1.answer_correct, q1.f1, q1.citation_hit, q1.citation_precision, q1.recall) == \
        (True, 0.5, True, 0.5, 0.5)  # F1: "baku ordered it" vs "baku"
    assert (q2.answer_correct, q2.citation_hit, q2.citation_precision, q2.recall, q2.cited) == \
        (True, True, 1.0, 1.0, 1)
    assert q2.f1 == pytest.approx(2 / 3)  # 3 of 6 answer tokens against "tuesday anti terror"
    assert (q3.answer_correct, q3.f1, q3.citation_hit, q3.citation_precision, q3.recall) == \
        (False, 0.0, None, None, 0.0)
    assert (q4.correct, q4.answer_correct) == (True, None)
    assert (q5.correct, q5.abstained) == (False, False)
    assert (q6.answer_correct, q6.f1, q6.citation_hit, q6.recall) == (True, None, None, None)
    assert (q7.answer_correct, q7.citation_hit, q7.citation_precision, q7.recall) == \
        (True, False, 0.0, 1.0)
    assert q7.f1 == pytest.approx(2 / 3)


def test_aggregate_by_hand():
    m = aggregate([judge(q, a, ms) for (q, a), ms in zip(HAND_CHECKED, LATENCIES_MS, strict=True)])
    assert (m.n_questions, m.n_answerable, m.n_unanswerable) == (7, 5, 2)
    assert m.answer_accuracy == pytest.approx(4 / 5)            # q1 q2 q6 q7 of q1 q2 q3 q6 q7
    assert m.answer_f1 == pytest.approx((0.5 + 2 / 3 + 0 + 2 / 3) / 4)  # q1 q2 q3 q7
    assert m.citation_hit == pytest.approx(2 / 3)               # q1 q2 of q1 q2 q7
    assert m.citation_precision == pytest.approx((0.5 + 1 + 0) / 3)  # q1 q2 q7
    assert m.recall_at_k == pytest.approx((0.5 + 1 + 0 + 1) / 4)     # q1 q2 q3 q7
    assert m.abstention_rate == pytest.approx(1 / 2)            # q4 of q4 q5
    assert m.false_abstention_rate == pytest.approx(1 / 5)      # q3 of the 5 answerable
    assert (m.latency_p50_ms, m.latency_p95_ms) == (40, pytest.approx(67))
    assert m.n == {"answer_accuracy": 5, "answer_f1": 4, "citation_hit": 3,
                   "citation_precision": 3, "recall_at_k": 4, "abstention_rate": 2,
                   "false_abstention_rate": 5, "latency": 7, "answerable_auc": 7}
    assert m.answerable_auc == 0.5  # every answer has the same confidence: chance


def test_empty_denominators_are_none_not_zero():
    m = aggregate([judge(Question(id="x", question="?"), answer("yes"), 1.0)])
    assert m.answer_accuracy == 1.0
    assert m.abstention_rate is None and m.citation_precision is None and m.answer_f1 is None


@given(st.text())
def test_normalize_is_idempotent(text):
    assert normalize(normalize(text)) == normalize(text)


@given(st.text())
def test_table_cells_never_break_a_row(text):
    rendered = cell(text)
    assert "\n" not in rendered and "\r" not in rendered
    # Every pipe is escaped: removing escaped pairs leaves no bare pipe.
    assert "|" not in rendered.replace("\\\\", "").replace("\\|", "")


# ---------------------------------------------------------------------------------------------
# The runner, end to end with a fake assistant


@dataclass
class FakeSettings:
    data_dir: Path
    top_k: int = 5
    answerer: str = "extractive"


@dataclass
class FakeAssistant:
    """Answers from a dict keyed by question; records what it was asked."""

    settings: FakeSettings
    canned: dict[str, Answer]
    asked: list[tuple[str, list]] = field(default_factory=list)

    def ask(self, question, history=None):
        self.asked.append((question, history))
        if question not in self.canned:
            raise RuntimeError("engine exploded")
        return self.canned[question]


class FakeFactory:
    """Stands in for Assistant.from_corpus and remembers how it was called."""

    def __init__(self, data_dir: Path, canned: dict[str, Answer], **settings):
        self.data_dir, self.canned, self.settings = data_dir, canned, settings
        self.calls: list[tuple] = []
        self.bot: FakeAssistant | None = None

    def __call__(self, corpus, **kwargs):
        self.calls.append((corpus, kwargs))
        self.bot = FakeAssistant(FakeSettings(self.data_dir, **self.settings), self.canned)
        return self.bot


GOOD = {
    "On which day did the operation start?":
        answer("It started on Tuesday | day two was Wednesday.\nSecond line.",
               [cite(S_TUESDAY, 0)], [passage(S_TUESDAY)]),
    "And who oversaw the ceasefire?":
        answer("Russian peacekeepers oversaw it.", [cite(S_RUSSIA, 5)], [passage(S_RUSSIA)]),
    "What is the population of Stepanakert?": answer("Not in the articles.", abstained=True),
}
WORSE = GOOD | {
    "On which day did the operation start?": answer("No idea.", abstained=True),
    "What is the population of Stepanakert?": answer("About 50,000.", [cite(S_NEWS, 2)]),
}


def run(tmp_path, canned, *extra, out="run"):
    factory = FakeFactory(tmp_path / "data", canned)
    code = main([str(DATA / "questions.jsonl"), "--out", str(tmp_path / out), "--no-progress",
                 *extra], assistant_factory=factory)
    return code, factory


def test_run_writes_json_markdown_and_png(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    code, factory = run(tmp_path, GOOD, "--corpus", str(corpus), "--corpus", str(corpus),
                        "--index-dir", str(tmp_path / "idx"), "--set", "top_k=8")
    printed = capsys.readouterr().out
    assert code == 0
    assert factory.calls == [([corpus, corpus], {"top_k": "8", "index_dir": tmp_path / "idx"})]
    assert factory.bot.asked[1] == ("And who oversaw the ceasefire?", [
        {"role": "user", "content": "What happened in 2020?"},
        {"role": "assistant", "content": "Azerbaijan reclaimed territories."}])
    assert "answer accuracy" in printed and "report.md" in printed

    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["metrics"]["answer_accuracy"] == 1.0
    assert report["metrics"]["abstention_rate"] == 1.0
    assert report["metrics"]["citation_hit"] == 1.0
    assert set(report["by_tag"]) == {"dates", "facts", "unanswerable"}
    assert report["settings"] == {"data_dir": str(tmp_path / "data"), "top_k": 5,
                                  "answerer": "extractive"}
    assert report["overrides"] == {"top_k": "8"}
    assert report["corpus"] == [str(corpus), str(corpus)]
    first = report["questions"][0]
    assert first["id"] == "op-day" and first["answer"]["passage_doc_ids"] == ["nk"]
    assert first["answer"]["citations"][0]["text"] == S_TUESDAY
    assert first["verdict"]["correct"] is True
    assert report["index_build_ms"] >= 0 and report["gate"]["passed"] is True

    md = (tmp_path / "run" / "report.md").read_text()
    assert "## Summary" in md and "## By tag" in md and "## Misses (0)" in md

    png = (tmp_path / "run" / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_misses_are_listed_with_cells_escaped(tmp_path, capsys):
    canned = GOOD | {"On which day did the operation start?":
                     answer("Monday | or\nSunday", [cite(S_NEWS, 2)], [passage(S_NEWS)])}
    run(tmp_path, canned)
    md = (tmp_path / "run" / "report.md").read_text()
    misses = md.split("## Misses (1)")[1]
    assert "| op-day | On which day did the operation start? | Monday \\| or<br>Sunday | " \
           "any of: Tuesday | expected text missing |" in misses


def test_a_question_whose_ask_raises_is_recorded_as_a_wrong_answer(tmp_path, capsys):
    canned = {k: v for k, v in GOOD.items() if not k.startswith("And who")}
    code, _ = run(tmp_path, canned)
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert code == 0
    assert report["metrics"]["errors"] == 1
    assert report["questions"][1]["verdict"]["error"] == "RuntimeError: engine exploded"
    assert report["metrics"]["answer_accuracy"] == 0.5


def test_an_answer_carrying_an_error_is_counted(tmp_path, capsys):
    failed = Answer(question="", text="The answer model is unavailable.", abstained=True,
                    error="The answer model is unavailable.")
    run(tmp_path, GOOD | {"And who oversaw the ceasefire?": failed})
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["metrics"]["errors"] == 1
    assert report["questions"][1]["answer"]["error"] == "The answer model is unavailable."


def test_default_out_is_a_timestamped_folder_under_the_data_dir(tmp_path, capsys):
    factory = FakeFactory(tmp_path / "data", GOOD)
    assert main([str(DATA / "questions.json"), "--no-progress"], assistant_factory=factory) == 0
    (folder,) = (tmp_path / "data" / "evals").iterdir()
    assert folder.name.endswith("Z") and (folder / "report.json").is_file()
    assert factory.calls == [(None, {})]  # no --corpus: the engine's default corpus


@pytest.mark.parametrize(("flags", "code", "failed"), [
    (["--min-answer", "0.9"], 1, ["--min-answer 0.9"]),
    (["--min-answer", "0.5", "--min-abstain", "0"], 0, []),
    (["--max-false-abstain", "0.4", "--min-answer", "0.5"], 1, ["--max-false-abstain 0.4"]),
    (["--max-false-abstain", "0.5", "--min-abstain", "0.1"], 1, ["--min-abstain 0.1"]),
    (["--max-false-abstain", "0.5"], 0, []),
])
def test_thresholds_set_the_exit_code(tmp_path, capsys, flags, code, failed):
    # WORSE: answer accuracy 1/2, false abstention 1/2, abstention 0.
    assert run(tmp_path, WORSE, *flags)[0] == code
    printed = [line for line in capsys.readouterr().out.splitlines()
               if line.startswith("FAILED")]
    assert [line.split(":")[0].removeprefix("FAILED ") for line in printed] == failed


def test_the_auc_floor_fails_a_run_that_ranks_unanswerable_questions_first(tmp_path, capsys):
    """--min-auc gates on how confidence ranks the questions, whatever the threshold: both runs
    below answer and abstain alike, only the confidence of the unanswerable one differs."""
    def ranked(unanswerable_confidence):
        canned = {q: replace(a, confidence=0.8) for q, a in GOOD.items()}
        question = "What is the population of Stepanakert?"
        canned[question] = replace(canned[question], confidence=unanswerable_confidence)
        return canned

    assert run(tmp_path, ranked(0.1), "--min-auc", "0.9", out="good")[0] == 0
    assert run(tmp_path, ranked(0.95), "--min-auc", "0.9", out="bad")[0] == 1
    failed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("FAILED")]
    assert failed == ["FAILED --min-auc 0.9: answerable_auc is 0.000, below the minimum."]


def test_a_threshold_on_an_unmeasurable_metric_fails(tmp_path, capsys):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "a", "question": "On which day did the operation start?"}\n')
    factory = FakeFactory(tmp_path / "data", GOOD)
    code = main([str(path), "--out", str(tmp_path / "o"), "--min-abstain", "0.5",
                 "--min-cite", "0.5", "--no-progress"], assistant_factory=factory)
    failed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("FAILED")]
    assert code == 1 and len(failed) == 2
    assert all("could not be measured" in line for line in failed)


def test_compare_prints_deltas_and_flipped_questions(tmp_path, capsys):
    run(tmp_path, GOOD, out="a")
    run(tmp_path, WORSE, "--set", "top_k=3", out="b")
    capsys.readouterr()
    code = main(["--compare", str(tmp_path / "a" / "report.json"),
                 str(tmp_path / "b" / "report.json")])
    text = capsys.readouterr().out
    assert code == 0
    assert "answer accuracy" in text and "1.000 → 0.500" in text and "-0.500" in text
    assert "worse" in text
    flips = text.split("Flipped questions:")[1]
    assert "correct → wrong (2)" in flips and "wrong → correct (0)" in flips
    assert "answered → abstained (1)\n    op-day:" in flips
    assert "abstained → answered (1)\n    unknown:" in flips


def test_compare_rejects_a_file_that_is_not_a_report(tmp_path, capsys):
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"hello": 1}')
    assert main(["--compare", str(bogus), str(bogus)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "not an evaluation report" in err


def test_register_adds_the_eval_subcommand(tmp_path, capsys):
    run(tmp_path, GOOD, out="a")
    parser = argparse.ArgumentParser(prog="assistant")
    register(parser.add_subparsers(dest="command", required=True))
    report = str(tmp_path / "a" / "report.json")
    args = parser.parse_args(["eval", "--compare", report, report])
    assert args.func(args) == 0
    assert "Flipped questions" in capsys.readouterr().out


def test_python_dash_m_runs_the_command(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["assistant.evaluation", "--compare", "a.json", "b.json"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("assistant.evaluation", run_name="__main__")
    assert exit_info.value.code == 2
    assert "a.json: report not found" in capsys.readouterr().err


def test_load_questions_raises_eval_error_for_library_callers(tmp_path):
    with pytest.raises(EvalError, match="question file not found"):
        load_questions(tmp_path / "nope.jsonl")


def test_auc_is_the_chance_a_positive_outranks_a_negative():
    from assistant.evaluation.metrics import auc

    assert auc([0.9, 0.8, 0.7], [0.1, 0.2]) == 1.0
    assert auc([0.1], [0.9]) == 0.0
    assert auc([0.9, 0.8, 0.7], [0.1, 0.75]) == pytest.approx(5 / 6)
    assert auc([0.5, 0.5], [0.5]) == 0.5  # ties count half
    assert auc([0.9], []) is None and auc([0.9, None], [0.1]) is None
