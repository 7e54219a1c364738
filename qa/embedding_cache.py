"""Vectors of earlier builds, kept beside them so that a rebuild embeds only what changed."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


class EmbeddingCache:
    """Chunk and sentence vectors of earlier builds, keyed by what determines them.

    A SQLite file beside the builds: rows are added as batches are embedded (so a killed build
    keeps what it computed) and pruned to the live build's keys after each publish.
    """

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, chunk BLOB, units BLOB)"
        )
        self._db.commit()

    def present(self, keys: Sequence[str]) -> set[str]:
        """Return the keys that have vectors cached (reading the keys only)."""
        found: set[str] = set()
        for begin in range(0, len(keys), 500):
            batch = list(keys[begin : begin + 500])
            marks = ",".join("?" * len(batch))
            found.update(
                key
                for (key,) in self._db.execute(
                    f"SELECT key FROM vectors WHERE key IN ({marks})", batch
                )
            )
        return found

    def fill(
        self,
        wanted: Sequence[tuple[str, int, int]],
        vectors: np.ndarray,
        units: np.ndarray,
    ) -> None:
        """Copy cached vectors into place: for each (key, row, first unit row), the chunk
        vector into ``vectors[row]`` and its unit vectors from ``units[first unit row]`` on,
        a batch at a time (what is held at once is one batch, not the cache)."""
        import numpy as np

        for begin in range(0, len(wanted), 500):
            places: dict[str, list[tuple[int, int]]] = {}
            for key, row, first in wanted[begin : begin + 500]:
                places.setdefault(key, []).append((row, first))  # the same text may recur
            marks = ",".join("?" * len(places))
            for key, chunk, unit_bytes in self._db.execute(
                f"SELECT key, chunk, units FROM vectors WHERE key IN ({marks})", list(places)
            ):
                vector = np.frombuffer(chunk, dtype=np.float32)
                these = np.frombuffer(unit_bytes, dtype=np.float32).reshape(-1, len(vector))
                for row, first in places[key]:
                    vectors[row] = vector
                    units[first : first + len(these)] = these

    def dimension(self, key: str) -> int:
        """The dimension of a cached vector."""
        row = self._db.execute("SELECT length(chunk) FROM vectors WHERE key = ?", (key,)).fetchone()
        return int(row[0]) // 4

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

    def mark_live(self, keys: Sequence[str]) -> None:
        """Note keys the build being written uses (kept by ``keep_only_marked``)."""
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS live (key TEXT PRIMARY KEY)")
        self._db.executemany("INSERT OR IGNORE INTO live VALUES (?)", [(k,) for k in keys])

    def keep_only_marked(self) -> int:
        """Delete every entry whose key was not marked live; return how many were deleted."""
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS live (key TEXT PRIMARY KEY)")
        deleted = self._db.execute(
            "DELETE FROM vectors WHERE key NOT IN (SELECT key FROM live)"
        ).rowcount
        self._db.execute("DELETE FROM live")
        self._db.commit()
        return int(deleted)

    def close(self) -> None:
        """Close the database."""
        self._db.close()
