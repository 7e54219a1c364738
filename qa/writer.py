"""Writing a build a batch of releases at a time, so that its memory is set by the batch.

``BuildWriter`` takes releases, chunks and their vectors in batches and writes them straight to
the build's files beside the live build: the store's rows, the sentence vectors, the chunk
vectors (a scratch file until faiss reads them back in slices) and BM25's postings (scratch
files until ``LexicalWriter`` turns them into bm25s's score matrix in bounded passes). Only
``publish`` makes the build live, with one atomic rename; a build that fails or is killed
leaves a ``.tmp-`` folder the next build removes, and the live build untouched.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sqlite3
import struct
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO

from qa import __version__, checksums, lexical, records, store
from qa.chunking import Chunk, ChunkingParams
from qa.corpus import Release

if TYPE_CHECKING:
    import numpy as np

# bm25s's defaults, which the store has always used ("lucene" BM25); written to params.index.json.
BM25_K1 = 1.5
BM25_B = 0.75
# Postings turned into the score matrix at once: what finishing BM25 holds is about 40 bytes a
# posting, so 4M postings ~ 160 MB whatever the corpus (12,692 releases have 4.9M postings).
POSTINGS_PER_PASS = 4_000_000
VECTOR_ROWS_PER_ADD = 50_000  # chunk vectors read back from the scratch file at once
TRAIN_SAMPLE = 100_000  # vectors an index that needs training (SQ8) is trained on
NPY_HEADER = 128  # bytes reserved for a .npy header written before its row count is known


class NpyWriter:
    """A .npy file of rows appended a batch at a time (its header written when closed)."""

    def __init__(self, path: Path, dtype: str) -> None:
        import numpy as np

        self.path = path
        self.dtype = np.dtype(dtype)
        self.rows = 0
        self.width: int | None = None
        self._fh: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._fh.write(b"\0" * NPY_HEADER)

    def append(self, rows: np.ndarray) -> None:
        """Append rows (1-D values or 2-D rows of one width)."""
        import numpy as np

        data = np.ascontiguousarray(rows, dtype=self.dtype)
        width = data.shape[1] if data.ndim == 2 else 0
        if self.width is None:
            self.width = width
        elif width != self.width:
            raise ValueError(f"rows of width {width} appended to rows of width {self.width}")
        self._fh.write(data.tobytes())
        self.rows += len(data)

    def close(self) -> None:
        """Write the header for the rows appended and close the file."""
        if self._fh.closed:
            return
        shape = (self.rows, self.width) if self.width else (self.rows,)
        header = f"{{'descr': {self.dtype.str!r}, 'fortran_order': False, 'shape': {shape}, }}"
        body = NPY_HEADER - 10  # magic (6) + version (2) + header length (2)
        if len(header) >= body:
            raise ValueError(f"a .npy header for shape {shape} does not fit")
        self._fh.seek(0)
        self._fh.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", body))
        self._fh.write(header.ljust(body - 1).encode("latin1") + b"\n")
        self._fh.close()


class LexicalWriter:
    """BM25 (bm25s's format and scores) from documents added a batch at a time.

    ``add`` keeps only the vocabulary and each document's length; the postings (document,
    term, count) go to scratch files. ``finish`` computes document frequencies, then writes the
    score matrix one range of terms at a time, so what it holds is bounded by
    ``POSTINGS_PER_PASS``. Terms are numbered in sorted order, so the same corpus gives the
    same files.
    """

    def __init__(self, scratch: Path) -> None:
        scratch.mkdir(parents=True, exist_ok=True)
        self.scratch = scratch
        self.vocabulary: dict[str, int] = {}  # term -> number in order of first use
        self.lengths = array("i")  # tokens per document
        self.postings = 0
        self._files = {
            name: open(scratch / f"{name}.i32", "wb")  # noqa: SIM115 - closed in finish()
            for name in ("docs", "terms", "counts")
        }

    def add(self, texts: Sequence[str]) -> None:
        """Tokenize documents and write their postings."""
        docs, terms, counts = array("i"), array("i"), array("i")
        for tokens in lexical.lexical_tokens(texts):
            doc = len(self.lengths)
            self.lengths.append(len(tokens))
            for term, count in Counter(tokens).items():
                docs.append(doc)
                terms.append(self.vocabulary.setdefault(term, len(self.vocabulary)))
                counts.append(count)
        for name, values in (("docs", docs), ("terms", terms), ("counts", counts)):
            values.tofile(self._files[name])
        self.postings += len(docs)

    def finish(self, target: Path) -> None:
        """Write bm25s's files (scores, vocabulary, parameters) into ``target``."""
        import bm25s
        import numpy as np

        for fh in self._files.values():
            fh.close()
        target.mkdir(parents=True, exist_ok=True)
        order = sorted(self.vocabulary)
        number = np.empty(len(order), dtype=np.int64)  # first-use number -> sorted number
        number[[self.vocabulary[t] for t in order]] = np.arange(len(order))
        frequencies = np.zeros(len(order), dtype=np.int64)
        for _, terms, _ in self._slices():
            frequencies += np.bincount(number[terms], minlength=len(order))
        documents = len(self.lengths)
        # as bm25s computes them: idf in float64, kept in float32; the rest in float64
        idf = np.array(
            [math.log(1 + (documents - df + 0.5) / (df + 0.5)) for df in frequencies.tolist()],
            dtype=np.float32,
        ).astype(np.float64)
        lengths = np.frombuffer(self.lengths, dtype=np.int32).astype(np.int64)
        # documents without a single term have no postings: any average would do for them
        average = lengths.mean() if lengths.any() else 1.0
        norms = BM25_K1 * ((1 - BM25_B) + BM25_B * lengths / average)
        indptr = np.zeros(len(order) + 1, dtype=np.int64)
        np.cumsum(frequencies, out=indptr[1:])
        data = NpyWriter(target / "data.csc.index.npy", "float32")
        indices = NpyWriter(target / "indices.csc.index.npy", "int32")
        for first, last in _ranges(indptr, POSTINGS_PER_PASS):
            columns, rows, scores = [], [], []
            for docs, terms, counts in self._slices():
                column = number[terms]
                keep = (column >= first) & (column < last)
                tf = counts[keep].astype(np.float64)
                columns.append(column[keep])
                rows.append(docs[keep])
                scores.append(idf[column[keep]] * (tf / (norms[docs[keep]] + tf)))
            column = np.concatenate(columns)
            by_column = np.argsort(column, kind="stable")  # rows stay ascending in a column
            data.append(np.concatenate(scores)[by_column].astype(np.float32))
            indices.append(np.concatenate(rows)[by_column])
        data.close()
        indices.close()
        np.save(target / "indptr.csc.index.npy", indptr)
        vocabulary = {term: n for n, term in enumerate(order)}
        vocabulary.setdefault("", len(order))  # bm25s's empty token, for a query with none
        (target / "vocab.index.json").write_text(
            json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8"
        )
        params = {
            "k1": BM25_K1,
            "b": BM25_B,
            "delta": 0.5,
            "method": "lucene",
            "idf_method": "lucene",
            "dtype": "float32",
            "int_dtype": "int32",
            "num_docs": documents,
            "version": bm25s.__version__,
            "backend": "numpy",
        }
        (target / "params.index.json").write_text(json.dumps(params, indent=4))
        shutil.rmtree(self.scratch)

    def close(self) -> None:
        """Close the scratch files (a build given up)."""
        for fh in self._files.values():
            fh.close()

    def _slices(self) -> Any:
        """The postings written, a bounded slice at a time: (docs, terms, counts)."""
        import numpy as np

        step = POSTINGS_PER_PASS
        for begin in range(0, self.postings, step):
            yield tuple(
                np.fromfile(
                    self.scratch / f"{name}.i32",
                    dtype=np.int32,
                    count=min(step, self.postings - begin),
                    offset=begin * 4,
                )
                for name in ("docs", "terms", "counts")
            )


def _ranges(indptr: np.ndarray, most: int) -> list[tuple[int, int]]:
    """Split the columns into ranges of at most ``most`` postings (a larger column alone)."""
    ranges, first = [], 0
    columns = len(indptr) - 1
    while first < columns:
        last = int(indptr.searchsorted(indptr[first] + most, side="right")) - 1
        last = min(max(last, first + 1), columns)
        ranges.append((first, last))
        first = last
    return ranges


class BuildWriter:
    """A new build, written batch by batch into ``builds/.tmp-<id>/`` and published whole.

    Use as a context manager: leaving it with an exception removes what was written.
    """

    def __init__(
        self,
        index_dir: Path,
        *,
        model: str,
        params: ChunkingParams,
        flat_max: int = store.FLAT_MAX_VECTORS,
        shard: str = "",
    ) -> None:
        self.index_dir = index_dir
        self.shard = shard
        self.model = model
        self.params = params
        self.flat_max = flat_max
        builds = index_dir / "builds"
        builds.mkdir(parents=True, exist_ok=True)
        self.started = datetime.now(UTC)
        self.build_id = self.started.strftime("%Y%m%dT%H%M%S%fZ")
        self.tmp = builds / f".tmp-{self.build_id}-{os.getpid()}"
        self.tmp.mkdir()
        self.releases = 0
        self.chunks = 0
        self.dimension: int | None = None
        self.dates: tuple[str, str] | None = None
        self._db = sqlite3.connect(self.tmp / store.STORE)
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.executescript(
            """
            CREATE TABLE releases (
                id TEXT PRIMARY KEY, ordinal INTEGER NOT NULL, date TEXT, source TEXT,
                record TEXT NOT NULL
            );
            CREATE TABLE chunks (
                row INTEGER PRIMARY KEY, release_id TEXT NOT NULL, units INTEGER NOT NULL,
                record TEXT NOT NULL
            );
            """
        )
        self._vectors_path = self.tmp / "vectors.part"
        self._vectors: BinaryIO = open(self._vectors_path, "wb")  # noqa: SIM115 - see publish
        self._units = NpyWriter(self.tmp / "units.npy", "float16")
        self._lexical = LexicalWriter(self.tmp / "bm25.part")

    def __enter__(self) -> BuildWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if error is not None:
            self.discard()

    def add(
        self,
        releases: Sequence[Release],
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        unit_vectors: np.ndarray,
        lexical_texts: Sequence[str],
    ) -> None:
        """Write a batch: releases, their chunks in order, the chunks' vectors and unit vectors,
        and the text BM25 indexes of each chunk."""
        import numpy as np

        if len(chunks) != len(vectors) or len(chunks) != len(lexical_texts):
            raise ValueError("chunks, vectors and lexical texts differ in length")
        if len(unit_vectors) != sum(len(c.units) for c in chunks):
            raise ValueError("unit vectors do not match the chunks' units")
        self._db.executemany(
            "INSERT INTO releases VALUES (?, ?, ?, ?, ?)",
            (
                (
                    r.id,
                    self.releases + n,
                    r.date,
                    r.source,
                    json.dumps(records.release_record(r), ensure_ascii=False),
                )
                for n, r in enumerate(releases)
            ),
        )
        self._db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?)",
            (
                (self.chunks + n, c.release_id, len(c.units), json.dumps(records.chunk_record(c)))
                for n, c in enumerate(chunks)
            ),
        )
        self.releases += len(releases)
        self.chunks += len(chunks)
        for date in (r.date for r in releases if r.date):
            low, high = self.dates or (date, date)
            self.dates = (min(low, date), max(high, date))
        if len(chunks):
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            if self.dimension not in (None, vectors.shape[1]):
                raise ValueError(f"vectors of {vectors.shape[1]} dimensions after {self.dimension}")
            self.dimension = int(vectors.shape[1])
            self._vectors.write(vectors.tobytes())
            self._units.append(unit_vectors)
        self._lexical.add(lexical_texts)

    def publish(self, fingerprint: str) -> store.Manifest:
        """Finish every file, write the manifest and make this build the live one."""
        if not self.chunks or self.dimension is None:
            raise ValueError("nothing to index: no release produced any text")
        self._vectors.close()
        self._units.close()
        self._db.execute("CREATE INDEX chunks_of_release ON chunks (release_id, row)")
        self._db.commit()
        self._db.close()
        index_type = self._write_faiss()
        self._lexical.finish(self.tmp / "bm25")
        manifest = store.Manifest(
            build_id=self.build_id,
            model=self.model,
            dimension=self.dimension,
            normalized=True,
            chunking=asdict(self.params),
            releases=self.releases,
            chunks=self.chunks,
            date_from=self.dates[0] if self.dates else None,
            date_to=self.dates[1] if self.dates else None,
            corpus_fingerprint=fingerprint,
            built_at=self.started.isoformat(timespec="seconds"),
            package_version=__version__,
            format_version=store.FORMAT_VERSION,
            index_type=index_type,
            checksums=checksums.checksums(self.tmp),
            backend=self.model.partition("+")[2] or "torch",
            shard=self.shard,
        )
        (self.tmp / "manifest.json").write_text(json.dumps(asdict(manifest), indent=2) + "\n")
        checksums.fsync_tree(self.tmp)
        os.rename(self.tmp, self.index_dir / "builds" / self.build_id)
        store.publish(self.index_dir, self.build_id)
        store.remove_stale(self.index_dir, keep=self.build_id)
        return manifest

    def discard(self) -> None:
        """Close and remove everything written."""
        for close in (self._vectors.close, self._units.close, self._lexical.close, self._db.close):
            with contextlib.suppress(OSError, ValueError, sqlite3.Error):
                close()  # the folder goes anyway
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _write_faiss(self) -> str:
        """Index the chunk vectors, read back a slice at a time; return the index type."""
        import faiss
        import numpy as np

        assert self.dimension is not None
        width = self.dimension
        index_type = store.index_type_for(self.chunks, self.flat_max)
        ann = faiss.index_factory(width, index_type, faiss.METRIC_INNER_PRODUCT)

        def rows(begin: int, count: int) -> np.ndarray:
            flat = np.fromfile(
                self._vectors_path, dtype=np.float32, count=count * width, offset=begin * width * 4
            )
            return flat.reshape(-1, width)

        if not ann.is_trained:
            step = max(1, self.chunks // TRAIN_SAMPLE)
            sample = np.concatenate(
                [  # copied, so that each slice read is freed, not kept under a strided view
                    rows(begin, VECTOR_ROWS_PER_ADD)[(-begin) % step :: step].copy()
                    for begin in range(0, self.chunks, VECTOR_ROWS_PER_ADD)
                ]
            )
            ann.train(sample)
        for begin in range(0, self.chunks, VECTOR_ROWS_PER_ADD):
            ann.add(rows(begin, min(VECTOR_ROWS_PER_ADD, self.chunks - begin)))
        faiss.write_index(ann, str(self.tmp / "vectors.faiss"))
        self._vectors_path.unlink()
        return index_type
