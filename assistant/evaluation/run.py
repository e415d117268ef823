"""The runner: build (or reuse) the index, ask every question through `Assistant.ask`, report."""

from __future__ import annotations

import dataclasses
import hashlib
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from assistant.errors import AssistantError
from assistant.evaluation.errors import EvalError
from assistant.evaluation.gate import Threshold, failures
from assistant.evaluation.metrics import Verdict, judge
from assistant.evaluation.questions import Question, load_questions
from assistant.evaluation.report import build_report, json_safe, write_reports
from assistant.types import Answer

# Called like Assistant.from_corpus(corpus, index_dir=..., **overrides); returns an object
# with .ask(question, history=[...]) -> Answer and a .settings dataclass.
AssistantFactory = Callable[..., Any]


@dataclass
class EvalRun:
    """A finished run: the report as written, where it went, and the thresholds it missed."""

    report: dict[str, Any]
    out_dir: Path
    paths: dict[str, Path] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"out_dir": str(self.out_dir), "paths": {k: str(p) for k, p in self.paths.items()},
                "failures": list(self.failures), "metrics": self.report["metrics"]}


def default_factory(corpus: Any, **kwargs: Any) -> Any:
    """Build the real assistant; imported here so the pure parts never load the engine."""
    from assistant.assistant import Assistant

    return Assistant.from_corpus(corpus, **kwargs)


def run_eval(questions_path: str | Path, *, corpus: Sequence[str | Path] | None = None,
             index_dir: str | Path | None = None, out_dir: str | Path | None = None,
             overrides: Mapping[str, str] | None = None,
             thresholds: Sequence[Threshold] = (),
             assistant_factory: AssistantFactory | None = None,
             progress: bool = True) -> EvalRun:
    """Evaluate one question file end to end; EvalError for anything the user must fix."""
    # Everything cheap is checked before the index is built, so a typo costs no time.
    questions = load_questions(questions_path)
    corpus_paths = [Path(p) for p in corpus or []]
    for path in corpus_paths:
        if not path.exists():
            raise EvalError(f"{path}: corpus path not found.")
    if out_dir is not None and Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise EvalError(f"{out_dir}: --out must be a directory, but a file is in the way.")
    overrides = dict(overrides or {})

    bot, build_ms = _build(assistant_factory or default_factory, corpus_paths, index_dir,
                           overrides)
    settings = _settings_dict(getattr(bot, "settings", None))
    answers, verdicts = _ask_all(bot, questions, progress)

    report = build_report(
        questions, answers, verdicts, question_file=questions_path,
        corpus=[str(p) for p in corpus_paths] or settings.get("corpus_dir"),
        index_dir=index_dir, overrides=overrides, settings=settings, index_build_ms=build_ms)
    missed = failures(report["metrics"], list(thresholds))
    report["gate"] = {"thresholds": [t.to_dict() for t in thresholds], "failures": missed,
                      "passed": not missed}
    out = Path(out_dir) if out_dir is not None else _default_out(settings)
    paths = write_reports(report, out)
    return EvalRun(report=report, out_dir=out, paths=paths, failures=missed)


def _build(factory: AssistantFactory, corpus: list[Path], index_dir: str | Path | None,
           overrides: dict[str, str]) -> tuple[Any, float]:
    # An evaluation asks over exactly its corpus: the reader's uploads stay out, and unless
    # --index-dir names an index it gets one of its own (per corpus), which it may prune freely.
    # The reader's own index is never pruned by an evaluation.
    kwargs: dict[str, Any] = dict(overrides)
    if factory is default_factory:
        kwargs.setdefault("include_uploads", "false")
    if index_dir is not None:
        kwargs["index_dir"] = Path(index_dir)
    elif factory is default_factory:
        kwargs["index_dir"] = _private_index(corpus, overrides)
        kwargs["prune"] = True
    start = time.perf_counter()
    try:
        bot = factory(corpus or None, **kwargs)
    except (AssistantError, ValueError, TypeError, KeyError, OSError) as exc:
        # Bad --set names or values and unreadable corpora surface here; say so in one line.
        raise EvalError(f"could not build the assistant: {exc}") from exc
    return bot, (time.perf_counter() - start) * 1000


def _private_index(corpus: list[Path], overrides: dict[str, str]) -> Path:
    from assistant.settings import Settings

    settings = Settings.load(**{k: v for k, v in overrides.items() if k == "data_dir"})
    key = "\n".join(sorted(str(p.resolve()) for p in corpus) or [str(settings.corpus_dir)])
    return settings.data_dir / "evals" / "index" / hashlib.sha256(key.encode()).hexdigest()[:12]


def _ask_all(bot: Any, questions: list[Question],
             progress: bool) -> tuple[list[Answer], list[Verdict]]:
    answers, verdicts = [], []
    for question in tqdm(questions, desc="eval", unit="q", file=sys.stderr,
                         disable=not progress, dynamic_ncols=True):
        history = [dict(turn) for turn in question.history]
        error = None
        start = time.perf_counter()
        try:
            answer = bot.ask(question.question, history=history)
        except Exception as exc:  # noqa: BLE001 - one failing question must not sink the run
            answer = Answer(question=question.question, text="", error=repr(exc))
            error = f"{type(exc).__name__}: {exc}"
        # The engine reports some failures in the Answer instead of raising.
        error = error or answer.error
        latency_ms = (time.perf_counter() - start) * 1000
        answers.append(answer)
        verdicts.append(judge(question, answer, latency_ms, error))
    return answers, verdicts


def _settings_dict(settings: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(settings) and not isinstance(settings, type):
        return json_safe(dataclasses.asdict(settings))
    if isinstance(settings, Mapping):
        return json_safe(dict(settings))
    return {}


def _default_out(settings: dict[str, Any]) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = Path(settings.get("data_dir") or "data") / "evals"
    out, n = base / stamp, 1
    while out.exists():  # two runs in the same second keep separate reports
        n += 1
        out = base / f"{stamp}-{n}"
    return out
