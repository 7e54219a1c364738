"""A build's store (``store.sqlite``): its releases and chunks, written as JSON records and
read back on demand, the most recently read kept parsed."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from qa.chunking import Chunk, Unit
from qa.corpus import Block, Release
from qa.errors import REBUILD_HINT, IndexMismatch

# What a serving worker keeps parsed of the store: the releases and chunks most recently read.
# The rest stays on disk (in the page cache, shared by the workers), so a worker's private
# memory does not grow with the corpus.
RELEASE_CACHE = 2048
CHUNK_CACHE = 8192
CHUNK_PAGE = 1000  # chunks a walk over all of them reads at once


class StoreFile:
    """The build's SQLite file, read-only, one connection shared by a worker's threads."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise IndexMismatch(f"{path} is missing: {REBUILD_HINT}")
        self._con = sqlite3.connect(
            f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False
        )
        self._lock = threading.Lock()

    def one(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        with self._lock:
            return self._con.execute(sql, args).fetchone()

    def all(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._con.execute(sql, args).fetchall()

    def close(self) -> None:
        self._con.close()


class _Recent(OrderedDict[Any, Any]):
    """The values most recently read, at most ``size`` of them."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.lock = threading.Lock()

    def fetch(self, key: Any, read: Any) -> Any:
        with self.lock:
            if key in self:
                self.move_to_end(key)
                return self[key]
        value = read(key)
        with self.lock:
            self[key] = value
            if len(self) > self.size:
                self.popitem(last=False)
        return value


class ReleaseStore(Mapping[str, Release]):
    """The releases of a build by id, parsed from the store when asked for (the most recent
    ``RELEASE_CACHE`` kept)."""

    def __init__(self, store: StoreFile, count: int) -> None:
        self._store = store
        self._count = count
        self._recent = _Recent(RELEASE_CACHE)

    def _read(self, release_id: str) -> Release:
        row = self._store.one("SELECT record FROM releases WHERE id = ?", (release_id,))
        if row is None:
            raise KeyError(release_id)
        return release_from(json.loads(row[0]))

    def __getitem__(self, release_id: str) -> Release:
        if not isinstance(release_id, str):
            raise KeyError(release_id)
        release: Release = self._recent.fetch(release_id, self._read)
        return release

    def __contains__(self, release_id: object) -> bool:
        if not isinstance(release_id, str):
            return False
        if release_id in self._recent:
            return True
        return self._store.one("SELECT 1 FROM releases WHERE id = ?", (release_id,)) is not None

    def __iter__(self) -> Iterator[str]:
        return iter([r[0] for r in self._store.all("SELECT id FROM releases ORDER BY ordinal")])

    def __len__(self) -> int:
        return self._count


class ChunkStore(Sequence[Chunk]):
    """The chunks of a build by row, read from the store when asked for (the most recent
    ``CHUNK_CACHE`` kept)."""

    def __init__(self, store: StoreFile, releases: ReleaseStore, count: int) -> None:
        self._store = store
        self._releases = releases
        self._count = count
        self._recent = _Recent(CHUNK_CACHE)

    def _read(self, row: int) -> Chunk:
        found = self._store.one("SELECT record FROM chunks WHERE row = ?", (row,))
        if found is None:
            raise IndexError(row)
        record = json.loads(found[0])
        return chunk_from(record, self._releases)

    def __getitem__(self, row: Any) -> Any:
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(self._count))]
        row = int(row)
        if row < 0:
            row += self._count
        if not 0 <= row < self._count:
            raise IndexError(row)
        return self._recent.fetch(row, self._read)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Chunk]:
        """Every chunk in row order, read ``CHUNK_PAGE`` rows at a time, so that a walk over a
        large corpus holds one page, and the store's connection is free between pages (not
        kept: a walk would only push out what questions use)."""
        for start in range(0, self._count, CHUNK_PAGE):
            for (record,) in self._store.all(
                "SELECT record FROM chunks WHERE row >= ? AND row < ? ORDER BY row",
                (start, start + CHUNK_PAGE),
            ):
                yield chunk_from(json.loads(record), self._releases)


class ReleaseChunks(Mapping[str, list[int]]):
    """The chunk rows of each release, from the store's index on them."""

    def __init__(self, store: StoreFile) -> None:
        self._store = store

    def __getitem__(self, release_id: str) -> list[int]:
        rows = [
            r[0]
            for r in self._store.all(
                "SELECT row FROM chunks WHERE release_id = ? ORDER BY row", (release_id,)
            )
        ]
        if not rows:
            raise KeyError(release_id)
        return rows

    def __iter__(self) -> Iterator[str]:
        return iter([r[0] for r in self._store.all("SELECT id FROM releases ORDER BY ordinal")])

    def __len__(self) -> int:
        return int(self._store.one("SELECT COUNT(*) FROM releases")[0])


def release_record(r: Release) -> dict[str, Any]:
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


def release_from(d: dict[str, Any]) -> Release:
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


def chunk_record(c: Chunk) -> dict[str, Any]:
    return {
        "id": c.id,
        "release_id": c.release_id,
        "ordinal": c.ordinal,
        "start": c.start,
        "end": c.end,
        "tokens": c.tokens,
        "units": [[u.kind, u.start, u.end] for u in c.units],
    }


def chunk_from(d: dict[str, Any], releases: Mapping[str, Release]) -> Chunk:
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
