"""The on-disk index: faiss vectors, release and chunk metadata, BM25, and a manifest.

Layout of ``index/``::

    CURRENT              the id of the live build (replaced atomically)
    builds/<id>/         one complete build: manifest.json, vectors.faiss, units.npy,
                         store.sqlite (releases and chunks, read on demand), bm25/
    builds/.tmp-<id>/    a build being written (never read; removed by the next build)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa import checksums, records
from qa.chunking import Chunk
from qa.corpus import Release
from qa.errors import REBUILD_HINT, IndexMismatch, IndexMissing, QAError

if TYPE_CHECKING:
    import numpy as np

FORMAT_VERSION = 3
STORE = "store.sqlite"
FILES = ("vectors.faiss", "units.npy", STORE)
# What bm25s writes and reads back; each is checksummed like every other file of a build.
BM25_FILES = (
    "bm25/params.index.json",
    "bm25/vocab.index.json",
    "bm25/data.csc.index.npy",
    "bm25/indices.csc.index.npy",
    "bm25/indptr.csc.index.npy",
)
# Exact search up to this many chunks, HNSW above. Measured by bench/index_types.py
# (README, Benchmarks; one query, one thread): Flat takes 0.42 ms at 10k chunks, while the
# vectors still fit in the CPU cache, and 7.1 ms at 40k, as much as embedding the question;
# HNSW32 takes 0.59 ms at 40k, with recall@10 0.978 against exact search.
FLAT_MAX_VECTORS = 30_000
HNSW_FACTORY = "HNSW32,Flat"
# Past this many chunks the graph keeps each vector in 8 bits a dimension (a quarter of the
# memory while the build adds them, and of the file): bench/index_types.py measured the same
# recall@10 at 70k vectors (0.980 against 0.981). Below it, float32 as before.
SQ8_MIN_VECTORS = 250_000
HNSW_SQ8_FACTORY = "HNSW32,SQ8"
HNSW_EF_SEARCH = 128  # at least the retriever's 100 candidates


@dataclass(frozen=True)
class Manifest:
    """What a build is: its model, parameters, counts and checksums."""

    build_id: str
    model: str
    dimension: int
    normalized: bool
    chunking: dict[str, Any]
    releases: int
    chunks: int
    date_from: str | None
    date_to: str | None
    corpus_fingerprint: str
    built_at: str
    package_version: str
    format_version: int
    index_type: str
    checksums: dict[str, str] = field(default_factory=dict)
    backend: str = "torch"  # the embedding runtime, also the suffix of ``model`` unless torch
    shard: str = ""  # K/N: the build indexes shard K of N of its corpus (empty: all of it)


class PerChunk(Sequence[Any]):
    """A value of each chunk's release (its id, date or source), for every chunk in row order.

    Held as one int32 a chunk (its release's ordinal) and one value a release, not one
    reference a chunk: a serving worker's memory grows with the releases, hardly with the
    chunks.
    """

    def __init__(self, ordinals: np.ndarray | None = None, values: Sequence[Any] = ()) -> None:
        import numpy as np

        self.ordinals = np.zeros(0, dtype=np.int32) if ordinals is None else ordinals
        self.values = values  # by release ordinal

    def __getitem__(self, row: Any) -> Any:
        if isinstance(row, slice):
            return [self.values[o] for o in self.ordinals[row].tolist()]
        return self.values[int(self.ordinals[row])]

    def __len__(self) -> int:
        return len(self.ordinals)


@dataclass
class Index:
    """A loaded, read-only build."""

    path: Path
    manifest: Manifest
    releases: Mapping[str, Release]  # read from the store on demand (``records.ReleaseStore``)
    chunks: Sequence[Chunk]  # likewise (``records.ChunkStore``)
    vectors: Any  # faiss.Index
    bm25: Any  # bm25s.BM25
    unit_vectors: Any = None  # float16 rows, one per unit of each chunk in order (memory-mapped)
    unit_rows: Any = None  # first row of each chunk's units in ``unit_vectors``
    release_chunks: Mapping[str, list[int]] = field(default_factory=dict)  # rows of each release
    source_counts: dict[str, int] = field(default_factory=dict)  # releases per named source
    # per chunk: its release's date and source (for filters) and its release's id
    release_dates: PerChunk = field(default_factory=lambda: PerChunk())
    release_sources: PerChunk = field(default_factory=lambda: PerChunk())
    chunk_releases: PerChunk = field(default_factory=lambda: PerChunk())

    def chunk_text(self, chunk: Chunk) -> str:
        """Return the text of a chunk."""
        return self.releases[chunk.release_id].text[chunk.start : chunk.end]

    def unit_similarities(self, chunk_rows: Sequence[int], vector: np.ndarray) -> list[list[float]]:
        """Return, for each chunk, its units' similarities to ``vector`` (in the order of
        ``chunk.units``), from one gather and one product for all the chunks."""
        return self.unit_products(chunk_rows, [vector])[0]

    def unit_products(
        self, chunk_rows: Sequence[int], vectors: Sequence[np.ndarray]
    ) -> list[list[list[float]]]:
        """``unit_similarities`` for each of ``vectors``, the units gathered once."""
        import numpy as np

        if not chunk_rows:
            return [[] for _ in vectors]
        starts = self.unit_rows[chunk_rows]
        ends = self.unit_rows[np.asarray(chunk_rows) + 1]
        rows = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends, strict=True)])
        units = np.asarray(self.unit_vectors[rows], dtype=np.float32)
        spans = list(zip(starts.tolist(), ends.tolist(), strict=True))
        out = []
        for vector in vectors:
            sims = (units @ vector).tolist()
            per_chunk, at = [], 0
            for a, b in spans:
                per_chunk.append(sims[at : at + b - a])
                at += b - a
            out.append(per_chunk)
        return out


def release_hash(release: Release) -> str:
    """Hash everything stored of one release, to tell a changed release from an unchanged one."""
    record = json.dumps(records.release_record(release), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(record.encode()).hexdigest()[:32]


def live_release_hashes(index_dir: Path) -> dict[str, str]:
    """Return {release id: hash} of the live build, or {} when there is none to compare with."""
    try:
        path = index_dir / "builds" / live_build_id(index_dir) / STORE
        store = records.StoreFile(path)
    except (QAError, sqlite3.Error):
        return {}
    try:
        return {
            rid: release_hash(records.release_from(json.loads(record)))
            for rid, record in store.all("SELECT id, record FROM releases")
        }
    except sqlite3.Error:
        return {}
    finally:
        store.close()


def fingerprint(hashes: Mapping[str, str]) -> str:
    """Hash a corpus from its releases' hashes (``release_hash``), so that two builds of the
    same releases can be recognised."""
    digest = hashlib.sha256()
    for release_id in sorted(hashes):
        digest.update(f"{release_id}\x00{hashes[release_id]}\n".encode())
    return digest.hexdigest()[:32]


def index_type_for(vectors: int, flat_max: int = FLAT_MAX_VECTORS) -> str:
    """The faiss index for a build of this size: exact (Flat), graph (HNSW) over the vectors,
    or, past ``SQ8_MIN_VECTORS``, graph over vectors kept in 8 bits a dimension."""
    if vectors <= flat_max:
        return "Flat"
    return HNSW_FACTORY if vectors <= SQ8_MIN_VECTORS else HNSW_SQ8_FACTORY


def publish(index_dir: Path, build_id: str) -> None:
    pointer = index_dir / f".CURRENT.{os.getpid()}"
    with open(pointer, "w") as fh:
        fh.write(build_id + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(pointer, index_dir / "CURRENT")
    dir_fd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_stale(index_dir: Path, keep: str) -> None:
    """Remove leftovers of killed builds and builds older than the live one and its predecessor."""
    builds = index_dir / "builds"
    if not builds.is_dir():
        return
    finished = sorted(p.name for p in builds.iterdir() if not p.name.startswith("."))
    keep_ids = {keep, *[b for b in finished if b < keep][-1:]}
    for path in builds.iterdir():
        if path.name not in keep_ids:
            shutil.rmtree(path, ignore_errors=True)
    for stray in index_dir.glob(".CURRENT.*"):
        stray.unlink(missing_ok=True)


def live_build_id(index_dir: Path) -> str:
    """Return the id of the published build, or raise ``IndexMissing``."""
    try:
        build_id = (index_dir / "CURRENT").read_text().strip()
    except FileNotFoundError:
        raise IndexMissing(
            f"no index in {index_dir}/ (there is no {index_dir}/CURRENT): {REBUILD_HINT}"
        ) from None
    if not build_id or not (index_dir / "builds" / build_id).is_dir():
        raise IndexMissing(f"{index_dir}/CURRENT names no build: {REBUILD_HINT}")
    return build_id


def read_manifest(path: Path) -> Manifest:
    """Read a build's manifest, or raise ``IndexMismatch`` saying what is wrong."""
    try:
        data = json.loads((path / "manifest.json").read_text())
        return Manifest(**data)
    except FileNotFoundError:
        raise IndexMismatch(f"{path} has no manifest.json: {REBUILD_HINT}") from None
    except (json.JSONDecodeError, TypeError) as exc:
        raise IndexMismatch(f"{path}/manifest.json is damaged ({exc}): {REBUILD_HINT}") from None


def open_index(index_dir: Path, model: str, verify: bool = True) -> Index:
    """Load the live build read-only, refusing a model mismatch or damaged files."""
    import bm25s
    import faiss
    import numpy as np

    path = index_dir / "builds" / live_build_id(index_dir)
    manifest = read_manifest(path)
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatch(
            f"{index_dir}/ has index format {manifest.format_version}, this version reads "
            f"{FORMAT_VERSION}: {REBUILD_HINT}"
        )
    if manifest.model != model:
        built, _, built_backend = manifest.model.partition("+")
        wanted, _, wanted_backend = model.partition("+")
        if built == wanted:
            raise IndexMismatch(
                f"{index_dir}/ was built with the {built_backend or 'torch'} embedding backend, "
                f"configured backend is {wanted_backend or 'torch'}: queries must be embedded "
                f"as the index was, so set QA_BACKEND={built_backend or 'torch'} or {REBUILD_HINT}"
            )
        raise IndexMismatch(
            f"{index_dir}/ was built with model {manifest.model}, configured model is {model}: "
            f"{REBUILD_HINT}"
        )
    if verify:
        verify_checksums(path, manifest)
    try:
        store = records.StoreFile(path / STORE)
        releases = records.ReleaseStore(store, manifest.releases)
        chunks = records.ChunkStore(store, releases, manifest.chunks)
        # per release (by ordinal): id, date, source, the equal strings shared; per chunk, in
        # row order, only its release's ordinal and its unit count, read a page at a time
        shared: dict[str, str] = {}
        ids, dates, sources_of = [], [], []
        listed = store.all("SELECT id, date, source FROM releases ORDER BY ordinal")
        for rid, date, source in listed:
            ids.append(rid)
            dates.append(shared.setdefault(date, date) if date else None)
            sources_of.append(shared.setdefault(source, source) if source else None)
        del listed
        rows = int(store.one("SELECT COUNT(*) FROM chunks")[0])
        chunk_release = np.empty(rows, dtype=np.int32)
        unit_counts = np.empty(rows, dtype=np.int64)
        for first in range(0, rows, records.CHUNK_PAGE * 10):
            page = store.all(
                "SELECT r.ordinal, c.units FROM chunks c JOIN releases r ON r.id = c.release_id "
                "WHERE c.row >= ? AND c.row < ? ORDER BY c.row",
                (first, first + records.CHUNK_PAGE * 10),
            )
            values = np.array(page, dtype=np.int64).reshape(-1, 2)
            chunk_release[first : first + len(values)] = values[:, 0]
            unit_counts[first : first + len(values)] = values[:, 1]
        sources = dict(
            store.all(
                "SELECT source, COUNT(*) FROM releases WHERE source IS NOT NULL AND source != '' "
                "GROUP BY source ORDER BY source"
            )
        )
        # memory-mapped, the vectors (and HNSW's graph) are file pages the workers share
        mmap_flag = getattr(faiss, "IO_FLAG_MMAP_IFC", faiss.IO_FLAG_MMAP)
        vectors: Any = faiss.read_index(str(path / "vectors.faiss"), mmap_flag)
        if manifest.index_type.startswith("HNSW"):
            vectors.hnsw.efSearch = HNSW_EF_SEARCH
        bm25 = bm25s.BM25.load(str(path / "bm25"), mmap=True, show_progress=False)
        # Still memory-mapped, but as plain arrays: slicing an np.memmap builds a memmap
        # object each time, which answers do thousands of times a question.
        bm25.scores = {
            k: np.asarray(v) if isinstance(v, np.memmap) else v for k, v in bm25.scores.items()
        }
        units = np.load(path / "units.npy", mmap_mode="r")
        _read_at_random(units)
        unit_vectors = np.asarray(units)
    except (
        OSError,
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        RuntimeError,
        sqlite3.Error,
    ) as exc:
        raise IndexMismatch(f"{path} cannot be read ({exc}): {REBUILD_HINT}") from None
    if vectors.ntotal != rows or rows != manifest.chunks:
        raise IndexMismatch(
            f"{path} does not add up: the manifest counts {manifest.chunks} chunks, "
            f"{STORE} has {rows} and vectors.faiss {vectors.ntotal}: {REBUILD_HINT}"
        )
    unit_rows = np.concatenate([[0], np.cumsum(unit_counts)]).astype(np.int64)
    if len(unit_vectors) != unit_rows[-1]:
        raise IndexMismatch(f"{path}/units.npy does not match {STORE}: {REBUILD_HINT}")
    return Index(
        path=path,
        source_counts=sources,
        release_chunks=records.ReleaseChunks(store),
        unit_vectors=unit_vectors,
        unit_rows=unit_rows,
        manifest=manifest,
        releases=releases,
        chunks=chunks,
        vectors=vectors,
        bm25=bm25,
        release_dates=PerChunk(chunk_release, dates),
        release_sources=PerChunk(chunk_release, sources_of),
        chunk_releases=PerChunk(chunk_release, ids),
    )


def _read_at_random(array: Any) -> None:
    """Tell the kernel a memory-mapped array is read here and there: without it, reading one
    unit's row reads ahead the rows around it, and a worker soon holds most of the file."""
    import mmap

    handle = getattr(array, "_mmap", None)
    if handle is not None and hasattr(mmap, "MADV_RANDOM"):
        handle.madvise(mmap.MADV_RANDOM)


def verify_checksums(path: Path, manifest: Manifest) -> None:
    """Refuse a build unless every one of its files is listed in the manifest and matches.

    A manifest without checksums, a file it does not list (BM25's vocabulary, say) and a listed
    file that is missing or changed are all refused: no file of a build is read unverified.
    """
    listed = manifest.checksums
    if not isinstance(listed, dict) or not listed:
        raise IndexMismatch(f"{path}/manifest.json lists no checksums: {REBUILD_HINT}")
    required = {*FILES, *BM25_FILES}
    unlisted = sorted((set(checksums.build_files(path)) | required) - set(listed))
    if unlisted:
        raise IndexMismatch(
            f"{path}/manifest.json has no checksum for {', '.join(unlisted)}: {REBUILD_HINT}"
        )
    for name, expected in listed.items():
        try:
            actual = checksums.sha256(path / name)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise IndexMismatch(f"{path / name} is missing: {REBUILD_HINT}") from None
        if actual != expected:
            raise IndexMismatch(f"{path / name} does not match its checksum: {REBUILD_HINT}")
