"""The facade: wires ingest, retrieval and answering into one LCEL chain; owns nothing else."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from .answering.analysis import split_parts
from .answering.extractive import ExtractiveAnswerer
from .catalog import Catalog
from .conversation import condense, normalise_history
from .embeddings import Embedder
from .index import CorpusIndex
from .ingest import IngestReport, check_compatible, ingest
from .retrieval import HybridRetriever
from .settings import Settings
from .store import open_store
from .types import Answer, Document, Passage

PathLike = str | Path


class Assistant:
    """Ask questions about the articles of a corpus; every answer cites its sentences."""

    def __init__(self, corpus: PathLike | list[PathLike] | None = None,
                 index_dir: PathLike | None = None, *, settings: Settings | None = None,
                 ingest: bool = True, progress: bool | None = None, **overrides: Any):
        base = settings or Settings.load()
        if index_dir is not None:
            overrides["index_dir"] = index_dir
        self.settings = base.replace(**overrides) if overrides else base
        if corpus is None:
            corpus = self.settings.corpus_dir
        self.corpus = [Path(p) for p in (corpus if isinstance(corpus, list | tuple) else [corpus])]
        self.index_path = self.settings.index_path
        self.embedder = Embedder(self.settings.embedding_model,
                                 batch_size=self.settings.embedding_batch_size)
        self.catalog = Catalog(self.index_path / "catalog.sqlite3")
        check_compatible(self.catalog, self.embedder, self.settings)
        self.store = open_store(self.settings, self.index_path)
        self.last_ingest: IngestReport | None = None
        if ingest:
            self.ingest(progress=progress)
        else:
            self._load_index()
        self.chain = (
            RunnablePassthrough.assign(standalone=RunnableLambda(self._condense_step))
            | RunnablePassthrough.assign(passages=RunnableLambda(self._retrieve_step))
            | RunnableLambda(self._answer_step)
        )

    @classmethod
    def from_corpus(cls, corpus: PathLike | list[PathLike] | None = None,
                    index_dir: PathLike | None = None, **overrides: Any) -> Assistant:
        """Ingest (or update) the corpus into the index, then be ready to answer."""
        return cls(corpus, index_dir, **overrides)

    # ingest
    def ingest(self, *, rebuild: bool = False, progress: bool | None = None) -> IngestReport:
        report = ingest(self.corpus, self.catalog, self.store, self.embedder, self.settings,
                        self.index_path, rebuild=rebuild, progress=progress)
        self.last_ingest = report
        if report.changed or not hasattr(self, "index"):
            self._load_index()
        return report

    def _load_index(self) -> None:
        index = CorpusIndex.load(self.catalog, self.embedder.dimension)
        self.retriever = HybridRetriever(
            index=index, store=self.store, embedder=self.embedder, top_k=self.settings.top_k,
            dense_k=self.settings.dense_k, bm25_k=self.settings.bm25_k, rrf_k=self.settings.rrf_k)
        self.answerer = ExtractiveAnswerer(index, threshold=self.settings.abstain_threshold,
                                           max_citations=self.settings.max_citations)
        self.index = index  # swapped last, so a concurrent ask sees one consistent index

    def documents(self) -> list[Document]:
        return list(self.index.documents.values())

    # asking
    def ask(self, question: str, history: list[dict[str, Any]] | None = None, *,
            doc_ids: list[str] | None = None) -> Answer:
        """Answer one question; `history` is the conversation so far in role/content messages."""
        started = time.perf_counter()
        cleaned, problem = self._check_question(question)
        if problem:
            return Answer(question=str(question)[:200], text=problem, abstained=True, error=problem,
                          timings={"total_ms": _ms(started)})
        state = self.chain.invoke({"question": cleaned, "history": normalise_history(history),
                                   "doc_ids": set(doc_ids) if doc_ids else None, "timings": {}})
        answer: Answer = state
        answer.timings["total_ms"] = _ms(started)
        return answer

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

    def _condense_step(self, state: dict) -> str:
        t = time.perf_counter()
        standalone = condense(state["question"], state["history"])
        state["timings"]["condense_ms"] = _ms(t)
        return standalone

    def _retrieve_step(self, state: dict) -> list[Passage]:
        t = time.perf_counter()
        docs = self.retriever.invoke(state["standalone"], doc_ids=state["doc_ids"])
        state["timings"]["retrieve_ms"] = _ms(t)
        return [Passage(chunk_id=d.metadata["chunk_id"], doc_id=d.metadata["doc_id"],
                        title=d.metadata["title"], first_sentence=d.metadata["first_sentence"],
                        last_sentence=d.metadata["last_sentence"], text=d.page_content,
                        score=round(float(d.metadata["score"]), 5)) for d in docs]

    def _answer_step(self, state: dict) -> Answer:
        t = time.perf_counter()
        standalone = state["standalone"]
        parts = split_parts(standalone)
        part_vectors = [self.embedder.query(p) for p in parts] if len(parts) > 1 else None
        said = " ".join(t["content"] for t in state["history"] if t["role"] == "assistant")
        draft = self.answerer.answer(standalone, self.embedder.query(standalone), state["passages"],
                                     part_vectors, said)
        state["timings"]["answer_ms"] = _ms(t)
        return Answer(question=state["question"], text=draft.text, citations=draft.citations,
                      abstained=draft.abstained, standalone_question=standalone,
                      passages=state["passages"], timings=state["timings"],
                      mode=self.answerer.name, confidence=draft.confidence)


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
