"""Prompts are files in the prompts folder, loaded by name and rendered strictly."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from .errors import SettingsError

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)


@dataclass(frozen=True)
class Prompt:
    """A system and a user template; `render` fills both or fails on a missing variable."""

    name: str
    system: jinja2.Template
    user: jinja2.Template

    def render(self, **variables: Any) -> list[BaseMessage]:
        try:
            return [SystemMessage(self.system.render(**variables).strip()),
                    HumanMessage(self.user.render(**variables).strip())]
        except jinja2.UndefinedError as exc:
            raise SettingsError(f"Prompt {self.name!r} needs a variable it was not given: {exc}.") from None


@lru_cache(maxsize=16)
def load_prompt(name: str, folder: Path) -> Prompt:
    """`folder/name.yaml` with `system` and `user` templates."""
    path = Path(folder) / f"{name}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"Cannot read prompt {path}: {exc}; check ASSISTANT_PROMPTS_DIR.") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("system", "user")):
        raise SettingsError(f"Prompt {path} must have a 'system' and a 'user' text.")
    try:
        return Prompt(name, _ENV.from_string(data["system"]), _ENV.from_string(data["user"]))
    except jinja2.TemplateSyntaxError as exc:
        raise SettingsError(f"Prompt {path} line {exc.lineno}: {exc.message}.") from None
