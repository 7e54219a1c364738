"""Build the index from the corpus, one writer at a time: take the lock, have the engine load,
chunk and embed (``build_engines``) what the embedding cache lacks, write, publish."""

from __future__ import annotations

import errno
import shutil
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qa import store
from qa.build_engines import Batch, BuildEngine, Corpus, Progress, engine_for
from qa.chunking import Chunk, ChunkingParams, chunk_context, chunk_hash, context_length, embed_text
from qa.config import Settings
from qa.corpus import Problem
from qa.embedding_cache import EmbeddingCache
from qa.errors import BuildFailed, CorpusError, IndexBusy, QAError
from qa.writer import BuildWriter

if TYPE_CHECKING:
    import numpy as np

    from qa.embedding import Encoder


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
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    kept: bool = False  # nothing changed: the live build stays, nothing was written


def rebuild_index(
    settings: Settings,
    encoder: Encoder | None = None,
    progress: Progress | None = None,
    full: bool = False,
    engine: BuildEngine | None = None,
) -> BuildSummary:
    """Rebuild the index of ``settings.corpus`` into ``settings.index_dir`` and publish it.

    Chunks whose vectors an earlier build computed are not embedded again unless ``full``.
    The work runs on ``engine``, else on the one the settings name (closed afterwards).
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
        if engine is not None:
            return _rebuild(settings, engine, progress, started, full)
        engine = engine_for(settings, encoder)
        try:
            return _rebuild(settings, engine, progress, started, full)
        finally:
            engine.close()
    except (OSError, sqlite3.OperationalError) as exc:
        if not _disk_full(exc):
            raise
        raise BuildFailed(_disk_full_message(settings.index_dir)) from None
    finally:
        lock.release()


def _disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return "full" in str(exc)  # SQLite: "database or disk is full"


def _disk_full_message(index_dir: Path) -> str:
    """Say that the disk filled up, what is free, and what the builds there take."""
    free = shutil.disk_usage(index_dir).free
    builds = index_dir / "builds"
    sizes = {
        p.name: sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        for p in (builds.iterdir() if builds.is_dir() else [])
    }
    live, live_id = "", ""
    try:
        live_id = store.live_build_id(index_dir)
        live = f"; the live build ({_mb(sizes.get(live_id, 0))}) is untouched and still serves"
    except QAError:
        pass
    others = sum(size for name, size in sizes.items() if name != live_id)
    freeable = f"; older or unfinished builds there take {_mb(others)}" if others else ""
    return (
        f"the disk holding {index_dir}/ is full ({_mb(free)} free){live}. A build needs about "
        f"as much space again as the live one{freeable}. Free space on that disk (or point "
        f"QA_INDEX_DIR elsewhere) and run `qa rebuild-index` again"
    )


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"


def _rebuild(
    settings: Settings, engine: BuildEngine, progress: Progress | None, started: float, full: bool
) -> BuildSummary:
    params = ChunkingParams(
        max_tokens=min(settings.chunk_tokens, engine.max_tokens),
        overlap=settings.chunk_overlap,
        context=settings.chunk_context,
    )
    corpus = engine.load(settings.corpus, params, progress)
    if not corpus.hashes:
        where = ", ".join(str(p) for p in settings.corpus)
        reasons = "; ".join(f"{p.path}: {p.reason}" for p in corpus.problems[:5])
        raise CorpusError(f"no readable releases in {where}" + (f" ({reasons})" if reasons else ""))
    timings = {"load+chunk": time.perf_counter() - started, "embed": 0.0, "write": 0.0}
    fingerprint = store.fingerprint(corpus.hashes)
    if not full:
        kept = _unchanged_live_build(settings, corpus, fingerprint, params)
        if kept is not None:
            kept.seconds = time.perf_counter() - started
            kept.timings = timings
            return kept
    previous = store.live_release_hashes(settings.index_dir)
    cache = EmbeddingCache(settings.index_dir / "embeddings.sqlite")
    try:
        with BuildWriter(
            settings.index_dir,
            model=settings.model_id,
            params=params,
            flat_max=settings.flat_max_vectors,
            shard=settings.shard,
        ) as writer:
            run = _Run(settings, params, engine, cache, writer, full, progress, timings)
            batches = iter(corpus.batches)
            while True:
                mark = time.perf_counter()
                batch = next(batches, None)
                timings["load+chunk"] += time.perf_counter() - mark
                if batch is None:
                    break
                run.write(batch)
            mark = time.perf_counter()
            manifest = writer.publish(fingerprint)
        cache.keep_only_marked()
        timings["write"] += time.perf_counter() - mark
    finally:
        cache.close()
    current = corpus.hashes
    return BuildSummary(
        build_id=manifest.build_id,
        releases=manifest.releases,
        chunks=manifest.chunks,
        files=corpus.files,
        problems=corpus.problems,
        seconds=time.perf_counter() - started,
        added=sum(1 for r in current if r not in previous),
        changed=sum(1 for r, h in current.items() if r in previous and previous[r] != h),
        removed=sum(1 for r in previous if r not in current),
        unchanged=sum(1 for r, h in current.items() if previous.get(r) == h),
        embedded=run.embedded,
        reused=manifest.chunks - run.embedded,
        timings=timings,
    )


@dataclass
class _Run:
    """A build under way: what writing each batch needs, and what the batches took."""

    settings: Settings
    params: ChunkingParams
    engine: BuildEngine
    cache: EmbeddingCache
    writer: BuildWriter
    full: bool
    progress: Progress | None
    timings: dict[str, float]
    embedded: int = 0  # chunks run through the model so far

    def write(self, batch: Batch) -> None:
        """Embed what the cache lacks of one batch, then write the batch."""
        chunks: list[Chunk] = []
        titles: list[str] = []
        contexts: list[str] = []
        for release, release_chunks in batch:
            context = chunk_context(release, self.params)
            for chunk in release_chunks:
                chunks.append(chunk)
                titles.append(release.title)
                contexts.append(context)
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
            chunk_hash(self.settings.model_id, self.params, f"{text}\x00{span}")
            for text, span in zip(texts, spans, strict=True)
        ]
        cached = set() if self.full else self.cache.present(keys)
        todo = [i for i, key in enumerate(keys) if key not in cached]
        mark = time.perf_counter()
        fresh_vectors, fresh_units = self.engine.embed(
            [texts[i] for i in todo],
            [spans[i] for i in todo],
            [chunks[i].tokens for i in todo],
            self._embed_progress,
            lambda rows, vecs, units: self.cache.put_many(
                [(keys[todo[r]], v, u) for r, v, u in zip(rows, vecs, units, strict=True)]
            ),
        )
        self.timings["embed"] += time.perf_counter() - mark
        mark = time.perf_counter()
        self.embedded += len(todo)
        vectors, unit_vectors = _assemble(
            chunks, keys, self.cache, todo, fresh_vectors, fresh_units
        )
        self.writer.add(
            [release for release, _ in batch],
            chunks,
            vectors,
            unit_vectors,
            [f"{t}\n{c.text}" for t, c in zip(titles, chunks, strict=True)],
        )
        self.cache.mark_live(keys)
        self.timings["write"] += time.perf_counter() - mark

    def _embed_progress(self, stage: str, done: int, total: int) -> None:
        """Progress of the whole build's embedding, not the batch's."""
        if self.progress:
            self.progress(stage, self.embedded + done, self.embedded + total)


def _unchanged_live_build(
    settings: Settings, corpus: Corpus, fingerprint: str, params: ChunkingParams
) -> BuildSummary | None:
    """The live build, when it already indexes exactly these releases the same way and is whole.

    A rebuild with nothing changed then writes nothing: no second copy of the index on disk,
    no new build for servers to load.
    """
    try:
        path = settings.index_dir / "builds" / store.live_build_id(settings.index_dir)
        manifest = store.read_manifest(path)
        same = (
            manifest.format_version == store.FORMAT_VERSION
            and manifest.model == settings.model_id
            and manifest.chunking == asdict(params)
            and manifest.index_type
            == store.index_type_for(manifest.chunks, settings.flat_max_vectors)
            and manifest.corpus_fingerprint == fingerprint
            and manifest.shard == settings.shard
        )
        if not same:
            return None
        store.verify_checksums(path, manifest)
    except QAError:
        return None  # no live build, or a damaged one: build a new one
    store.remove_stale(settings.index_dir, keep=manifest.build_id)
    return BuildSummary(
        build_id=manifest.build_id,
        releases=manifest.releases,
        chunks=manifest.chunks,
        files=corpus.files,
        problems=corpus.problems,
        unchanged=manifest.releases,
        reused=manifest.chunks,
        kept=True,
    )


def _assemble(
    chunks: list[Chunk],
    keys: list[str],
    cache: EmbeddingCache,
    todo: list[int],
    fresh_vectors: np.ndarray,
    fresh_units: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Put cached and freshly computed vectors together in chunk order, into arrays made once:
    the chunk vectors (float32) and the unit vectors (float16, as the build stores them), the
    cached ones read a batch at a time."""
    import numpy as np

    counts = np.fromiter((len(c.units) for c in chunks), dtype=np.int64, count=len(chunks))
    starts = np.concatenate([[0], np.cumsum(counts)])
    dimension = fresh_vectors.shape[1] if len(todo) else cache.dimension(keys[0])
    vectors = np.empty((len(chunks), dimension), dtype=np.float32)
    units = np.empty((int(starts[-1]), dimension), dtype=np.float16)
    fresh_starts = np.concatenate([[0], np.cumsum(counts[todo])]) if todo else np.zeros(1)
    for n, i in enumerate(todo):
        vectors[i] = fresh_vectors[n]
        first, last = int(fresh_starts[n]), int(fresh_starts[n + 1])
        units[starts[i] : starts[i + 1]] = fresh_units[first:last]
    fresh = set(todo)
    cache.fill(
        [(key, i, int(starts[i])) for i, key in enumerate(keys) if i not in fresh],
        vectors,
        units,
    )
    return vectors, units
