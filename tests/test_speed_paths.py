"""The fast paths give the same results as the slow ones: the ONNX encoder, derived chunk vectors,
the saved corpus index (and its staleness checks), and the upgrade of an index built the old way."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import DATA, SEED

from assistant import Assistant
from assistant.catalog import Catalog
from assistant.embeddings import Embedder
from assistant.index import SAVED_DIR, CorpusIndex, SentenceTerms
from assistant.ingest import CHUNK_VECTORS, chunk_vectors
from assistant.settings import Settings
from assistant.text import match_words
from assistant.types import Chunk

TEXTS = [
    "How many people were displaced?",
    "Zürich, São Paulo and Kraków — naïve café façades, ½ of 3.5% of €12m.",
    "",
    "word " * 400,
    "Azerbaijan launched what it called an anti-terrorist operation in Nagorno-Karabakh.",
] + [f"Sentence number {i} about a bridge that cost {i * 7} million euros." for i in range(70)]


# units: no model
def test_chunk_vector_is_the_token_weighted_normalised_mean():
    vectors = np.eye(4, dtype=np.float32)
    chunks = [Chunk("d:0-1", "d", 0, 1, "", 0), Chunk("d:1-3", "d", 1, 3, "", 0)]
    got = chunk_vectors(vectors, [1, 3, 1, 1], chunks)
    assert np.allclose(got[0], np.array([1, 3, 0, 0]) / np.sqrt(10))
    assert np.allclose(got[1], np.array([0, 3, 1, 1]) / np.sqrt(11))
    assert np.allclose(np.linalg.norm(got, axis=1), 1)


def test_sentence_terms_match_a_set_per_sentence():
    from assistant.text import content_terms

    texts = ["The troops crossed the river.", "", "Troops and troop carriers crossed rivers twice."]
    terms = SentenceTerms.build(texts)
    assert len(terms) == 3
    for i, text in enumerate(texts):
        assert terms[i] == frozenset(content_terms(text))
    assert terms[-1] == terms[2]
    df = dict(zip(terms.vocab, terms.document_frequency(), strict=True))
    assert df["troop"] == 2 and df["cross"] == 2 and df["carri"] == 1


def test_unknown_embedding_runtime_is_refused():
    from assistant.errors import SettingsError

    with pytest.raises(SettingsError, match="embedding_runtime"):
        Settings.load(embedding_runtime="tensorrt")


# the model
@pytest.mark.integration
def test_onnx_vectors_match_torch(tmp_path):
    settings = Settings.load()
    onnx = Embedder(runtime="onnx", export_dir=settings.model_cache_path)
    torch = Embedder(runtime="torch")
    assert onnx.runtime == "onnx" and onnx.identity == torch.identity
    a, b = onnx.encode(TEXTS), torch.encode(TEXTS)
    assert a.dtype == np.float32 and a.shape == b.shape
    assert np.min(np.sum(a * b, axis=1)) > 1 - 1e-5
    assert np.allclose(onnx.query(TEXTS[0]), b[0], atol=1e-5)


@pytest.mark.integration
def test_onnx_vectors_are_the_same_to_the_bit_on_one_thread_or_two():
    """The encoder runs two threads a run (a query encodes faster); its threads split the rows
    and columns of each product, never a sum, so the vectors are those of one thread, and an
    index built on one machine answers the same on another."""
    from assistant.embeddings import OnnxEncoder, export_folder

    export_dir = Settings.load().model_cache_path
    onnx = Embedder(runtime="onnx", export_dir=export_dir)  # makes the export if need be
    assert onnx.runtime == "onnx"
    folder = export_folder(onnx.path, export_dir)
    one, two = OnnxEncoder(folder, threads=1), OnnxEncoder(folder, threads=2)
    for batch in (1, 16):  # a query alone; an ingest's batches
        assert np.array_equal(one.encode(TEXTS, batch), two.encode(TEXTS, batch))


@pytest.mark.integration
def test_onnx_falls_back_to_torch_when_the_export_cannot_be_made(tmp_path, monkeypatch, caplog):
    import assistant.embeddings as embeddings

    def broken(*_args, **_kwargs):
        raise RuntimeError("no exporter here")

    monkeypatch.setattr(embeddings, "export_onnx", broken)
    embedder = Embedder(runtime="onnx", export_dir=tmp_path / "models")
    assert embedder.runtime == "torch"
    assert "using torch" in caplog.text
    assert np.isclose(np.linalg.norm(embedder.query("a question")), 1, atol=1e-5)


@pytest.fixture
def corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / "seed.txt")
    shutil.copy(DATA / "articles" / "harbour-bridge.txt", corpus / "bridge.txt")
    return corpus


def _no_rebuild(*_args, **_kwargs):
    raise AssertionError("rebuilt although a saved index of this version exists")


def _saved_folders(index_dir):
    root = index_dir / SAVED_DIR
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


@pytest.mark.integration
def test_ingest_embeds_each_sentence_once_and_derives_chunk_vectors(corpus, tmp_path, monkeypatch):
    seen: list[str] = []
    original = Embedder.encode

    def counting(self, texts, **kwargs):
        seen.extend(texts)
        return original(self, texts, **kwargs)

    Assistant.from_corpus(corpus, index_dir=tmp_path / "warm")  # the model's vocabulary, once
    monkeypatch.setattr(Embedder, "encode", counting)
    bot = Assistant.from_corpus(corpus, index_dir=tmp_path / "index")
    sentences = {s.text for s in bot.index.sentences}
    # Every sentence once and every distinct word once (answering/wordsim.py); no chunk text.
    words = {w for d in bot.index.documents.values() for w in match_words(d.text)}
    assert sorted(seen) == sorted(sentences | words) and len(seen) == len(sentences) + len(words)
    assert bot.catalog.word_list() == words
    got = bot.store._collection.get(include=["embeddings", "metadatas"])
    from assistant.chunking import count_tokens

    for cid, vector, meta in zip(got["ids"], got["embeddings"], got["metadatas"], strict=True):
        doc = bot.index.documents[meta["doc_id"]]
        rows = [bot.index.sentence_row[(doc.doc_id, i)] for i in range(len(doc.sentences))]
        chunk = Chunk(cid, doc.doc_id, meta["first"], meta["last"], "", 0)
        expected = chunk_vectors(np.asarray(bot.index.sentence_matrix[rows]),
                                 count_tokens([s.text for s in doc.sentences]), [chunk])[0]
        assert np.allclose(vector, expected, atol=1e-6)


@pytest.mark.integration
def test_saved_index_is_used_and_equals_a_rebuilt_one(corpus, tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    bot = Assistant.from_corpus(corpus, index_dir=index_dir)
    catalog = bot.catalog
    assert _saved_folders(index_dir) == [catalog.content_version()]

    with monkeypatch.context() as m:
        m.setattr(SentenceTerms, "build", _no_rebuild)
        saved = CorpusIndex.load(catalog, bot.embedder.dimension)
    documents = catalog.load_documents()
    built = CorpusIndex(documents, catalog.load_sentence_matrix(documents, bot.embedder.dimension),
                        saved.chunks, bot.embedder.dimension)
    assert saved.idf == built.idf and saved.unseen_idf == built.unseen_idf
    assert np.array_equal(np.asarray(saved.sentence_matrix), built.sentence_matrix)
    assert all(saved.sentence_terms[i] == built.sentence_terms[i] for i in range(len(built.sentences)))
    for query in ("bridge cost euros", "Armenians fled Nagorno-Karabakh", "ceasefire talks"):
        assert saved.bm25_search(query, 10) == built.bm25_search(query, 10)
    assert saved.correct("azerbaijian") == built.correct("azerbaijian")
    assert saved.proper == built.proper and "pashinyan" in saved.proper

    # A fresh process's answer is the same as this one's.
    again = Assistant(corpus, index_dir, ingest=False)
    q = "How much did the bridge cost?"
    assert again.ask(q).to_dict()["text"] == bot.ask(q).to_dict()["text"]


@pytest.mark.integration
def test_a_changed_corpus_never_reads_a_stale_saved_index(corpus, tmp_path):
    index_dir = tmp_path / "index"
    bot = Assistant.from_corpus(corpus, index_dir=index_dir)
    first = bot.catalog.content_version()
    bridge = corpus / "bridge.txt"
    bridge.write_text(bridge.read_text().replace("410 million euros", "455 million euros"))
    bot.ingest()
    bot.wait_until_saved()  # the changed index is saved in the background
    second = bot.catalog.content_version()
    assert second != first and _saved_folders(index_dir) == [second]
    assert "455 million euros" in Assistant(corpus, index_dir, ingest=False).ask(
        "How much did the bridge cost?").text

    # A saved folder that does not match the catalog (copied from elsewhere, say) is not used.
    shutil.copytree(index_dir / SAVED_DIR / second, tmp_path / "stale")
    bridge.unlink()
    bot.ingest(prune=True)
    bot.wait_until_saved()
    third = bot.catalog.content_version()
    shutil.rmtree(index_dir / SAVED_DIR / third)
    shutil.copytree(tmp_path / "stale", index_dir / SAVED_DIR / third)
    reopened = Assistant(corpus, index_dir, ingest=False)
    assert len(reopened.documents()) == 1
    assert reopened.index.sentence_matrix.shape[0] == len(reopened.index.sentences)


@pytest.mark.integration
def test_a_saved_index_from_another_tokenising_is_rebuilt(corpus, tmp_path, monkeypatch):
    """The saved terms and BM25 hold tokens: after a change of tokenising (text.TEXT_VERSION,
    part of the saved format) they are made anew, not read stale."""
    import assistant.index as index_module

    bot = Assistant.from_corpus(corpus, index_dir=tmp_path / "index")
    built = []
    original = SentenceTerms.build

    def counting(texts):
        built.append(len(texts))
        return original(texts)

    monkeypatch.setattr(SentenceTerms, "build", counting)
    CorpusIndex.load(bot.catalog, bot.embedder.dimension)
    assert built == []
    monkeypatch.setattr(index_module, "_FORMAT", index_module._FORMAT + "-next")
    CorpusIndex.load(bot.catalog, bot.embedder.dimension)
    assert built == [len(bot.index.sentences)]


@pytest.mark.integration
def test_a_damaged_saved_index_is_rebuilt(corpus, tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    bot = Assistant.from_corpus(corpus, index_dir=index_dir)
    q = "How much did the bridge cost?"
    expected = bot.ask(q).text
    folder = index_dir / SAVED_DIR / bot.catalog.content_version()
    (folder / "sentences.npy").write_bytes(b"not an array")
    (folder / "terms_vocab.json").write_text("[")
    again = Assistant(corpus, index_dir, ingest=False)
    assert again.ask(q).text == expected
    # ... and saved anew, so the next process loads it instead of rebuilding again.
    assert np.load(folder / "sentences.npy").shape == again.index.sentence_matrix.shape
    with monkeypatch.context() as m:
        m.setattr(SentenceTerms, "build", _no_rebuild)
        CorpusIndex.load(again.catalog, again.embedder.dimension)


@pytest.mark.integration
def test_an_index_built_the_old_way_is_upgraded_in_place(corpus, tmp_path):
    """Before chunk vectors were derived, each chunk's text was embedded and neither the way nor a
    content version was recorded: the next ingest recomputes the chunk vectors without the model."""
    index_dir = tmp_path / "index"
    bot = Assistant.from_corpus(corpus, index_dir=index_dir)
    got = bot.store._collection.get(include=["embeddings", "documents", "metadatas"])
    derived = np.asarray(got["embeddings"])
    # Make it look like an old index: chunk text embeddings, no chunk_vectors / content_version.
    old = bot.embedder.encode(got["documents"])
    bot.store._collection.upsert(ids=got["ids"], embeddings=old, documents=got["documents"],
                                 metadatas=got["metadatas"])
    cat = Catalog(index_dir / "catalog.sqlite3")
    cat._db.execute("DELETE FROM meta WHERE key IN ('chunk_vectors', 'content_version')")
    cat.close()
    shutil.rmtree(index_dir / SAVED_DIR)

    readonly = Assistant(corpus, index_dir, ingest=False)  # still opens and answers
    assert "410 million euros" in readonly.ask("How much did the bridge cost?").text

    upgraded = Assistant.from_corpus(corpus, index_dir=index_dir)
    assert upgraded.last_ingest.added == []
    assert upgraded.catalog.get_meta("chunk_vectors") == CHUNK_VECTORS
    assert upgraded.catalog.content_version() is not None
    after = upgraded.store._collection.get(ids=got["ids"], include=["embeddings"])
    assert np.allclose(np.asarray(after["embeddings"]), derived, atol=1e-6)
    assert _saved_folders(index_dir) == [upgraded.catalog.content_version()]


@pytest.mark.integration
def test_a_question_costs_one_encoder_run_and_a_rare_word_one_more(corpus, tmp_path, monkeypatch):
    """Words of the model's vocabulary have vectors before any question; a rare word ("azeris")
    costs one run beside the question's; asked again, the question costs none."""
    bot = Assistant.from_corpus(corpus, index_dir=tmp_path / "index")
    runs: list[list[str]] = []
    original = Embedder.encode

    def counting(self, texts, **kwargs):
        runs.append(list(texts))
        return original(self, texts, **kwargs)

    monkeypatch.setattr(Embedder, "encode", counting)
    common = "What did the farmers complain about?"
    bot.ask(common)
    assert runs == [[common]]
    runs.clear()
    rare = "What do the azeris call the town?"
    first = bot.ask(rare)
    assert sorted(runs) == sorted([[rare], ["azeris"]]) and not first.error
    runs.clear()
    again = bot.ask(rare)
    assert runs == [] and again.text == first.text
