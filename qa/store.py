"""The on-disk index: faiss vectors, release and chunk metadata, BM25, and a manifest.

Layout of ``index/``::

    CURRENT              the id of the live build (replaced atomically)
    builds/<id>/         one complete build: manifest.json, vectors.faiss, releases.jsonl,
                         chunks.jsonl, bm25/
    builds/.tmp-<id>/    a build being written (never read; removed by the next build)
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa import __version__
from qa.chunking import Chunk, ChunkingParams, Unit
from qa.corpus import Block, Release
from qa.errors import IndexMismatch, IndexMissing

if TYPE_CHECKING:
    import numpy as np

FORMAT_VERSION = 2
FILES = ("vectors.faiss", "units.npy", "releases.jsonl", "chunks.jsonl")
# What bm25s writes and reads back; each is checksummed like every other file of a build.
BM25_FILES = (
    "bm25/params.index.json",
    "bm25/vocab.index.json",
    "bm25/data.csc.index.npy",
    "bm25/indices.csc.index.npy",
    "bm25/indptr.csc.index.npy",
)
REBUILD_HINT = "run `qa rebuild-index`"
# Question words the NLTK list lacks; in a question they carry no topic.
EXTRA_STOPWORDS = ("many", "much", "whose")
# Exact search up to this many chunks, HNSW above. Measured by bench/index_types.py
# (README, Benchmarks; one query, one thread): Flat takes 0.42 ms at 10k chunks, while the
# vectors still fit in the CPU cache, and 7.1 ms at 40k, as much as embedding the question;
# HNSW32 takes 0.59 ms at 40k, with recall@10 0.978 against exact search.
FLAT_MAX_VECTORS = 30_000
HNSW_FACTORY = "HNSW32,Flat"
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


@dataclass
class Index:
    """A loaded, read-only build."""

    path: Path
    manifest: Manifest
    releases: dict[str, Release]
    chunks: list[Chunk]
    vectors: Any  # faiss.Index
    bm25: Any  # bm25s.BM25
    unit_vectors: Any = None  # float16 rows, one per unit of each chunk in order (memory-mapped)
    unit_rows: Any = None  # first row of each chunk's units in ``unit_vectors``
    release_chunks: dict[str, list[int]] = field(default_factory=dict)  # rows of each release
    source_counts: dict[str, int] = field(default_factory=dict)  # releases per named source
    release_dates: list[str | None] = field(default_factory=list)  # per chunk, for filters
    release_sources: list[str | None] = field(default_factory=list)

    def chunk_text(self, chunk: Chunk) -> str:
        """Return the text of a chunk."""
        return self.releases[chunk.release_id].text[chunk.start : chunk.end]

    def unit_similarities(self, chunk_rows: Sequence[int], vector: np.ndarray) -> list[list[float]]:
        """Return, for each chunk, its units' similarities to ``vector`` (in the order of
        ``chunk.units``), from one gather and one product for all the chunks."""
        import numpy as np

        if not chunk_rows:
            return []
        starts = self.unit_rows[chunk_rows]
        ends = self.unit_rows[np.asarray(chunk_rows) + 1]
        rows = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends, strict=True)])
        sims = (np.asarray(self.unit_vectors[rows], dtype=np.float32) @ vector).tolist()
        out, at = [], 0
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            out.append(sims[at : at + b - a])
            at += b - a
        return out


_local = threading.local()  # a Snowball stemmer per thread: stemmers are not thread-safe
WORD = re.compile(r"(?u)\b\w\w+\b")  # bm25s's default token pattern


def lexical_tokens(texts: Sequence[str]) -> list[list[str]]:
    """Tokenize for BM25: lower-case words, English stop words removed, Snowball-stemmed.

    The same tokens as ``bm25s.tokenize`` with these options (checked on the 283 DOJ
    releases), without its per-call set-up: answers tokenize every candidate sentence.
    """
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    stop = _stopwords()
    return [stemmer.stemWords([w for w in WORD.findall(t.lower()) if w not in stop]) for t in texts]


@functools.cache
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset([*STOPWORDS_EN_PLUS, *EXTRA_STOPWORDS])


def release_hash(release: Release) -> str:
    """Hash everything stored of one release, to tell a changed release from an unchanged one."""
    record = json.dumps(_release_record(release), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(record.encode()).hexdigest()[:32]


def live_release_hashes(index_dir: Path) -> dict[str, str]:
    """Return {release id: hash} of the live build, or {} when there is none to compare with."""
    try:
        path = index_dir / "builds" / live_build_id(index_dir) / "releases.jsonl"
        with open(path, encoding="utf-8") as fh:
            releases = [_release_from(json.loads(line)) for line in fh]
    except (IndexMissing, OSError, ValueError, KeyError):
        return {}
    return {r.id: release_hash(r) for r in releases}


class EmbeddingCache:
    """Chunk and sentence vectors of earlier builds, keyed by what determines them.

    A SQLite file beside the builds: rows are added as batches are embedded (so a killed build
    keeps what it computed) and pruned to the live build's keys after each publish.
    """

    def __init__(self, path: Path) -> None:
        import sqlite3

        self._db = sqlite3.connect(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, chunk BLOB, units BLOB)"
        )
        self._db.commit()

    def get_many(self, keys: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Return the cached (chunk vector, unit vectors) of the keys that are present."""
        import numpy as np

        found = {}
        for begin in range(0, len(keys), 500):
            batch = list(keys[begin : begin + 500])
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                f"SELECT key, chunk, units FROM vectors WHERE key IN ({marks})", batch
            )
            for key, chunk, units in rows:
                vector = np.frombuffer(chunk, dtype=np.float32)
                rows_of_units = np.frombuffer(units, dtype=np.float32).reshape(-1, len(vector))
                found[key] = (vector, rows_of_units)
        return found

    def put_many(self, items: Sequence[tuple[str, np.ndarray, np.ndarray]]) -> None:
        """Store vectors and commit."""
        import numpy as np

        self._db.executemany(
            "INSERT OR REPLACE INTO vectors (key, chunk, units) VALUES (?, ?, ?)",
            [
                (key, np.asarray(c, np.float32).tobytes(), np.asarray(u, np.float32).tobytes())
                for key, c, u in items
            ],
        )
        self._db.commit()

    def keep_only(self, keys: Sequence[str]) -> int:
        """Delete every entry not in ``keys``; return how many were deleted."""
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS live (key TEXT PRIMARY KEY)")
        self._db.execute("DELETE FROM live")
        self._db.executemany("INSERT OR IGNORE INTO live VALUES (?)", [(k,) for k in keys])
        deleted = self._db.execute(
            "DELETE FROM vectors WHERE key NOT IN (SELECT key FROM live)"
        ).rowcount
        self._db.commit()
        return int(deleted)

    def close(self) -> None:
        """Close the database."""
        self._db.close()


def fingerprint(releases: Sequence[Release]) -> str:
    """Hash the content of a corpus, so two builds of the same releases can be recognised."""
    digest = hashlib.sha256()
    for r in sorted(releases, key=lambda r: r.id):
        digest.update(json.dumps(_release_record(r), sort_keys=True).encode())
    return digest.hexdigest()[:32]


def write_build(
    index_dir: Path,
    releases: Sequence[Release],
    chunks: Sequence[Chunk],
    vectors: np.ndarray,
    unit_vectors: np.ndarray,
    *,
    model: str,
    params: ChunkingParams,
    lexical_texts: Sequence[str],
    flat_max: int = FLAT_MAX_VECTORS,
) -> Manifest:
    """Write a complete build beside the live one and publish it with one atomic rename."""
    import bm25s
    import faiss
    import numpy as np

    if len(chunks) != len(vectors) or len(chunks) != len(lexical_texts):
        raise ValueError("chunks, vectors and lexical texts differ in length")
    if len(unit_vectors) != sum(len(c.units) for c in chunks):
        raise ValueError("unit vectors do not match the chunks' units")
    if not chunks:
        raise ValueError("nothing to index: no release produced any text")
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    build_id = now.strftime("%Y%m%dT%H%M%S%fZ")
    tmp = builds / f".tmp-{build_id}-{os.getpid()}"
    tmp.mkdir()
    try:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index_type = index_type_for(len(vectors), flat_max)
        ann = faiss.index_factory(vectors.shape[1], index_type, faiss.METRIC_INNER_PRODUCT)
        ann.add(vectors)
        faiss.write_index(ann, str(tmp / "vectors.faiss"))
        np.save(tmp / "units.npy", np.asarray(unit_vectors, dtype=np.float16))
        with open(tmp / "releases.jsonl", "w", encoding="utf-8") as fh:
            for r in releases:
                fh.write(json.dumps(_release_record(r), ensure_ascii=False) + "\n")
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as fh:
            for c in chunks:
                fh.write(json.dumps(_chunk_record(c)) + "\n")
        bm25 = bm25s.BM25()
        bm25.index(lexical_tokens(lexical_texts), show_progress=False)
        bm25.save(str(tmp / "bm25"), show_progress=False)
        dates = sorted(r.date for r in releases if r.date)
        manifest = Manifest(
            build_id=build_id,
            model=model,
            dimension=int(vectors.shape[1]),
            normalized=True,
            chunking=asdict(params),
            releases=len(releases),
            chunks=len(chunks),
            date_from=dates[0] if dates else None,
            date_to=dates[-1] if dates else None,
            corpus_fingerprint=fingerprint(releases),
            built_at=now.isoformat(timespec="seconds"),
            package_version=__version__,
            format_version=FORMAT_VERSION,
            index_type=index_type,
            checksums=_checksums(tmp),
            backend=model.partition("+")[2] or "torch",
        )
        (tmp / "manifest.json").write_text(json.dumps(asdict(manifest), indent=2) + "\n")
        _fsync_tree(tmp)
        final = builds / build_id
        os.rename(tmp, final)
        _publish(index_dir, build_id)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    remove_stale(index_dir, keep=build_id)
    return manifest


def index_type_for(vectors: int, flat_max: int = FLAT_MAX_VECTORS) -> str:
    """The faiss index for a build of this size: exact (Flat) or graph (HNSW), as measured."""
    return "Flat" if vectors <= flat_max else HNSW_FACTORY


def _publish(index_dir: Path, build_id: str) -> None:
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
        releases = {}
        with open(path / "releases.jsonl", encoding="utf-8") as fh:
            for line in fh:
                r = _release_from(json.loads(line))
                releases[r.id] = r
        chunks = []
        with open(path / "chunks.jsonl", encoding="utf-8") as fh:
            for line in fh:
                chunks.append(_chunk_from(json.loads(line), releases))
        vectors: Any = faiss.read_index(str(path / "vectors.faiss"), faiss.IO_FLAG_MMAP)
        if manifest.index_type.startswith("HNSW"):
            vectors.hnsw.efSearch = HNSW_EF_SEARCH
        bm25 = bm25s.BM25.load(str(path / "bm25"), mmap=True, show_progress=False)
        # Still memory-mapped, but as plain arrays: slicing an np.memmap builds a memmap
        # object each time, which answers do thousands of times a question.
        bm25.scores = {
            k: np.asarray(v) if isinstance(v, np.memmap) else v for k, v in bm25.scores.items()
        }
        unit_vectors = np.asarray(np.load(path / "units.npy", mmap_mode="r"))
    except (OSError, ValueError, KeyError, IndexError, TypeError, RuntimeError) as exc:
        raise IndexMismatch(f"{path} cannot be read ({exc}): {REBUILD_HINT}") from None
    if vectors.ntotal != len(chunks) or len(chunks) != manifest.chunks:
        raise IndexMismatch(
            f"{path} does not add up: the manifest counts {manifest.chunks} chunks, "
            f"chunks.jsonl has {len(chunks)} and vectors.faiss {vectors.ntotal}: {REBUILD_HINT}"
        )
    unit_rows = np.concatenate([[0], np.cumsum([len(c.units) for c in chunks])])
    if len(unit_vectors) != unit_rows[-1]:
        raise IndexMismatch(f"{path}/units.npy does not match chunks.jsonl: {REBUILD_HINT}")
    release_chunks: dict[str, list[int]] = {}
    for row, chunk in enumerate(chunks):
        release_chunks.setdefault(chunk.release_id, []).append(row)
    sources: dict[str, int] = {}
    for r in releases.values():
        if r.source:
            sources[r.source] = sources.get(r.source, 0) + 1
    return Index(
        path=path,
        source_counts=dict(sorted(sources.items())),
        release_chunks=release_chunks,
        unit_vectors=unit_vectors,
        unit_rows=unit_rows,
        manifest=manifest,
        releases=releases,
        chunks=chunks,
        vectors=vectors,
        bm25=bm25,
        release_dates=[releases[c.release_id].date for c in chunks],
        release_sources=[releases[c.release_id].source for c in chunks],
    )


def _release_record(r: Release) -> dict[str, Any]:
    return {
        "id": r.id,
        "title": r.title,
        "date": r.date,
        "url": r.url,
        "source": r.source,
        "place": r.place,
        "tags": list(r.tags),
        "origin": r.origin,
        "text": r.text,
        "blocks": [[b.kind, b.start, b.end] for b in r.blocks],
    }


def _release_from(d: dict[str, Any]) -> Release:
    return Release(
        id=d["id"],
        title=d["title"],
        text=d["text"],
        blocks=tuple(Block(k, s, e) for k, s, e in d["blocks"]),
        date=d["date"],
        url=d["url"],
        source=d["source"],
        place=d["place"],
        tags=tuple(d["tags"]),
        origin=d["origin"],
    )


def _chunk_record(c: Chunk) -> dict[str, Any]:
    return {
        "id": c.id,
        "release_id": c.release_id,
        "ordinal": c.ordinal,
        "start": c.start,
        "end": c.end,
        "tokens": c.tokens,
        "units": [[u.kind, u.start, u.end] for u in c.units],
    }


def _chunk_from(d: dict[str, Any], releases: dict[str, Release]) -> Chunk:
    text = releases[d["release_id"]].text[d["start"] : d["end"]]
    return Chunk(
        id=d["id"],
        release_id=d["release_id"],
        ordinal=d["ordinal"],
        start=d["start"],
        end=d["end"],
        text=text,
        units=tuple(Unit(k, s, e) for k, s, e in d["units"]),
        tokens=d["tokens"],
    )


def _build_files(path: Path) -> list[str]:
    """Every file of a build but its manifest, as paths relative to the build, sorted."""
    return sorted(
        p.relative_to(path).as_posix()
        for p in path.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    )


def _checksums(path: Path) -> dict[str, str]:
    return {name: _sha256(path / name) for name in _build_files(path)}


def verify_checksums(path: Path, manifest: Manifest) -> None:
    """Refuse a build unless every one of its files is listed in the manifest and matches.

    A manifest without checksums, a file it does not list (BM25's vocabulary, say) and a listed
    file that is missing or changed are all refused: no file of a build is read unverified.
    """
    listed = manifest.checksums
    if not isinstance(listed, dict) or not listed:
        raise IndexMismatch(f"{path}/manifest.json lists no checksums: {REBUILD_HINT}")
    required = {*FILES, *BM25_FILES}
    unlisted = sorted((set(_build_files(path)) | required) - set(listed))
    if unlisted:
        raise IndexMismatch(
            f"{path}/manifest.json has no checksum for {', '.join(unlisted)}: {REBUILD_HINT}"
        )
    for name, expected in listed.items():
        try:
            actual = _sha256(path / name)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise IndexMismatch(f"{path / name} is missing: {REBUILD_HINT}") from None
        if actual != expected:
            raise IndexMismatch(f"{path / name} does not match its checksum: {REBUILD_HINT}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
