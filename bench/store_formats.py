"""The store's two candidates, SQLite and memory-mapped Arrow, on a build's releases and chunks.

    python bench/store_formats.py [--index build/scale] [--lookups 2000]

Each format is written from the build's own store.sqlite (SQLite is that file; Arrow is two
uncompressed IPC files: releases sorted by id with the rows of their chunks, chunks in row
order), then, in a fresh process per format, opened as a serving worker opens its store and
asked, in random order: a release by id, a chunk by row, the chunk rows of a release. Prints,
per format: the files' size, the time to open, each lookup's p50 and p99, and what opening and
the lookups added to the process's private and anonymous memory (smaps_rollup, measured
after the imports).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import subprocess
import sys
import time
from bisect import bisect_left
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, machine, percentile, table  # noqa: E402


def write_arrow(source: Path, target: Path) -> None:
    """Write the releases and chunks of ``source`` (a build's store.sqlite) as Arrow files."""
    import pyarrow as pa

    con = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    spans = dict(
        (rid, (first, count))
        for rid, first, count in con.execute(
            "SELECT release_id, MIN(row), COUNT(*) FROM chunks GROUP BY release_id"
        )
    )
    rows = con.execute("SELECT id, ordinal, date, source, record FROM releases ORDER BY id")
    ids: list[Any] = []
    ordinals: list[Any] = []
    dates: list[Any] = []
    sources: list[Any] = []
    records: list[Any] = []
    firsts: list[Any] = []
    counts: list[Any] = []
    for rid, ordinal, date, src, record in rows:
        first, count = spans.get(rid, (0, 0))
        for column, value in zip(
            (ids, ordinals, dates, sources, records, firsts, counts),
            (rid, ordinal, date, src, record, first, count),
            strict=True,
        ):
            column.append(value)
    releases = pa.table(
        {
            "id": ids,
            "ordinal": ordinals,
            "date": dates,
            "source": sources,
            "record": records,
            "first_chunk": firsts,
            "chunks": counts,
        }
    )
    chunk_rows = con.execute("SELECT release_id, units, record FROM chunks ORDER BY row")
    release_ids, units, chunk_records = zip(*chunk_rows, strict=True)
    chunks = pa.table(
        {"release_id": list(release_ids), "units": list(units), "record": list(chunk_records)}
    )
    con.close()
    target.mkdir(parents=True, exist_ok=True)
    for name, data in (("releases", releases), ("chunks", chunks)):
        with (
            pa.OSFile(str(target / f"{name}.arrow"), "wb") as sink,
            pa.ipc.new_file(sink, data.schema) as out,
        ):
            out.write_table(data.combine_chunks())  # one batch: columns read without a copy


class SqliteStore:
    """The build's store as qa.store reads it: read-only, immutable, by its indexes."""

    def __init__(self, path: Path) -> None:
        self.con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)

    def release(self, release_id: str) -> Any:
        row = self.con.execute("SELECT record FROM releases WHERE id = ?", (release_id,))
        return json.loads(row.fetchone()[0])

    def chunk(self, row: int) -> Any:
        found = self.con.execute("SELECT record FROM chunks WHERE row = ?", (row,)).fetchone()
        return json.loads(found[0])

    def chunk_rows(self, release_id: str) -> list[int]:
        return [
            r
            for (r,) in self.con.execute(
                "SELECT row FROM chunks WHERE release_id = ? ORDER BY row", (release_id,)
            )
        ]


class ArrowStore:
    """The same lookups over memory-mapped Arrow tables: releases found by binary search on
    their sorted ids, chunks by row."""

    def __init__(self, folder: Path) -> None:
        import pyarrow as pa

        def mapped(name: str) -> Any:
            return pa.ipc.open_file(pa.memory_map(str(folder / f"{name}.arrow"))).read_all()

        releases, chunks = mapped("releases"), mapped("chunks")
        self.ids = _whole(releases.column("id"))
        self.records = _whole(releases.column("record"))
        self.firsts = _whole(releases.column("first_chunk"))
        self.counts = _whole(releases.column("chunks"))
        self.chunk_records = _whole(chunks.column("record"))

    def _find(self, release_id: str) -> int:
        ids = self.ids
        at = bisect_left(_Keys(ids), release_id)
        if at == len(ids) or ids[at].as_py() != release_id:
            raise KeyError(release_id)
        return at

    def release(self, release_id: str) -> Any:
        return json.loads(self.records[self._find(release_id)].as_py())

    def chunk(self, row: int) -> Any:
        return json.loads(self.chunk_records[row].as_py())

    def chunk_rows(self, release_id: str) -> list[int]:
        at = self._find(release_id)
        first = self.firsts[at].as_py()
        return list(range(first, first + self.counts[at].as_py()))


def _whole(column: Any) -> Any:
    """A column of one batch as its array, with no copy (else the chunked column itself)."""
    return column.chunk(0) if column.num_chunks == 1 else column


class _Keys:
    """A string column seen as a sequence of str, for ``bisect``."""

    def __init__(self, column: Any) -> None:
        self.column = column

    def __len__(self) -> int:
        return len(self.column)

    def __getitem__(self, i: int) -> str:
        return str(self.column[i].as_py())


def _memory() -> tuple[float, float]:
    fields = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    return (fields["Private_Clean"] + fields["Private_Dirty"]) / 1024, fields["Anonymous"] / 1024


def measure(kind: str, where: Path, source: Path, lookups: int) -> dict[str, float]:
    """Open one format and time its lookups (run in a process of its own)."""
    import pyarrow  # noqa: F401  (imported by both, so that neither pays for it below)

    con = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    ids = [r for (r,) in con.execute("SELECT id FROM releases")]
    total = con.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    con.close()
    rng = random.Random(7)
    asked_ids = [rng.choice(ids) for _ in range(lookups)]
    asked_rows = [rng.randrange(total) for _ in range(lookups)]
    private0, anonymous0 = _memory()
    started = time.perf_counter()
    store: Any = SqliteStore(where) if kind == "sqlite" else ArrowStore(where)
    opened = (time.perf_counter() - started) * 1000
    times: dict[str, list[float]] = {"release by id": [], "chunk by row": [], "chunk rows": []}
    for rid, row in zip(asked_ids, asked_rows, strict=True):
        for name, call, arg in (
            ("release by id", store.release, rid),
            ("chunk by row", store.chunk, row),
            ("chunk rows", store.chunk_rows, rid),
        ):
            mark = time.perf_counter()
            call(arg)
            times[name].append((time.perf_counter() - mark) * 1e6)
    private, anonymous = _memory()
    out = {"open_ms": opened, "private_mib": private - private0}
    out["anonymous_mib"] = anonymous - anonymous0
    for name, values in times.items():
        out[f"{name} p50"] = percentile(values, 50)
        out[f"{name} p99"] = percentile(values, 99)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--index", type=Path, default=REPO / "build" / "scale")
    ap.add_argument("--lookups", type=int, default=2000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/qa-store-formats"))
    ap.add_argument("--measure", nargs=2, metavar=("KIND", "WHERE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    build = args.index / "builds" / (args.index / "CURRENT").read_text().strip()
    source = build / "store.sqlite"
    if args.measure:
        kind, where = args.measure
        print(json.dumps(measure(kind, Path(where), source, args.lookups)))
        return
    write_arrow(source, args.work)
    rows = []
    for kind, where, files in (
        ("SQLite", source, [source]),
        ("Arrow (memory-mapped)", args.work, list(args.work.glob("*.arrow"))),
    ):
        flag = "sqlite" if kind == "SQLite" else "arrow"
        out = subprocess.run(
            [sys.executable, __file__, "--index", str(args.index), "--lookups", str(args.lookups)]
            + ["--measure", flag, str(where)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout)
        size = sum(f.stat().st_size for f in files) / 2**20
        rows.append(
            [
                kind,
                round(size),
                round(r["open_ms"], 1),
                f"{r['release by id p50']:.0f} / {r['release by id p99']:.0f}",
                f"{r['chunk by row p50']:.0f} / {r['chunk by row p99']:.0f}",
                f"{r['chunk rows p50']:.0f} / {r['chunk rows p99']:.0f}",
                round(r["private_mib"], 1),
                round(r["anonymous_mib"], 1),
            ]
        )
    print(machine())
    print(f"{build}: {args.lookups} lookups of each kind, in random order\n")
    print(
        table(
            [
                "store",
                "MiB on disk",
                "open ms",
                "release by id p50 / p99 µs",
                "chunk by row p50 / p99 µs",
                "chunk rows p50 / p99 µs",
                "private MiB added",
                "anonymous MiB added",
            ],
            rows,
        )
    )
    print(f"\nReproduce: python bench/store_formats.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
