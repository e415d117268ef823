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
    """Read and validate the whole file (or every .jsonl file of a folder, in name order);
    raise EvalError naming the file and line or item."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise EvalError(f"{path}: the folder holds no .jsonl question file.")
        questions = [q for f in files for q in load_questions(f)]
        ids = [q.id for q in questions]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise EvalError(f"{path}: id '{dup}' is used in more than one file.")
        return questions
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
        except RecursionError:
            raise EvalError(f"{path} line {number}: nested too deeply to be a question.") from None
        _check_unicode(obj, f"{path} line {number}")
        yield f"line {number}", obj


def _check_unicode(obj: Any, where: str) -> None:
    """Refuse text that cannot be written back out: a lone surrogate such as "\\ud800"."""
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise EvalError(f"{where}: the text holds a lone surrogate (an escape such as \\ud800 "
                        "that is not a character); fix that line.") from None
    except RecursionError:
        raise EvalError(f"{where}: nested too deeply to be a question.") from None


def _json_items(path: Path, text: str) -> list[tuple[str, Any]]:
    if not text.strip():
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvalError(f"{path} line {exc.lineno}: invalid JSON ({exc.msg}).") from exc
    except RecursionError:
        raise EvalError(f"{path}: nested too deeply to be a question file.") from None
    _check_unicode(data, str(path))
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
