"""Where the heavy steps of a build run (reading, chunking, embedding): the engine seam, the
local engine, and what every engine hands back (the corpus a batch of releases at a time, the
vectors in input order)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from qa import store
from qa.chunking import Chunk, ChunkingParams, chunk_release
from qa.config import Settings
from qa.corpus import DEFAULT_LIMITS, Limits, LoadResult, Problem, Release
from qa.survey import Shard, survey_corpus

if TYPE_CHECKING:
    import numpy as np

    from qa.embedding import Encoder

Progress = Callable[[str, int, int], None]  # (stage, done, total)
Spans = list[tuple[int, int]]
# (rows of the texts handed in, their vectors, each one's span vectors), after each batch
OnBatch = Callable[[list[int], "np.ndarray", list["np.ndarray"]], None]
Batch = list[tuple[Release, list[Chunk]]]  # releases and their chunks, written together
# Releases read, chunked, embedded and written at once (about 3,000 chunks of DOJ releases):
# what a build holds of the corpus at a time.
BATCH_RELEASES = 500


@dataclass
class Corpus:
    """The releases a build indexes: their hashes, known before anything is written, and their
    chunks, a batch of releases at a time."""

    files: int
    problems: list[Problem]
    hashes: dict[str, str]  # release id -> ``store.release_hash``, in corpus order
    batches: Iterable[Batch]

    @classmethod
    def loaded(cls, loaded: LoadResult, per_release: list[list[Chunk]]) -> Corpus:
        """A corpus already in memory, as one batch."""
        hashes = {r.id: store.release_hash(r) for r in loaded.releases}
        batch = list(zip(loaded.releases, per_release, strict=True))
        return cls(loaded.files, loaded.problems, hashes, [batch])


class BuildEngine(Protocol):
    """Where the heavy steps of a build run: this process or a Ray cluster.

    Everything else (the embedding cache, writing, publishing) stays with the caller, so every
    engine writes the same index.
    """

    @property
    def max_tokens(self) -> int:
        """The encoder's token limit, which caps the chunk size."""
        ...

    def load(
        self, paths: Sequence[Path], params: ChunkingParams, progress: Progress | None
    ) -> Corpus:
        """Read the releases under ``paths``; their chunks come in ``Corpus.batches``."""
        ...

    def embed(
        self,
        texts: list[str],
        spans: list[Spans],
        lengths: list[int],
        progress: Progress | None,
        on_batch: OnBatch | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embed the texts the cache lacks and their unit spans (see ``collect_batches``)."""
        ...

    def close(self) -> None:
        """Release what the engine holds (a Ray instance it started)."""
        ...


class LocalEngine:
    """Load, chunk and embed in this process."""

    def __init__(
        self,
        encoder: Encoder,
        batch_size: int,
        limits: Limits = DEFAULT_LIMITS,
        shard: Shard | None = None,
    ) -> None:
        self.encoder = encoder
        self.batch_size = batch_size
        self.limits = limits
        self.shard = shard

    @property
    def max_tokens(self) -> int:
        """The encoder's token limit."""
        return self.encoder.max_tokens

    def load(
        self, paths: Sequence[Path], params: ChunkingParams, progress: Progress | None
    ) -> Corpus:
        """Survey the corpus now; read and chunk it again a batch at a time as the build
        asks for the batches."""
        surveyed = survey_corpus(paths, self.limits, self.shard)

        def batches() -> Iterator[Batch]:
            batch: Batch = []
            for n, release in enumerate(surveyed.releases(), 1):
                batch.append((release, chunk_release(release, self.encoder.count_tokens, params)))
                if progress:
                    progress("chunk", n, len(surveyed.hashes))
                if len(batch) == BATCH_RELEASES:
                    yield batch
                    batch = []
            if batch:
                yield batch

        return Corpus(surveyed.files, surveyed.problems, surveyed.hashes, batches())

    def embed(
        self,
        texts: list[str],
        spans: list[Spans],
        lengths: list[int],
        progress: Progress | None,
        on_batch: OnBatch | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embed with the encoder, longest texts first."""
        return embed_sorted(
            self.encoder, texts, spans, lengths, self.batch_size, progress, on_batch
        )

    def close(self) -> None:
        """Nothing to release."""


def default_encoder(settings: Settings) -> Encoder:
    """Return the shared encoder for the configured model and backend."""
    from qa.embedding import get_encoder

    onnx_dir = settings.onnx_dir if str(settings.onnx_dir) not in ("", ".") else None
    return get_encoder(
        settings.model_id, settings.resolved_model_path(), settings.backend, onnx_dir
    )


def engine_for(settings: Settings, encoder: Encoder | None = None) -> BuildEngine:
    """Return the engine ``settings.build_engine`` names (an encoder applies to the local one)."""
    if settings.build_engine == "ray":
        if encoder is not None:
            raise ValueError("an encoder instance runs locally: pass engine=RayEngine(...)")
        from qa.ray_engine import RayEngine

        return RayEngine(settings)
    return LocalEngine(
        encoder or default_encoder(settings),
        settings.batch_size,
        settings.corpus_limits(),
        Shard.parse(settings.shard),
    )


def embed_sorted(
    encoder: Encoder,
    texts: list[str],
    spans: list[Spans],
    lengths: list[int],
    batch_size: int,
    progress: Progress | None = None,
    on_batch: OnBatch | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Embed texts and their unit spans in batches of similar length (less padding)."""
    order = sorted(range(len(texts)), key=lambda i: -lengths[i])
    step = max(1, batch_size * 4)

    def batches() -> Iterable[tuple[list[int], np.ndarray, list[np.ndarray]]]:
        for begin in range(0, len(order), step):
            rows = order[begin : begin + step]
            vectors, span_vectors = encoder.encode_spans(
                [texts[i] for i in rows], [spans[i] for i in rows], batch_size=batch_size
            )
            yield rows, vectors, span_vectors

    return collect_batches(len(texts), encoder.dimension, batches(), progress, on_batch)


def collect_batches(
    total: int,
    dimension: int,
    batches: Iterable[tuple[list[int], np.ndarray, list[np.ndarray]]],
    progress: Progress | None = None,
    on_batch: OnBatch | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Put embedded batches (rows, text vectors, span vectors), in any order, in input order.

    Returns the text vectors in input order and the span vectors of all texts, stacked in
    input order.
    """
    import numpy as np

    out: np.ndarray | None = None
    per_text: list[np.ndarray | None] = [None] * total
    done = 0
    for rows, vectors, span_vectors in batches:
        if out is None:
            # The encoder knows its dimension for sure only once its model has loaded.
            out = np.zeros((total, vectors.shape[1]), dtype=np.float32)
        out[rows] = vectors
        for i, unit_rows in zip(rows, span_vectors, strict=True):
            per_text[i] = unit_rows
        if on_batch:
            on_batch(rows, vectors, span_vectors)
        done += len(rows)
        if progress:
            progress("embed", done, total)
    if out is None:
        return np.zeros((0, dimension), np.float32), np.zeros((0, dimension))
    return out, np.vstack([r for r in per_text if r is not None])
