"""Build the index from the corpus: load, chunk, embed, write, publish; one writer at a time."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qa import store
from qa.chunking import (
    Chunk,
    ChunkingParams,
    chunk_context,
    chunk_hash,
    chunk_release,
    context_length,
    embed_text,
)
from qa.config import Settings
from qa.corpus import Problem, load_releases
from qa.errors import CorpusError, IndexBusy

if TYPE_CHECKING:
    import numpy as np

    from qa.embedding import Encoder

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class BuildSummary:
    """What a rebuild did."""

    build_id: str
    releases: int
    chunks: int
    files: int
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    added: int = 0  # releases new since the previous build
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0  # chunks run through the model
    reused: int = 0  # chunks whose vectors came from the cache


def default_encoder(settings: Settings) -> Encoder:
    """Return the shared encoder for the configured model and backend."""
    from qa.embedding import get_encoder

    onnx_dir = settings.onnx_dir if str(settings.onnx_dir) not in ("", ".") else None
    return get_encoder(
        settings.model_id, settings.resolved_model_path(), settings.backend, onnx_dir
    )


def rebuild_index(
    settings: Settings,
    encoder: Encoder | None = None,
    progress: Progress | None = None,
    full: bool = False,
) -> BuildSummary:
    """Rebuild the index of ``settings.corpus`` into ``settings.index_dir`` and publish it.

    Chunks whose vectors an earlier build computed are not embedded again unless ``full``.
    """
    from filelock import FileLock, Timeout

    started = time.perf_counter()
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.index_dir / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise IndexBusy(
            f"another `qa rebuild-index` is writing {settings.index_dir}/ (lock "
            f"{settings.index_dir}/.lock): wait for it to finish"
        ) from None
    try:
        return _rebuild(settings, encoder or default_encoder(settings), progress, started, full)
    finally:
        lock.release()


def _rebuild(
    settings: Settings, encoder: Encoder, progress: Progress | None, started: float, full: bool
) -> BuildSummary:
    loaded = load_releases(settings.corpus)
    if not loaded.releases:
        where = ", ".join(str(p) for p in settings.corpus)
        reasons = "; ".join(f"{p.path}: {p.reason}" for p in loaded.problems[:5])
        raise CorpusError(f"no readable releases in {where}" + (f" ({reasons})" if reasons else ""))
    params = ChunkingParams(
        max_tokens=min(settings.chunk_tokens, encoder.max_tokens),
        overlap=settings.chunk_overlap,
        context=settings.chunk_context,
    )
    chunks: list[Chunk] = []
    titles: list[str] = []
    contexts: list[str] = []
    for n, release in enumerate(loaded.releases, 1):
        for chunk in chunk_release(release, encoder.count_tokens, params):
            chunks.append(chunk)
            titles.append(release.title)
            contexts.append(chunk_context(release, params))
        if progress:
            progress("chunk", n, len(loaded.releases))
    texts = [embed_text(x, c.text) for x, c in zip(contexts, chunks, strict=True)]
    spans = [
        [
            (
                u.start - c.start + context_length(x),
                u.end - c.start + context_length(x),
            )
            for u in c.units
        ]
        for x, c in zip(contexts, chunks, strict=True)
    ]
    keys = [
        chunk_hash(settings.model_id, params, f"{text}\x00{span}")
        for text, span in zip(texts, spans, strict=True)
    ]
    previous = store.live_release_hashes(settings.index_dir)
    cache = store.EmbeddingCache(settings.index_dir / "embeddings.sqlite")
    try:
        cached = {} if full else cache.get_many(keys)
        todo = [i for i, key in enumerate(keys) if key not in cached]
        fresh_vectors, fresh_units = embed_sorted(
            encoder,
            [texts[i] for i in todo],
            [spans[i] for i in todo],
            [chunks[i].tokens for i in todo],
            settings.batch_size,
            progress,
            on_batch=lambda rows, vecs, units: cache.put_many(
                [(keys[todo[r]], v, u) for r, v, u in zip(rows, vecs, units, strict=True)]
            ),
        )
        vectors, unit_vectors = _assemble(chunks, keys, cached, todo, fresh_vectors, fresh_units)
        manifest = store.write_build(
            settings.index_dir,
            loaded.releases,
            chunks,
            vectors,
            unit_vectors,
            model=settings.model_id,
            params=params,
            lexical_texts=[f"{t}\n{c.text}" for t, c in zip(titles, chunks, strict=True)],
            flat_max=settings.flat_max_vectors,
        )
        cache.keep_only(keys)
    finally:
        cache.close()
    current = {r.id: store.release_hash(r) for r in loaded.releases}
    return BuildSummary(
        build_id=manifest.build_id,
        releases=manifest.releases,
        chunks=manifest.chunks,
        files=loaded.files,
        problems=loaded.problems,
        seconds=time.perf_counter() - started,
        added=sum(1 for r in current if r not in previous),
        changed=sum(1 for r, h in current.items() if r in previous and previous[r] != h),
        removed=sum(1 for r in previous if r not in current),
        unchanged=sum(1 for r, h in current.items() if previous.get(r) == h),
        embedded=len(todo),
        reused=len(chunks) - len(todo),
    )


def _assemble(
    chunks: list[Chunk],
    keys: list[str],
    cached: dict[str, tuple[np.ndarray, np.ndarray]],
    todo: list[int],
    fresh_vectors: np.ndarray,
    fresh_units: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Put cached and freshly computed vectors together in chunk order."""
    import numpy as np

    fresh_rows = {i: n for n, i in enumerate(todo)}
    unit_starts = np.concatenate([[0], np.cumsum([len(chunks[i].units) for i in todo])])
    vectors, units = [], []
    for i, key in enumerate(keys):
        if i in fresh_rows:
            n = fresh_rows[i]
            vectors.append(fresh_vectors[n])
            units.append(fresh_units[unit_starts[n] : unit_starts[n + 1]])
        else:
            vectors.append(cached[key][0])
            units.append(cached[key][1])
    return np.vstack(vectors), np.vstack(units)


def embed_sorted(
    encoder: Encoder,
    texts: list[str],
    spans: list[list[tuple[int, int]]],
    lengths: list[int],
    batch_size: int,
    progress: Progress | None = None,
    on_batch: Callable[[list[int], np.ndarray, list[np.ndarray]], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Embed texts and their unit spans in batches of similar length (less padding).

    Returns the text vectors in input order and the span vectors of all texts, stacked in
    input order.
    """
    import numpy as np

    order = sorted(range(len(texts)), key=lambda i: -lengths[i])
    out: np.ndarray | None = None
    per_text: list[np.ndarray | None] = [None] * len(texts)
    step = max(1, batch_size * 4)
    for begin in range(0, len(order), step):
        batch = order[begin : begin + step]
        vectors, span_vectors = encoder.encode_spans(
            [texts[i] for i in batch], [spans[i] for i in batch], batch_size=batch_size
        )
        if out is None:
            out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
        out[batch] = vectors
        for i, rows in zip(batch, span_vectors, strict=True):
            per_text[i] = rows
        if on_batch:
            on_batch(batch, vectors, span_vectors)
        if progress:
            progress("embed", min(begin + step, len(order)), len(order))
    if out is None:
        return np.zeros((0, encoder.dimension), np.float32), np.zeros((0, encoder.dimension))
    return out, np.vstack([r for r in per_text if r is not None])
