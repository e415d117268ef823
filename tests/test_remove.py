"""Removing one article the user names: gone from the index and answers; uploads deleted, the
user's own corpus files kept (and kept out of the index until they change)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from assistant import Assistant
from assistant.errors import ArticleNotFound
from tests.conftest import DATA, ROOT, SEED

pytestmark = pytest.mark.integration
BRIDGE = DATA / "articles" / "harbour-bridge.txt"
BRIDGE_TITLE = "Valmora Opens Harbour Bridge After Six Years of Work"


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    return folder


def _titles(bot) -> set[str]:
    return {d.title for d in bot.documents()}


def test_removing_an_uploaded_article_deletes_it_from_index_answers_and_uploads(corpus, tmp_path):
    bot = Assistant(corpus, tmp_path / "index")
    upload = bot.uploads / "bridge.txt"
    shutil.copy(BRIDGE, upload)
    bot.ingest(progress=False)
    assert BRIDGE_TITLE in _titles(bot)
    assert "410 million euros" in bot.ask("How much did the bridge cost?").text

    removal = bot.remove(BRIDGE_TITLE.lower())  # a title, in any case
    assert removal.title == BRIDGE_TITLE and removal.deleted_files == [str(upload.resolve())]
    assert removal.kept_files == [] and not upload.exists()
    assert BRIDGE_TITLE not in _titles(bot) and len(bot.documents()) == 1
    assert "410 million" not in bot.ask("How much did the bridge cost?").text
    assert removal.doc_id not in bot.store.doc_ids()
    again = Assistant(corpus, tmp_path / "index")  # a fresh process's ingest does not bring it back
    assert _titles(again) == _titles(bot)


def test_a_corpus_file_is_kept_and_stays_out_until_it_changes(corpus, tmp_path):
    shutil.copy(BRIDGE, corpus / "bridge.txt")
    bot = Assistant(corpus, tmp_path / "index")
    doc = bot.article(BRIDGE_TITLE)
    removal = bot.remove(doc.doc_id[:8])  # an id prefix
    assert removal.kept_files == [str((corpus / "bridge.txt").resolve())] and removal.deleted_files == []
    assert (corpus / "bridge.txt").exists()
    assert "unless it changes" in removal.summary()

    again = Assistant(corpus, tmp_path / "index")
    assert BRIDGE_TITLE not in _titles(again)
    assert again.last_ingest.withheld == [str((corpus / "bridge.txt").resolve())]
    again.ingest(rebuild=True, progress=False)  # a rebuild is not a request to bring it back
    assert BRIDGE_TITLE not in _titles(again)

    with (corpus / "bridge.txt").open("a") as f:  # an edited file is a new article
        f.write("\nThe bridge has a footpath on each side.\n")
    again.ingest(progress=False)
    assert BRIDGE_TITLE in _titles(again)


def test_removing_the_only_article_of_a_folder_is_not_an_empty_corpus_error(tmp_path):
    only = tmp_path / "only"
    only.mkdir()
    shutil.copy(BRIDGE, only / "bridge.txt")
    bot = Assistant(only, tmp_path / "index")
    bot.remove(BRIDGE_TITLE)
    again = Assistant(only, tmp_path / "index")
    assert again.documents() == [] and again.last_ingest.withheld


def test_unknown_or_ambiguous_article_is_a_one_line_error_that_changes_nothing(corpus, tmp_path):
    bot = Assistant(corpus, tmp_path / "index")
    before = _titles(bot)
    for which in ("no such article", "", "abc"):
        with pytest.raises(ArticleNotFound) as err:
            bot.remove(which)
        assert "\n" not in str(err.value)
    assert _titles(bot) == before


def _cli(*args, data_dir, stdin=None):
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_cli_remove_asks_first_and_names_unknown_articles_in_one_line(corpus, tmp_path):
    shutil.copy(BRIDGE, corpus / "bridge.txt")
    where = ["--corpus", str(corpus), "--index-dir", str(tmp_path / "index")]
    data = tmp_path / "data"
    assert _cli("ingest", *where, data_dir=data).returncode == 0
    listed = _cli("list", *where, data_dir=data)
    assert BRIDGE_TITLE in listed.stdout and listed.stdout.count("\n") == 2

    declined = _cli("remove", BRIDGE_TITLE, *where, data_dir=data, stdin="n\n")
    assert declined.returncode == 1 and "[y/N]" in declined.stdout
    assert "Nothing was removed" in declined.stdout
    no_answer = _cli("remove", BRIDGE_TITLE, *where, data_dir=data, stdin="")
    assert no_answer.returncode == 1
    assert BRIDGE_TITLE in _cli("list", *where, data_dir=data).stdout

    unknown = _cli("remove", "Moon Landing Faked", *where, data_dir=data)
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1
    assert "No indexed article" in unknown.stderr and "Traceback" not in unknown.stderr

    confirmed = _cli("remove", BRIDGE_TITLE, *where, data_dir=data, stdin="y\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "Removed \u201cValmora" in confirmed.stdout and "was kept" in confirmed.stdout
    asked = _cli("ask", "How much did the bridge cost?", *where, data_dir=data)
    assert "410 million" not in asked.stdout
    assert BRIDGE_TITLE not in _cli("list", *where, data_dir=data).stdout
    assert (corpus / "bridge.txt").exists()

    shutil.copy(BRIDGE, corpus / "bridge-copy.txt")  # same text under another name: a new file
    assert _cli("ingest", *where, data_dir=data).returncode == 0
    gone = _cli("remove", "--yes", BRIDGE_TITLE, *where, data_dir=data)
    assert gone.returncode == 0 and "Removed" in gone.stdout
