"""Load and validate a question set (.jsonl or .json) before anything expensive runs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from assistant.evaluation.errors import EvalError
from assistant.evaluation.matching import normalize

ROLES = ("user", "assistant")


@dataclass(frozen=True)
class Question:
    """One evaluation question with what counts as a right answer and as right evidence."""

    id: str
    question: str
    answerable: bool = True
    answers: tuple[str, ...] = ()
    answers_all: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    history: tuple[dict[str, str], ...] = ()
    tags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in data.items()}


def load_questions(path: str | Path) -> list[Question]:
    """Read and validate the whole file; raise EvalError naming the file and line or item."""
    path = Path(path)
    if not path.is_file():
        raise EvalError(f"{path}: question file not found.")
    try:
        text = path.read_text(encoding="utf-8-sig")  # tolerate a BOM from spreadsheet exports
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"{path}: cannot read the question file ({exc}).") from exc
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        items = list(_jsonl_items(path, text))
    elif suffix == ".json":
        items = _json_items(path, text)
    else:
        raise EvalError(f"{path}: unknown question file type '{suffix}'; use .jsonl or .json.")
    if not items:
        raise EvalError(f"{path}: the file has no questions.")

    questions: list[Question] = []
    seen: dict[str, str] = {}
    for where, obj in items:
        question = _parse(obj, f"{path} {where}")
        if question.id in seen:
            raise EvalError(f"{path} {where}: duplicate id '{question.id}' "
                            f"(first used at {seen[question.id]}).")
        seen[question.id] = where
        questions.append(question)
    return questions


def _jsonl_items(path: Path, text: str):
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalError(f"{path} line {number}: invalid JSON ({exc.msg}).") from exc
        yield f"line {number}", obj


def _json_items(path: Path, text: str) -> list[tuple[str, Any]]:
    if not text.strip():
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvalError(f"{path} line {exc.lineno}: invalid JSON ({exc.msg}).") from exc
    if not isinstance(data, list):
        raise EvalError(f"{path}: a .json question file must hold a list of objects, "
                        f"not a {type(data).__name__}.")
    items = []
    for index, obj in enumerate(data):
        label = f"item [{index}]"
        if isinstance(obj, dict) and isinstance(obj.get("id"), str):
            label += f" (id '{obj['id']}')"
        items.append((label, obj))
    return items


def _parse(obj: Any, where: str) -> Question:
    if not isinstance(obj, dict):
        raise EvalError(f"{where}: expected a JSON object, got {_kind(obj)}.")
    for key in ("id", "question"):
        if key not in obj:
            raise EvalError(f"{where}: missing required field '{key}'.")
        if not isinstance(obj[key], str):
            raise EvalError(f"{where}: '{key}' must be a string, got {_kind(obj[key])}.")
        if not obj[key].strip():
            raise EvalError(f"{where}: '{key}' is empty.")
    answerable = obj.get("answerable", True)
    if not isinstance(answerable, bool):
        raise EvalError(f"{where}: 'answerable' must be true or false, got {_kind(answerable)}.")
    return Question(
        id=obj["id"],
        question=obj["question"],
        answerable=answerable,
        answers=_strings(obj, "answers", where),
        answers_all=_strings(obj, "answers_all", where),
        evidence=_strings(obj, "evidence", where),
        history=_history(obj.get("history", []), where),
        tags=_strings(obj, "tags", where),
    )


def _strings(obj: dict, key: str, where: str) -> tuple[str, ...]:
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise EvalError(f"{where}: '{key}' must be a list of strings, got {_kind(value)}.")
    # An empty gold string would be "contained" in every answer and silently match.
    if any(not normalize(item) for item in value):
        raise EvalError(f"{where}: '{key}' contains an empty string.")
    return tuple(value)


def _history(value: Any, where: str) -> tuple[dict[str, str], ...]:
    if not isinstance(value, list):
        raise EvalError(f"{where}: 'history' must be a list of turns, got {_kind(value)}.")
    turns = []
    for number, turn in enumerate(value):
        if (not isinstance(turn, dict) or turn.get("role") not in ROLES
                or not isinstance(turn.get("content"), str)):
            raise EvalError(f"{where}: history turn [{number}] must be "
                            '{"role": "user" or "assistant", "content": a string}.')
        turns.append({"role": turn["role"], "content": turn["content"]})
    return tuple(turns)


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)
