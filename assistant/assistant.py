"""The facade: wires ingest, retrieval and answering into one LCEL chain; owns nothing else."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableLambda

from .answering.analysis import without_frame
from .answering.answerer import Answerer, Evidence, TokenSink
from .answering.cross_encoder import CrossCheck
from .answering.extractive import ExtractiveAnswerer
from .answering.llm import FALLBACK, LLMAnswerer
from .answering.model import ReaderModel
from .answering.query import Query
from .answering.wordsim import WordVectors, common_vocabulary
from .catalog import Catalog
from .conversation import Standalone, condense, normalise_history
from .embeddings import Embedder
from .errors import LLMUnavailable
from .index import CorpusIndex
from .ingest import IngestReport, check_compatible, ingest, opening_lock
from .removal import Removal, find_article, remove_article
from .retrieval import HybridRetriever, passages_from
from .settings import Settings
from .store import open_store
from .text import match_words
from .types import Answer, Document, Passage

PathLike = str | Path


class Assistant:
    """Ask questions about the articles of a corpus; every answer cites its sentences."""

    def __init__(self, corpus: PathLike | list[PathLike] | None = None,
                 index_dir: PathLike | None = None, *, settings: Settings | None = None,
                 ingest: bool = True, rebuild: bool = False, prune: bool = False,
                 progress: bool | None = None, chat_model: Any = None, **overrides: Any):
        """`chat_model`: a LangChain chat model to use in llm mode instead of the one settings name.

        `ingest` brings the index in line with the corpus first; `rebuild` embeds every article
        anew (after a model change); `prune` removes indexed articles whose files are not in the
        corpus (never done otherwise).
        """
        base = settings or Settings.load()
        if index_dir is not None:
            overrides["index_dir"] = index_dir
        self.settings = base.replace(**overrides) if overrides else base
        if self.settings.numpy_blas_threads > 0:
            limit_numpy_blas(self.settings.numpy_blas_threads)
        if corpus is None:
            corpus = self.settings.corpus_dir
        self.corpus = [Path(p) for p in (corpus if isinstance(corpus, list | tuple) else [corpus])]
        self.uploads: Path | None = None
        if self.settings.include_uploads:
            self.uploads = self.settings.uploads_path
            self.uploads.mkdir(parents=True, exist_ok=True)
            if all(p.resolve() != self.uploads.resolve() for p in self.corpus):
                self.corpus.append(self.uploads)
        self.index_path = self.settings.index_path
        self.embedder = Embedder(self.settings.embedding_model,
                                 batch_size=self.settings.embedding_batch_size,
                                 runtime=self.settings.embedding_runtime,
                                 export_dir=self.settings.model_cache_path)
        # Kept across index reloads: a word's vector does not depend on the corpus.
        vocabulary = common_vocabulary(self.embedder.path, self.embedder.identity,
                                       self.settings.model_cache_path, self.embedder.encode)
        self.word_vectors = WordVectors(self.embedder.encode, vocabulary)
        # Real words, whatever the articles hold: never taken for a misspelling (index.respell).
        self._model_words = frozenset(vocabulary)
        self.reader = ReaderModel.load()
        self.cross_check = CrossCheck.load() if self.settings.cross_encoder else None
        self._encoding = ThreadPoolExecutor(max(2, os.cpu_count() or 2),
                                            thread_name_prefix="ask-encode")
        # Two processes opening a new index at once would both create Chroma's tables.
        with opening_lock(self.index_path):
            self.catalog = Catalog(self.index_path / "catalog.sqlite3")
            if not rebuild:
                check_compatible(self.catalog, self.embedder, self.settings)
            self.store = open_store(self.settings, self.index_path)
        self.last_ingest: IngestReport | None = None
        self._chat_model = chat_model
        self.llm: LLMAnswerer | None = None
        if ingest or rebuild or prune:
            self.ingest(rebuild=rebuild, prune=prune, progress=progress)
        else:
            self._load_index()
        # Plain steps over one typed Turn: RunnablePassthrough.assign would run each through a
        # thread pool, ~1.5 ms of a ~10 ms ask.
        self.chain = (RunnableLambda(self._condense_step, name="condense")
                      | RunnableLambda(self._retrieve_step, name="retrieve")
                      | RunnableLambda(self._answer_step, name="answer"))

    @classmethod
    def from_corpus(cls, corpus: PathLike | list[PathLike] | None = None,
                    index_dir: PathLike | None = None, **overrides: Any) -> Assistant:
        """Ingest (or update) the corpus into the index, then be ready to answer."""
        return cls(corpus, index_dir, **overrides)

    # ingest
    def ingest(self, *, rebuild: bool = False, prune: bool = False,
               progress: bool | None = None, only: list[PathLike] | None = None) -> IngestReport:
        """Add new and changed articles; remove those whose files are gone only if `prune`.

        `only`: read just these folders (an upload reads the uploads folder, not 10,000 corpus
        files); the articles of the others stay as they are.
        """
        if only and prune:  # pruning against a part of the corpus would drop the rest of it
            raise ValueError("prune reads the whole corpus; it cannot be combined with only")
        roots = [Path(p) for p in only] if only else self.corpus
        report = ingest(roots, self.catalog, self.store, self.embedder, self.settings,
                        self.index_path, rebuild=rebuild, prune=prune,
                        may_be_empty=(self.uploads,) if self.uploads else (), progress=progress)
        self.last_ingest = report
        if report.changed or not hasattr(self, "index"):
            self._load_index(changed=not rebuild)
        return report

    def _load_index(self, *, changed: bool = False) -> None:
        """Load the index, or (`changed`: after this process changed the catalog) make it from
        the current one: an upload to 10,000 articles reads, tokenises and counts that article,
        not the corpus. The new index is saved for the next process in the background."""
        previous = getattr(self, "index", None)
        if changed and previous is not None:
            index = previous.updated(self.catalog)
            self.wait_until_saved()  # one save at a time, the newest last
            self._saving = threading.Thread(target=index.save_current, args=(self.catalog,),
                                            name="index-save")
            self._saving.start()
        else:
            index = CorpusIndex.load(self.catalog, self.embedder.dimension)
        self.word_vectors.add(self.catalog.load_word_vectors(self.embedder.dimension,
                                                             skip=self.word_vectors.known()))
        self.retriever = HybridRetriever(
            index=index, store=self.store, embedder=self.embedder, top_k=self.settings.top_k,
            dense_k=self.settings.dense_k, bm25_k=self.settings.bm25_k, rrf_k=self.settings.rrf_k)
        self.answerer = ExtractiveAnswerer(index, model=self.reader,
                                           threshold=self.settings.abstain_threshold,
                                           max_citations=self.settings.max_citations,
                                           word_vectors=self.word_vectors,
                                           cross_check=self.cross_check)
        if self.settings.answer_mode == "llm":
            self.llm = LLMAnswerer(self.settings, index, self.embedder.encode, self.answerer,
                                   self._chat_model)
        self.index = index  # swapped last, so a concurrent ask sees one consistent index

    def wait_until_saved(self) -> None:
        """Return once the index made by the last change is saved for the next process."""
        saving = getattr(self, "_saving", None)
        if saving is not None:
            saving.join()

    def documents(self) -> list[Document]:
        return list(self.index.documents.values())

    def article(self, which: str) -> Document:
        """The indexed article with this id (or a 6+ character id prefix) or exact title."""
        return find_article(self.documents(), which)

    def remove(self, which: str) -> Removal:
        """Remove one article (by id or title) from the index; delete it if it was uploaded.

        A file in a corpus folder is never deleted: it stays out of the index until it changes.
        Raises ArticleNotFound for an unknown or ambiguous id or title.
        """
        removal = remove_article(self.article(which), self.catalog, self.store, self.index_path,
                                 self.settings.uploads_path)
        self._load_index(changed=True)
        return removal

    # asking
    def ask(self, question: str, history: list[dict[str, Any]] | None = None, *,
            doc_ids: list[str] | None = None, use_llm: bool = True) -> Answer:
        """Answer one question; `history` is the conversation so far in role/content messages.

        `use_llm=False` answers extractively even in llm mode (cheap checks such as suggestions).
        """
        return self._ask(question, history, doc_ids, None, use_llm=use_llm)

    def stream(self, question: str, history: list[dict[str, Any]] | None = None, *,
               doc_ids: list[str] | None = None) -> Iterator[str | Answer]:
        """Like `ask`, but yields the LLM's reply as it comes (str pieces), then the final Answer.

        The pieces are the model's raw words; the Answer is what verification kept, and is what
        should replace them on screen. In extractive mode only the Answer is yielded.
        """
        if self.llm is None:
            yield self.ask(question, history, doc_ids=doc_ids)
            return
        events: queue.Queue = queue.Queue()

        def work() -> None:
            try:
                events.put(self._ask(question, history, doc_ids, events.put))
            except BaseException as exc:  # noqa: BLE001  (re-raised in the caller's thread)
                events.put(exc)

        threading.Thread(target=work, name="assistant-stream", daemon=True).start()
        while True:
            item = events.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if isinstance(item, Answer):
                return

    def _ask(self, question: str, history: list[dict[str, Any]] | None, doc_ids: list[str] | None,
             on_token: TokenSink | None, *, use_llm: bool = True) -> Answer:
        started = time.perf_counter()
        cleaned, problem = self._check_question(question)
        if problem:
            return Answer(question=str(question)[:200], text=problem, abstained=True, error=problem,
                          timings={"total_ms": _ms(started)})
        answer: Answer = self.chain.invoke(Turn(
            question=cleaned, history=normalise_history(history),
            doc_ids=set(doc_ids) if doc_ids else None, on_token=on_token,
            llm=self.llm if use_llm else None))
        answer.timings["total_ms"] = _ms(started)
        return answer

    def prepare(self, question: str, history: list[dict[str, Any]] | None = None
                ) -> tuple[Query, list[Passage]]:
        """What an ask hands the offline answerer: the question made standalone from its history,
        respelt and split into parts, and the passages retrieved for it (for evaluation scripts
        that read those themselves)."""
        turn = self._retrieve_step(self._condense_step(
            Turn(question=question, history=normalise_history(history))))
        return turn.query, turn.passages

    def _check_question(self, question: Any) -> tuple[str, str | None]:
        if not isinstance(question, str):
            return "", "Please ask a question as text."
        # Lone surrogates and control characters cannot be encoded or matched; drop them.
        cleaned = question.encode("utf-8", "ignore").decode("utf-8")
        cleaned = "".join(ch for ch in cleaned if ch.isprintable() or ch in " \t\n").strip()
        cleaned = " ".join(cleaned.split())
        if not cleaned:
            return "", "Please type a question."
        if len(cleaned) > self.settings.max_question_chars:
            return "", (f"That question is {len(cleaned):,} characters long; please keep it under "
                        f"{self.settings.max_question_chars:,}.")
        return cleaned, None

    def _condense_step(self, turn: Turn) -> Turn:
        t = time.perf_counter()
        standalone = None
        if turn.llm is not None and turn.history:
            try:
                standalone = Standalone(turn.llm.condense(turn.question, turn.history))
            except LLMUnavailable as exc:  # the answer step then skips the model: one wait, not two
                turn.llm_failed = f"{exc}{FALLBACK}"
        if standalone is None:
            standalone = condense(turn.question, turn.history)
        turn.standalone = Standalone(self.index.respell(standalone.text, self._model_words),
                                     standalone.borrowed)
        turn.query = Query.build(turn.standalone.text, turn.standalone.borrowed)
        turn.timings["condense_ms"] = _ms(t)
        return turn

    def _retrieve_step(self, turn: Turn) -> Turn:
        t = time.perf_counter()
        extras = self._encode_extras(turn.query)
        docs = self.retriever.invoke(turn.query.full_text, doc_ids=turn.doc_ids)
        if extras is not None:
            extras.result()
        turn.timings["retrieve_ms"] = _ms(t)
        turn.passages = passages_from(docs)
        return turn

    def _encode_extras(self, query: Query) -> Future | None:
        """Start encoding what the answerer will need besides the question itself: its parts (if
        several) and its words without a vector yet. It runs beside retrieval's own encoding of
        the question (onnxruntime leaves the GIL; on two cores the two runs overlap), in a
        separate run because padding short words to the question's length would cost more."""
        parts = [p.full_text for p in query.parts] if len(query.parts) > 1 else []
        texts = [p for p in dict.fromkeys(parts) if not self.embedder.cached(p)]
        missing = self.word_vectors.missing(match_words(without_frame(query.text)))
        if not texts and not missing:
            return None

        def work() -> None:
            if texts:
                for text, vector in zip(texts, self.embedder.encode(texts), strict=True):
                    self.embedder.remember(text, vector)
            if missing:
                self.word_vectors.remember(dict(zip(missing, self.embedder.encode(missing),
                                                    strict=True)))
        return self._encoding.submit(work)

    def part_vectors(self, query: Query) -> list:
        """The embedding each part of the query is read with (the whole question for one part)."""
        if len(query.parts) == 1:
            return [self.embedder.query(query.full_text)]
        return [self.embedder.query(p.full_text) for p in query.parts]

    def _answer_step(self, turn: Turn) -> Answer:
        # The LLM answers unless it was not asked for, or already failed rewriting the follow-up.
        answerer: Answerer = self.answerer if turn.llm is None or turn.llm_failed else turn.llm
        t = time.perf_counter()
        draft = answerer.answer(turn.query, Evidence(turn.passages, self.part_vectors(turn.query)),
                                turn.on_token)
        turn.timings["answer_ms"] = _ms(t)
        turn.timings.update(draft.timings)
        return Answer(question=turn.question, text=draft.text, citations=draft.citations,
                      abstained=draft.abstained, standalone_question=str(turn.standalone),
                      passages=turn.passages, timings=turn.timings, mode=draft.mode,
                      confidence=draft.confidence, notice=draft.notice or turn.llm_failed,
                      verification=draft.verification)


@dataclass
class Turn:
    """One question on its way through the chain: what came in, and what each step added."""

    question: str
    history: list[dict[str, str]]
    doc_ids: set[str] | None = None
    llm: LLMAnswerer | None = None
    on_token: TokenSink | None = None
    timings: dict[str, float] = field(default_factory=dict)
    standalone: Standalone | None = None
    query: Query | None = None
    passages: list[Passage] = field(default_factory=list)
    llm_failed: str | None = None  # why the model was given up on, shown as the answer's notice


def limit_numpy_blas(threads: int) -> None:
    """Let numpy's bundled BLAS use at most `threads` threads (in this whole process); other BLAS
    libraries (torch's, if loaded) are left alone."""
    from threadpoolctl import ThreadpoolController

    for lib in ThreadpoolController().lib_controllers:
        # numpy's wheels keep their OpenBLAS in numpy.libs (numpy/.dylibs on macOS).
        if lib.user_api == "blas" and "numpy" in str(Path(lib.filepath).parent):
            lib.set_num_threads(threads)


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
