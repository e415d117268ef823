#!/usr/bin/env python3
"""Validate the evaluation question files against the articles they are about.

Usage: python3 evals/check_questions.py   (from the repository root, or from anywhere)

Loads every evals/questions/*.jsonl and checks:
  * every line is a JSON object with the documented fields and types;
  * ids are unique across ALL the files;
  * tags come from the documented set and agree with the other fields
    (unanswerable <-> answerable false, multi-part -> answers_all, follow-up -> history);
  * every answers / answers_all / evidence string is a verbatim substring (after
    normalisation) of at least one article in corpus/ or evals/articles/ (for
    X.jsonl also evals/articles-X/ when it exists);
  * every answer string occurs in a sentence that one of the question's evidence
    strings points at (so quoting the evidence actually answers the question);
  * every assistant turn in a history is verbatim article text (the assistant is extractive).

Prints one line per failure and exits 1 if there is any; prints counts and exits 0 otherwise.
Standard library only.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLE_DIRS = [ROOT / "corpus", ROOT / "evals" / "articles"]
QUESTION_FILES = sorted((ROOT / "evals" / "questions").glob("*.jsonl"))
# The labelled bank (evals/bank/{train,dev,heldout}/NAME.jsonl) is checked against its own
# article NAME.txt beside it, and each of its questions names the article's genre.
BANK = ROOT / "evals" / "bank"
BANK_FILES = sorted(BANK.glob("*/*.jsonl"))
# A question file X.jsonl is also checked against evals/articles-X/ when that folder exists
# (heldout2.jsonl against evals/articles-heldout2/): the articles only that set is asked over.
FILE_ARTICLE_DIRS = {path: ARTICLE_DIRS + [ROOT / "evals" / f"articles-{path.stem}"]
                     for path in QUESTION_FILES
                     if (ROOT / "evals" / f"articles-{path.stem}").is_dir()}

TYPE_TAGS = {"factoid", "paraphrase", "multi-part", "follow-up", "unanswerable"}
UNANSWERABLE_KINDS = {"near-topic", "off-topic"}
SET_TAGS = {"which-article", "multi-article"}
GENRE_TAGS = {"news", "encyclopedic", "sports", "business", "local-government"}
ALLOWED_TAGS = TYPE_TAGS | UNANSWERABLE_KINDS | SET_TAGS | GENRE_TAGS
KNOWN_FIELDS = {"id", "question", "answerable", "answers", "answers_all", "evidence",
                "history", "tags"}
MAX_ANSWER_WORDS = 6

_QUOTES = {"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
           "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
           "\u00ab": '"', "\u00bb": '"'}
_DASHES = {"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
           "\u2015": "-", "\u2212": "-"}
_TRANSLATE = str.maketrans({**_QUOTES, **_DASHES})


def fold(text: str) -> str:
    """NFKC, curly quotes -> straight, dashes -> '-', whitespace collapsed (case kept)."""
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    return re.sub(r"\s+", " ", text).strip()


def normalize(text: str) -> str:
    """The matching normalisation: fold() plus lower-casing."""
    return fold(text).lower()


# A sentence ends at . ! or ? (optionally followed by a closing quote or bracket) when
# whitespace and then an upper-case letter, digit or opening quote follows. "U.S. and"
# or "1.47" therefore do not split. Paragraphs (blank lines) always split.
_SENTENCE_END = re.compile(r"(?<=[.!?])(?:[\"')\]]?)\s+(?=[\"'(\[]?[A-Z0-9])")


def sentences(raw: str) -> list[str]:
    out = []
    for block in re.split(r"\n\s*\n", raw):
        block = fold(block)
        if not block:
            continue
        start = 0
        for m in _SENTENCE_END.finditer(block):
            # keep a closing quote with its sentence
            piece = block[start:m.start()] + m.group(0).strip()
            out.append(piece.strip().lower())
            start = m.end()
        out.append(block[start:].strip().lower())
    return [s for s in out if s]


def load_articles(dirs: list[Path] = ARTICLE_DIRS) -> dict[str, dict]:
    articles = {}
    for folder in dirs:
        for path in sorted(folder.glob("*.txt")):
            raw = path.read_text(encoding="utf-8")
            articles[str(path.relative_to(ROOT))] = {"text": normalize(raw),
                                                   "sentences": sentences(raw)}
    return articles


class Checker:
    def __init__(self, articles: dict[str, dict]):
        self.articles = articles
        self.failures: list[str] = []
        self.seen_ids: dict[str, str] = {}

    def fail(self, where: str, message: str) -> None:
        self.failures.append(f"{where}: {message}")

    def in_corpus(self, s: str) -> list[str]:
        n = normalize(s)
        return [name for name, a in self.articles.items() if n in a["text"]]

    def evidence_context(self, evidence: list[str]) -> list[str]:
        """The article sentences each evidence string points at (or the string itself)."""
        contexts = []
        for ev in evidence:
            n = normalize(ev)
            hits = [s for a in self.articles.values() for s in a["sentences"] if n in s]
            contexts.extend(hits or [n])
        return contexts

    def check_string_list(self, where: str, q: dict, key: str, required: bool) -> list[str]:
        if key not in q:
            if required:
                self.fail(where, f"missing field '{key}'")
            return []
        value = q[key]
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            self.fail(where, f"'{key}' must be a list of strings")
            return []
        for x in value:
            if not x.strip():
                self.fail(where, f"'{key}' contains an empty string")
        if len({normalize(x) for x in value}) != len(value):
            self.fail(where, f"'{key}' contains duplicates")
        return value

    def check(self, path: Path, lineno: int, q: object) -> None:
        where = f"{path.name}:{lineno}"
        if not isinstance(q, dict):
            self.fail(where, "expected a JSON object")
            return
        qid = q.get("id")
        if not isinstance(qid, str) or not qid.strip():
            self.fail(where, "'id' must be a non-empty string")
        else:
            where = f"{where} ({qid})"
            if qid in self.seen_ids:
                self.fail(where, f"duplicate id, first seen at {self.seen_ids[qid]}")
            else:
                self.seen_ids[qid] = f"{path.name}:{lineno}"
        if not isinstance(q.get("question"), str) or not q.get("question", "").strip():
            self.fail(where, "'question' must be a non-empty string")
        for key in q:
            if key not in KNOWN_FIELDS:
                self.fail(where, f"unknown field '{key}'")

        answerable = q.get("answerable")
        if not isinstance(answerable, bool):
            self.fail(where, "'answerable' must be true or false")
            return
        answers = self.check_string_list(where, q, "answers", required=True)
        evidence = self.check_string_list(where, q, "evidence", required=True)
        answers_all = self.check_string_list(where, q, "answers_all", required=False)
        tags = self.check_string_list(where, q, "tags", required=True)

        history = q.get("history", [])
        if not isinstance(history, list):
            self.fail(where, "'history' must be a list")
            history = []
        for i, turn in enumerate(history):
            if (not isinstance(turn, dict) or set(turn) != {"role", "content"}
                    or turn.get("role") not in ("user", "assistant")
                    or not isinstance(turn.get("content"), str) or not turn["content"].strip()):
                self.fail(where, f"history turn [{i}] must be {{'role': 'user'|'assistant', "
                                 f"'content': non-empty string}}")
                continue
            if turn["role"] == "assistant" and not self.in_corpus(turn["content"]):
                self.fail(where, f"history turn [{i}] (assistant) is not verbatim article text: "
                                 f"{turn['content']!r}")
        if history and history[-1].get("role") != "assistant":
            self.fail(where, "history must end with an assistant turn")

        # tags
        for t in tags:
            if t not in ALLOWED_TAGS:
                self.fail(where, f"unknown tag '{t}'")
        kinds = [t for t in tags if t in TYPE_TAGS]
        if len(kinds) != 1:
            self.fail(where, f"needs exactly one of {sorted(TYPE_TAGS)}, has {kinds}")
        if ("follow-up" in tags) != bool(history):
            self.fail(where, "'follow-up' tag and a non-empty history go together")
        if "multi-part" in tags and len(answers_all) < 2:
            self.fail(where, "'multi-part' needs at least two answers_all strings")
        if answers_all and "multi-part" not in tags:
            self.fail(where, "answers_all given but not tagged 'multi-part'")
        if "which-article" in tags and "multi-article" not in tags:
            self.fail(where, "'which-article' questions are also 'multi-article'")
        if path.parent.parent == BANK and len([t for t in tags if t in GENRE_TAGS]) != 1:
            self.fail(where, f"bank questions need exactly one genre tag of {sorted(GENRE_TAGS)}")

        if not answerable:
            if answers or evidence or answers_all:
                self.fail(where, "unanswerable questions have empty answers/evidence/answers_all")
            if "unanswerable" not in tags:
                self.fail(where, "answerable false but no 'unanswerable' tag")
            if len([t for t in tags if t in UNANSWERABLE_KINDS]) != 1:
                self.fail(where, "unanswerable questions need exactly one of near-topic/off-topic")
            return

        if "unanswerable" in tags or any(t in UNANSWERABLE_KINDS for t in tags):
            self.fail(where, "answerable question carries an unanswerable tag")
        if not answers:
            self.fail(where, "answerable question without answers")
        if not evidence:
            self.fail(where, "answerable question without evidence")

        for key, values in (("answers", answers), ("answers_all", answers_all),
                            ("evidence", evidence)):
            for v in values:
                if not self.in_corpus(v):
                    self.fail(where, f"{key} string not found verbatim in any article: {v!r}")
        for key, values in (("answers", answers), ("answers_all", answers_all)):
            for v in values:
                if len(normalize(v).split()) > MAX_ANSWER_WORDS:
                    self.fail(where, f"{key} string longer than {MAX_ANSWER_WORDS} words: {v!r}")

        # quoting the evidence must answer the question
        contexts = self.evidence_context(evidence)
        for key, values in (("answers", answers), ("answers_all", answers_all)):
            for v in values:
                if not any(normalize(v) in c for c in contexts):
                    self.fail(where, f"{key} string {v!r} is in none of the evidence sentences")
        # every evidence string should fall inside a single article sentence
        for ev in evidence:
            n = normalize(ev)
            if not any(n in s for a in self.articles.values() for s in a["sentences"]):
                self.fail(where, f"evidence spans more than one sentence: {ev!r}")


def load_bank_article(question_file: Path) -> dict[str, dict]:
    """A bank question file's own article (NAME.txt beside NAME.jsonl), and nothing else."""
    path = question_file.with_suffix(".txt")
    if not path.exists():
        return {}
    raw = path.read_text(encoding="utf-8")
    return {str(path.relative_to(ROOT)): {"text": normalize(raw), "sentences": sentences(raw)}}


def main(argv: list[str] | None = None) -> int:
    """Check every question file, or only the files named on the command line."""
    named = [Path(a).resolve() for a in (sys.argv[1:] if argv is None else argv)]
    files = named or QUESTION_FILES + BANK_FILES
    articles = load_articles()
    if not articles:
        print(f"no articles found in {[str(d) for d in ARTICLE_DIRS]}")
        return 1
    checker = Checker(articles)
    counts: dict[str, Counter] = {}
    totals: dict[str, int] = {}
    for path in files:
        if path.parent.parent == BANK:
            checker.articles = load_bank_article(path)
            if not checker.articles:
                checker.fail(path.name, f"no article {path.with_suffix('.txt').name} beside it")
                continue
        else:
            dirs = FILE_ARTICLE_DIRS.get(path, ARTICLE_DIRS)
            checker.articles = articles if dirs is ARTICLE_DIRS else load_articles(dirs)
        if not path.exists():
            checker.fail(path.name, "file missing")
            continue
        counter = Counter()
        n = 0
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                q = json.loads(line)
            except json.JSONDecodeError as exc:
                checker.fail(f"{path.name}:{lineno}", f"invalid JSON: {exc}")
                continue
            checker.check(path, lineno, q)
            n += 1
            if isinstance(q, dict) and isinstance(q.get("tags"), list):
                counter.update(t for t in q["tags"] if isinstance(t, str))
                group = "own-articles" if "multi-article" in q["tags"] else "seed"
                counter[f"[{group}]"] += 1
        if n == 0:
            checker.fail(path.name, "no questions")
        counts[path.name] = counter
        totals[path.name] = n

    for f in checker.failures:
        print(f"FAIL {f}")
    for name, counter in counts.items():
        tags = ", ".join(f"{t}={c}" for t, c in sorted(counter.items()))
        print(f"{name}: {totals[name]} questions; {tags}")
    if checker.failures:
        print(f"{len(checker.failures)} failure(s)")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
