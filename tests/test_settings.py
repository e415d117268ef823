"""One settings object: defaults, ASSISTANT_* variables, keyword overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import SettingsError
from assistant.settings import Settings


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_TOP_K", "9")
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    s = Settings.load()
    assert s.top_k == 9 and s.data_dir == tmp_path
    assert s.index_path == tmp_path / "index"


def test_keywords_override_environment(monkeypatch):
    monkeypatch.setenv("ASSISTANT_TOP_K", "9")
    assert Settings.load(top_k="4").top_k == 4
    assert Settings.load(index_dir="/x/y").index_path == Path("/x/y")


@pytest.mark.parametrize("kwargs, message", [
    ({"top_k": "many"}, "top_k must be a int"),
    ({"nonsense": 1}, "Unknown setting"),
    ({"chunk_overlap_tokens": 500}, "chunk_overlap_tokens"),
    ({"answer_mode": "telepathy"}, "answer_mode"),
])
def test_bad_values_say_what_is_wrong(kwargs, message):
    with pytest.raises(SettingsError, match=message):
        Settings.load(**kwargs)


def test_bad_environment_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("ASSISTANT_CHUNK_TOKENS", "big")
    with pytest.raises(SettingsError, match="ASSISTANT_CHUNK_TOKENS"):
        Settings.load()
