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


def test_numpy_blas_is_held_to_the_setting_and_left_alone_at_zero(bot, two_article_corpus):
    """The reader's small products ran 10x slower handed to OpenBLAS's second thread; the
    Assistant holds numpy's BLAS to `numpy_blas_threads`, and leaves it alone when that is 0."""
    from threadpoolctl import threadpool_info

    from assistant import Assistant

    def numpy_blas() -> list[int]:
        return [i["num_threads"] for i in threadpool_info()
                if i["user_api"] == "blas" and "numpy" in i["filepath"]]

    assert numpy_blas(), "numpy's BLAS was not found"
    Assistant(two_article_corpus, index_dir=bot.index_path, ingest=False, numpy_blas_threads=2)
    assert set(numpy_blas()) == {2}
    Assistant(two_article_corpus, index_dir=bot.index_path, ingest=False, numpy_blas_threads=0)
    assert set(numpy_blas()) == {2}
    Assistant(two_article_corpus, index_dir=bot.index_path, ingest=False)
    assert set(numpy_blas()) == {1}
