"""What keeps the cost of a question flat as the corpus grows: BM25's top k without sorting every
chunk, and a search restricted to some articles filtered inside Chroma (not over-fetched)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.index import SAVED_DIR, ChunkRef, CorpusIndex
from assistant.settings import Settings
from assistant.store import ChromaStore, chroma_settings
from assistant.types import Chunk, Document, Sentence

WORDS = ["bridge", "river", "council", "budget", "harbour", "railway", "school", "museum",
         "tunnel", "market", "festival", "election"]


def documents(n_docs: int, per_doc: int = 6, seed: int = 0) -> list[Document]:
    rng = np.random.default_rng(seed)
    docs = []
    for d in range(n_docs):
        texts = [" ".join(rng.choice(WORDS, 5)) + f" number {d}." for _ in range(per_doc)]
        text, sentences, at = "", [], 0
        for i, t in enumerate(texts):
            sentences.append(Sentence(f"doc{d:03d}", i, at, at + len(t), t))
            text += t + " "
            at += len(t) + 1
        docs.append(Document(f"doc{d:03d}", f"Doc {d}", f"doc{d}.txt", text, sentences))
    return docs


def small_index(n_docs: int = 40) -> CorpusIndex:
    docs = documents(n_docs)
    chunks = [ChunkRef(f"{d.doc_id}:{i}", d.doc_id, i, i + 1) for d in docs for i in (0, 2, 4)]
    vectors = np.random.default_rng(1).normal(size=(sum(len(d.sentences) for d in docs), 8))
    return CorpusIndex(docs, vectors.astype(np.float32), chunks, 8)


def full_sort_reference(index: CorpusIndex, query: str, k: int, doc_ids=None):
    from assistant.text import bm25_tokens

    scores = index._bm25.get_scores(bm25_tokens(query))
    ranked = sorted((i for i in range(len(scores)) if scores[i] > 0), key=lambda i: (-scores[i], i))
    ranked = [i for i in ranked if doc_ids is None or index.chunks[i].doc_id in doc_ids]
    return [(index.chunks[i].chunk_id, float(scores[i])) for i in ranked[:k]]


@pytest.mark.parametrize("query", ["bridge river", "council budget election", "museum", "tunnel 7"])
@pytest.mark.parametrize("k", [1, 5, 20, 500])
def test_bm25_top_k_equals_sorting_every_chunk(query, k):
    index = small_index()
    got = index.bm25_search(query, k)
    assert got == full_sort_reference(index, query, k)
    assert len(got) == min(k, sum(1 for _ in full_sort_reference(index, query, 10_000)))


def test_bm25_restricted_to_articles_ranks_only_theirs():
    index = small_index()
    chosen = {"doc003", "doc017"}
    got = index.bm25_search("bridge river market", 4, chosen)
    assert got == full_sort_reference(index, "bridge river market", 4, chosen)
    assert got and {cid.split(":")[0] for cid, _ in got} <= chosen
    assert index.bm25_search("bridge", 4, {"no-such-article"}) == []


def test_chroma_search_for_one_article_finds_its_chunks_however_far_they_are(tmp_path):
    """The article's chunks point away from the query: no global top k holds them, and the
    filtered search still returns them, nearest first."""
    import chromadb

    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=chroma_settings())
    store = ChromaStore(client, Settings())
    rng = np.random.default_rng(0)
    query = np.zeros(16, np.float32)
    query[0] = 1
    chunks, vectors = [], []
    for d in range(200):
        for i in range(5):
            v = rng.normal(size=16).astype(np.float32)
            if d == 123:
                v[0] = -abs(v[0]) - 3  # far from the query
            else:
                v[0] = abs(v[0]) + 3  # near it
            chunks.append(Chunk(f"d{d}:{i}", f"d{d}", i, i, "text", 3))
            vectors.append(v / np.linalg.norm(v))
    store.upsert(chunks, np.stack(vectors))
    everywhere = store.search(query, 20)
    assert not any(cid.startswith("d123:") for cid, _ in everywhere)
    mine = store.search(query, 3, {"d123"})
    assert [cid.split(":")[0] for cid, _ in mine] == ["d123"] * 3
    assert [s for _, s in mine] == sorted((s for _, s in mine), reverse=True)
    two = store.search(query, 10, {"d123", "d7"})
    assert {cid.split(":")[0] for cid, _ in two} == {"d123", "d7"}
    assert len(two) == 10


# A changed corpus: the next index is made from the last one, and equals one built from scratch.
NAMES = ["Baku", "Yerevan", "Okafor"]


def article(d: int, rng: np.random.Generator) -> Document:
    texts = []
    for i in range(7):
        name = NAMES[(d + i) % len(NAMES)]
        if d == 3:
            name = "marrow"  # the one article that writes it in lower case: no name while it stays
        elif d >= 40 and i == 0:
            name = "Marrow"  # ... written as a name by the articles added later
        texts.append(f"The {' '.join(rng.choice(WORDS, 4))} met {name} on day {d}.")
    text, sentences, at = "", [], 0
    for i, t in enumerate(texts):
        sentences.append(Sentence(f"art{d:03d}", i, at, at + len(t), t))
        text += t + " "
        at += len(t) + 1
    return Document(f"art{d:03d}", f"Article {d}", f"art{d}.txt", text, sentences)


def add(catalog, doc: Document, rng: np.random.Generator) -> None:
    n = len(doc.sentences)
    chunks = [Chunk(f"{doc.doc_id}:{i}", doc.doc_id, i, min(i + 2, n - 1), "", 0)
              for i in range(0, n, 2)]
    catalog.add_document(doc, chunks, rng.normal(size=(n, 8)).astype(np.float32))


def from_scratch(catalog) -> CorpusIndex:
    documents = catalog.load_documents()
    chunks = [ChunkRef(c, d, first, last) for c, d, first, last, _ in catalog.load_chunks()]
    return CorpusIndex(documents, catalog.load_sentence_matrix(documents, 8), chunks, 8)


def assert_same(got: CorpusIndex, want: CorpusIndex) -> None:
    assert list(got.documents) == list(want.documents)
    assert got.sentences == want.sentences and got.chunks == want.chunks
    assert got.sentence_row == want.sentence_row
    assert np.array_equal(np.asarray(got.sentence_matrix), np.asarray(want.sentence_matrix))
    rows = np.array([0, len(want.sentences) - 1, 5, 5, 17])
    assert np.array_equal(got.sentence_matrix[rows], np.asarray(want.sentence_matrix)[rows])
    assert all(got.sentence_terms[i] == want.sentence_terms[i] for i in range(len(want.sentences)))
    assert got.idf == want.idf and got.unseen_idf == want.unseen_idf
    assert got.proper == want.proper
    for query in ("bridge river", "Marrow council", "festival day 41", "tunnel"):
        g, w = got.bm25_search(query, 15), want.bm25_search(query, 15)
        assert [c for c, _ in g] == [c for c, _ in w]
        assert np.allclose([s for _, s in g], [s for _, s in w])
        assert got.bm25_search(query, 5, {"art005", "art041"}) == want.bm25_search(
            query, 5, {"art005", "art041"}) or np.allclose(
            [s for _, s in got.bm25_search(query, 5, {"art005", "art041"})],
            [s for _, s in want.bm25_search(query, 5, {"art005", "art041"})])
    for doc_id in list(want.documents)[-3:]:
        assert got.mentions(doc_id, "okafor") == want.mentions(doc_id, "okafor")


def test_a_changed_corpus_updates_the_index_from_the_change_alone(tmp_path, monkeypatch):
    from assistant.catalog import Catalog
    from assistant.index import SentenceTerms

    rng = np.random.default_rng(7)
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    for d in range(40):
        add(catalog, article(d, rng), rng)
    first = CorpusIndex.load(catalog, 8)
    assert "marrow" not in first.proper  # article 3 writes it in lower case too often
    for d in range(40, 45):
        add(catalog, article(d, rng), rng)
    catalog.remove_document("art003")
    catalog.remove_document("art017")

    def whole_corpus(*args, **kwargs):
        raise AssertionError("the whole corpus was read or tokenised again")

    original = Catalog.load_documents
    with monkeypatch.context() as m:
        m.setattr(Catalog, "load_documents",
                  lambda self, doc_ids=None: whole_corpus() if doc_ids is None
                  else original(self, doc_ids))
        m.setattr(Catalog, "load_sentence_matrix", whole_corpus)
        m.setattr(SentenceTerms, "build", whole_corpus)
        second = first.updated(catalog)
    want = from_scratch(catalog)
    assert "art003" not in second.documents and "art044" in second.documents
    assert "marrow" in second.proper and second.mentions("art041", "okafor")
    assert_same(second, want)

    # Saved, it is what the next process opens (nothing rebuilt), and it updates again.
    second.save_current(catalog)
    with monkeypatch.context() as m:
        m.setattr(SentenceTerms, "build", whole_corpus)
        reopened = CorpusIndex.load(catalog, 8)
    reopened_version = catalog.content_version()
    assert isinstance(reopened.sentence_matrix.base, np.memmap)
    assert_same(reopened, want)
    add(catalog, article(45, rng), rng)
    catalog.remove_document("art044")
    assert_same(reopened.updated(catalog), from_scratch(catalog))
    assert_same(second.updated(catalog), from_scratch(catalog))

    # Two more changes, each saved: the second save reads vectors whose saved folder the first
    # save deleted (held open), and the next process opens the result without rebuilding.
    third = reopened.updated(catalog)
    third.save_current(catalog)
    assert not (tmp_path / SAVED_DIR / reopened_version).exists()
    add(catalog, article(46, rng), rng)
    fourth = third.updated(catalog)
    fourth.save_current(catalog)
    with monkeypatch.context() as m:
        m.setattr(SentenceTerms, "build", whole_corpus)
        opened = CorpusIndex.load(catalog, 8)
    assert_same(opened, from_scratch(catalog))


def test_a_catalog_in_another_order_is_loaded_whole(tmp_path):
    """A rebuild re-adds articles in a new order: `updated` cannot append to the old one, and
    loads the catalog instead of describing it wrongly."""
    from assistant.catalog import Catalog

    rng = np.random.default_rng(3)
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    docs = [article(d, rng) for d in range(6)]
    for doc in docs:
        add(catalog, doc, rng)
    first = CorpusIndex.load(catalog, 8)
    catalog.clear()
    for doc in reversed(docs):
        add(catalog, doc, rng)
    assert_same(first.updated(catalog), from_scratch(catalog))


OBSERVATORY = ("Zorvanek Observatory Opens\n\nThe Zorvanek observatory opened on 14 March with 212 "
               "staff and a telescope paid for by the regional council. Its director, Ilse Marrow, "
               "said the first survey would map the northern sky within three years.\n")


@pytest.mark.integration
def test_an_upload_reads_only_the_uploads_folder_and_is_answerable_at_once(tmp_path, monkeypatch):
    import shutil

    from conftest import DATA, SEED

    import assistant.ingest as ingest_module
    from assistant import Assistant
    from assistant.web import add_article

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / "seed.txt")
    shutil.copy(DATA / "articles" / "harbour-bridge.txt", corpus / "bridge.txt")
    bot = Assistant(corpus, tmp_path / "index")
    before = bot.index
    read = []
    original = ingest_module.read_article_bytes

    def reading(path, **kwargs):
        read.append(path.name)
        return original(path, **kwargs)

    monkeypatch.setattr(ingest_module, "read_article_bytes", reading)
    upload = tmp_path / "observatory.txt"
    upload.write_text(OBSERVATORY, encoding="utf-8")
    message, doc = add_article(bot, upload, bot.uploads)
    assert doc is not None, message
    assert read == ["observatory.txt"]  # not the corpus's files
    assert len(bot.documents()) == 3
    answer = bot.ask("How many staff did the Zorvanek observatory open with?")
    assert answer.citations and answer.citations[0].doc_id == doc.doc_id
    assert "212 staff" in answer.citations[0].text
    # Made from the last index (its saved vectors shared), not loaded again.
    assert bot.index.sentence_matrix.base is before.sentence_matrix.base

    # Saved in the background for the next process, which opens it without rebuilding.
    bot.wait_until_saved()
    again = Assistant(corpus, tmp_path / "index", ingest=False)
    assert list(again.index.documents) == list(bot.index.documents)
    assert again.ask("How many staff did the Zorvanek observatory open with?").citations[0].doc_id \
        == doc.doc_id
    with pytest.raises(ValueError, match="prune"):
        bot.ingest(only=[bot.uploads], prune=True)


def test_listing_the_articles_of_a_large_store_reads_it_in_pages(tmp_path):
    """40,000 chunks: one `get` of all their metadata exceeds SQLite's variable limit inside
    Chroma ("too many SQL variables"), which is what a resumed ingest at 10,000 articles met."""
    import chromadb

    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=chroma_settings())
    store = ChromaStore(client, Settings())
    rng = np.random.default_rng(0)
    for start in range(0, 40_000, 5_000):
        chunks = [Chunk(f"d{i // 10}:{i % 10}", f"d{i // 10}", i % 10, i % 10, "t", 1)
                  for i in range(start, start + 5_000)]
        store.upsert(chunks, rng.normal(size=(5_000, 4)).astype(np.float32))
    assert store.count() == 40_000
    assert store.doc_ids() == {f"d{i}" for i in range(4_000)}
    assert store.doc_ids(page=7_000) == {f"d{i}" for i in range(4_000)}


def test_a_few_articles_are_searched_exactly_by_their_chunk_vectors(tmp_path):
    """Asking about a few articles compares the query with their chunks' stored vectors: the
    same chunks, in the same order, as Chroma's filtered search, without its metadata scan."""
    import chromadb

    from assistant.retrieval import exact_search

    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=chroma_settings())
    store = ChromaStore(client, Settings())
    rng = np.random.default_rng(5)
    chunks = [Chunk(f"d{d}:{i}", f"d{d}", i, i, "t", 1) for d in range(50) for i in range(8)]
    vectors = rng.normal(size=(len(chunks), 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store.upsert(chunks, vectors)
    query = rng.normal(size=16).astype(np.float32)
    mine = [c.chunk_id for c in chunks if c.doc_id in {"d3", "d40"}]
    exact = exact_search(query, store.vectors(mine), 5)
    filtered = store.search(query, 5, {"d3", "d40"})
    assert [c for c, _ in exact] == [c for c, _ in filtered]
    assert np.allclose([s for _, s in exact], [s for _, s in filtered], atol=1e-4)
    assert exact_search(query, {}, 5) == []


def test_a_failure_between_the_batch_write_and_the_catalog_commits_is_mended_by_the_next_ingest(
        tmp_path, monkeypatch):
    """Ingest writes a batch's chunks to the store in one call, then commits each document to the
    catalog. Fail the second commit: the store holds chunks of documents the catalog lacks, no
    question reaches them, and the next ingest removes them and ends like an uninterrupted one."""
    import shutil

    from conftest import DATA, SEED

    from assistant import Assistant
    from assistant.catalog import Catalog

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / "seed.txt")
    shutil.copy(DATA / "articles" / "harbour-bridge.txt", corpus / "bridge.txt")
    (corpus / "observatory.txt").write_text(OBSERVATORY, encoding="utf-8")
    reference = Assistant(corpus, tmp_path / "reference")

    original, commits = Catalog.add_document, []

    def failing(self, *args, **kwargs):
        if commits:
            raise OSError("disk full")
        commits.append(args[0].doc_id)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Catalog, "add_document", failing)
    with pytest.raises(OSError, match="disk full"):
        Assistant(corpus, tmp_path / "index")
    monkeypatch.setattr(Catalog, "add_document", original)

    broken = Assistant(corpus, tmp_path / "index", ingest=False)
    assert [d.doc_id for d in broken.documents()] == commits
    assert broken.store.doc_ids() > set(broken.index.documents)  # chunks the catalog lacks
    answer = broken.ask("How many staff did the Zorvanek observatory open with?")
    assert all(c.doc_id in broken.index.documents for c in answer.citations)
    broken.catalog.close()

    mended = Assistant(corpus, tmp_path / "index")
    assert set(mended.index.documents) == set(reference.index.documents)
    assert mended.store.doc_ids() == set(mended.index.documents)
    assert mended.store.count() == reference.store.count()
    assert "212 staff" in mended.ask(
        "How many staff did the Zorvanek observatory open with?").citations[0].text
