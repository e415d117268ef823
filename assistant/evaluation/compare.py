"""What changed between two runs: metric deltas, settings changes and flipped questions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.evaluation.errors import EvalError
from assistant.evaluation.metrics import LATENCIES, RATES
from assistant.evaluation.report import fmt


def load_report(path: str | Path) -> dict[str, Any]:
    """Read a report.json written by this module; EvalError if it is missing or is not one."""
    path = Path(path)
    if not path.is_file():
        raise EvalError(f"{path}: report not found.")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvalError(f"{path}: not a readable JSON report ({exc}).") from exc
    if (not isinstance(report, dict) or not isinstance(report.get("metrics"), dict)
            or not isinstance(report.get("questions"), list)):
        raise EvalError(f"{path}: not an evaluation report (no 'metrics' and 'questions').")
    return report


def compare(a: dict[str, Any], b: dict[str, Any]) -> str:
    """A readable account of how run `b` differs from run `a`."""
    lines = _metric_lines(a["metrics"], b["metrics"])
    changed = _settings_changes(a.get("settings") or {}, b.get("settings") or {})
    if changed:
        lines += ["", "Settings changed:"] + [f"  {line}" for line in changed]
    lines += ["", "Flipped questions:"] + _flip_lines(a["questions"], b["questions"])
    return "\n".join(lines)


def _metric_lines(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    rows = [("metric", "A", "B", "delta", "")]
    for key, label, higher_is_better in RATES:
        rows.append((label, fmt(key, a.get(key)), fmt(key, b.get(key)),
                     *_delta(a.get(key), b.get(key), "{:+.3f}", higher_is_better)))
    for key, label in LATENCIES:
        rows.append((label, fmt(key, a.get(key)), fmt(key, b.get(key)),
                     *_delta(a.get(key), b.get(key), "{:+.0f}", False)))
    rows.append(("questions", str(a.get("n_questions")), str(b.get("n_questions")), "", ""))
    width = max(len(row[0]) for row in rows)
    lines = [f"{r[0]:<{width}}  {r[1]:>7} → {r[2]:<7}  {r[3]:>7}  {r[4]}".rstrip()
             for r in rows]
    lines.insert(1, "-" * max(len(line) for line in lines))
    return lines


def _delta(a: Any, b: Any, pattern: str, higher_is_better: bool) -> tuple[str, str]:
    if a is None or b is None:
        return "", ""
    delta = b - a
    shown = pattern.format(delta)
    # Judge the change as printed: a latency 0.3 ms slower is "+0", not "worse".
    if not shown.strip("+-0."):
        return pattern.format(0).replace("+", "±"), ""
    better = (delta > 0) == higher_is_better
    return shown, "better" if better else "worse"


def _settings_changes(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return [f"{key}: {a.get(key, '(unset)')} → {b.get(key, '(unset)')}"
            for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]


def _flip_lines(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[str]:
    before = {q["id"]: q for q in a}
    after = {q["id"]: q for q in b}
    common = [qid for qid in after if qid in before]
    groups = {
        "correct → wrong": [i for i in common if _correct(before[i]) and not _correct(after[i])],
        "wrong → correct": [i for i in common if not _correct(before[i]) and _correct(after[i])],
        "answered → abstained": [i for i in common
                                 if not _abstained(before[i]) and _abstained(after[i])],
        "abstained → answered": [i for i in common
                                 if _abstained(before[i]) and not _abstained(after[i])],
    }
    lines = []
    for name, ids in groups.items():
        lines.append(f"  {name} ({len(ids)})")
        lines += [f"    {qid}: {after[qid]['question']}" for qid in ids]
    only_a = [qid for qid in before if qid not in after]
    only_b = [qid for qid in after if qid not in before]
    if only_a:
        lines.append(f"  only in A ({len(only_a)}): {', '.join(only_a)}")
    if only_b:
        lines.append(f"  only in B ({len(only_b)}): {', '.join(only_b)}")
    return lines


def _correct(entry: dict[str, Any]) -> bool:
    return bool(entry.get("verdict", {}).get("correct"))


def _abstained(entry: dict[str, Any]) -> bool:
    return bool(entry.get("answer", {}).get("abstained"))
