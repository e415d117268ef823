"""Assemble a run into one JSON-safe report and write report.json, report.md and report.png."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.evaluation.chart import write_chart
from assistant.evaluation.metrics import LATENCIES, RATES, Verdict, aggregate
from assistant.evaluation.questions import Question
from assistant.types import Answer

REPORT_FORMAT = "assistant-eval-report/1"
TAG_COLUMNS = ("answer_accuracy", "answer_f1", "citation_hit", "citation_precision",
               "recall_at_k", "abstention_rate", "false_abstention_rate", "latency_p50_ms")


def build_report(questions: Sequence[Question], answers: Sequence[Answer],
                 verdicts: Sequence[Verdict], *, question_file: str | Path,
                 corpus: Any, index_dir: str | Path | None, overrides: dict[str, str],
                 settings: dict[str, Any], index_build_ms: float) -> dict[str, Any]:
    """The whole run as one dict: what was asked, what came back, and how it scored."""
    tags = sorted({tag for q in questions for tag in q.tags})
    by_tag = {tag: aggregate([v for q, v in zip(questions, verdicts, strict=True) if tag in q.tags])
              for tag in tags}
    report = {
        "format": REPORT_FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "question_file": str(question_file),
        "corpus": corpus,
        "index_dir": None if index_dir is None else str(index_dir),
        "overrides": dict(overrides),
        "settings": settings,
        "index_build_ms": index_build_ms,
        "metrics": aggregate(verdicts).to_dict(),
        "by_tag": {tag: metrics.to_dict() for tag, metrics in by_tag.items()},
        "questions": [_question_entry(q, a, v)
                      for q, a, v in zip(questions, answers, verdicts, strict=True)],
    }
    return json_safe(report)


def _question_entry(question: Question, answer: Answer, verdict: Verdict) -> dict[str, Any]:
    return {
        "id": question.id,
        "question": question.question,
        "tags": list(question.tags),
        "answerable": question.answerable,
        "expected": {"answers": list(question.answers),
                     "answers_all": list(question.answers_all),
                     "evidence": list(question.evidence)},
        "history": list(question.history),
        "answer": {
            "text": answer.text,
            "abstained": answer.abstained,
            "citations": [c.to_dict() for c in answer.citations],
            "passage_doc_ids": [p.doc_id for p in answer.passages],
            "timings": dict(answer.timings),
            "error": answer.error,
        },
        "verdict": verdict.to_dict(),
    }


def json_safe(value: Any) -> Any:
    """Paths and other odd values as strings, so the report always serialises."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def write_reports(report: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write report.json, report.md and report.png into `out_dir`; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "md": out / "report.md", "png": out / "report.png"}
    paths["json"].write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    paths["md"].write_text(markdown(report), encoding="utf-8")
    groups = {"all": report["metrics"]} | report["by_tag"]
    write_chart(groups, paths["png"])
    return paths


def fmt(key: str, value: Any) -> str:
    """A metric value as shown to people: rates with 3 decimals, latencies in whole ms."""
    if value is None:
        return "n/a"
    if key.endswith("_ms"):
        return f"{value:.0f}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def summary_rows(metrics: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, value, denominator) for every headline metric."""
    counts = metrics.get("n", {})
    rows = [(label, fmt(key, metrics.get(key)), str(counts.get(key, "")))
            for key, label, _ in RATES]
    rows += [(label, fmt(key, metrics.get(key)), str(counts.get("latency", "")))
             for key, label in LATENCIES]
    rows.append(("errors", str(metrics.get("errors", 0)), str(metrics.get("n_questions", ""))))
    return rows


def summary_text(report: dict[str, Any]) -> str:
    """The summary table for the terminal."""
    rows = [("metric", "value", "n")] + summary_rows(report["metrics"])
    width = max(len(row[0]) for row in rows)
    lines = [f"{label:<{width}}  {value:>7}  {n:>5}" for label, value, n in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append(f"index build: {fmt('index_build_ms', report['index_build_ms'])} ms")
    return "\n".join(lines)


def cell(value: Any) -> str:
    """Text made safe for one Markdown table cell."""
    text = str(value).replace("\\", "\\\\").replace("|", "\\|")
    return "<br>".join(text.splitlines()) if text else " "


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(cell(h) for h in header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def markdown(report: dict[str, Any]) -> str:
    """report.md: run details, summary table, per-tag table and the misses."""
    metrics = report["metrics"]
    corpus = report["corpus"] if report["corpus"] is not None else "default"
    lines = [
        "# Evaluation report", "",
        f"- created: {report['created_at']}",
        (f"- questions: `{report['question_file']}` ({metrics['n_questions']}: "
         f"{metrics['n_answerable']} answerable, {metrics['n_unanswerable']} unanswerable)"),
        f"- corpus: {corpus}",
        f"- overrides: {_overrides(report['overrides'])}",
        f"- index build: {fmt('index_build_ms', report['index_build_ms'])} ms", "",
        "## Summary", "",
    ]
    lines += _table(("metric", "value", "n"), summary_rows(metrics))
    if report["by_tag"]:
        labels = {key: label for key, label, _ in RATES} | dict(LATENCIES)
        rows = [[tag, m["n_questions"]] + [fmt(key, m.get(key)) for key in TAG_COLUMNS]
                for tag, m in [("all", metrics), *report["by_tag"].items()]]
        lines += ["", "## By tag", ""]
        lines += _table(["tag", "questions"] + [labels[key] for key in TAG_COLUMNS], rows)
    misses = [q for q in report["questions"] if not q["verdict"]["correct"]]
    lines += ["", f"## Misses ({len(misses)})", ""]
    if misses:
        rows = [(q["id"], q["question"], _answer_text(q), _expected(q), _why(q)) for q in misses]
        lines += _table(("id", "question", "answer", "expected", "why"), rows)
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def _overrides(overrides: dict[str, Any]) -> str:
    return ", ".join(f"`{key}={value}`" for key, value in overrides.items()) or "none"


def _answer_text(entry: dict[str, Any]) -> str:
    answer = entry["answer"]
    return f"(abstained) {answer['text']}" if answer["abstained"] else answer["text"]


def _expected(entry: dict[str, Any]) -> str:
    if not entry["answerable"]:
        return "abstain"
    expected = entry["expected"]
    parts = []
    if expected["answers"]:
        parts.append("any of: " + "; ".join(expected["answers"]))
    if expected["answers_all"]:
        parts.append("all of: " + "; ".join(expected["answers_all"]))
    return " / ".join(parts) or "an answer"


def _why(entry: dict[str, Any]) -> str:
    verdict = entry["verdict"]
    if verdict["error"]:
        return f"error: {verdict['error']}"
    if not entry["answerable"]:
        return "answered an unanswerable question"
    return "abstained" if verdict["abstained"] else "expected text missing"

