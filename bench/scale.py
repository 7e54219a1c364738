"""Scale: build and serve synthetic corpora of k copies of the 12,694 DOJ releases.

    python bench/scale.py --copies 1 8 [--cache build/scale/embeddings.sqlite]
                          [--work /tmp/qa-scale] [--project 1000000] [--json FILE]

Copy j of a release keeps its title and text (so its chunks' embeddings come from the cache and
the benchmark measures the store, the index and the server, not the model) under the id
`<id>~<j>` and its date moved j years back. For each size, in one run: the build (wall time,
time outside embedding, peak RSS, the build's size on disk), then each serving worker's private
and shared memory (bench/serve_memory.py) and `POST /api/query` latency against the query
embedding alone (bench/query.py), then one table, with a row projected linearly from the two
largest sizes to ``--project`` releases. Needs the embedding cache of a build of the 12,694 releases
(`build/scale`, see docs/quality.md); the work folder holds one corpus and index per size.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, SHARED, machine, table  # noqa: E402

DOJ_ALL = SHARED / "corpus" / "doj-opa-2009-2018.jsonl.gz"


def synthesize(copies: int, target: Path) -> int:
    """Write ``copies`` copies of the DOJ releases as one JSON Lines file; return the count."""
    written = 0
    with gzip.open(DOJ_ALL, "rt", encoding="utf-8") as src, gzip.open(target, "wt") as out:
        for line in src:
            record = json.loads(line)
            for j in range(copies):
                copy = dict(record)
                if j:
                    copy["id"] = f"{record['id']}~{j}"
                    date = str(record.get("date") or "")
                    if re.match(r"\d{4}", date):
                        copy["date"] = f"{int(date[:4]) - j:04d}{date[4:]}"
                out.write(json.dumps(copy) + "\n")
                written += 1
    return written


def build(corpus: Path, index: Path, cache: Path) -> dict[str, float | str]:
    """Build ``index`` from ``corpus`` with a copy of the embedding cache; time and peak RSS."""
    index.mkdir(parents=True, exist_ok=True)
    shutil.copy(cache, index / "embeddings.sqlite")
    command = [
        "/usr/bin/time",
        "-v",
        sys.executable,
        "-m",
        "qa",
        "rebuild-index",
        "--corpus",
        str(corpus),
        "--corpus",
        str(REPO / "corpus"),
        "--index",
        str(index),
    ]
    out = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    log = out.stdout + out.stderr
    peak_kib = int(_found(r"Maximum resident set size \(kbytes\): (\d+)", log))
    seconds = float(_found(r"chunks in ([\d.]+) s", log))
    embedded = int(_found(r"Chunks: (\d+) embedded", log))
    build_dir = index / "builds" / (index / "CURRENT").read_text().strip()
    size = sum(f.stat().st_size for f in build_dir.rglob("*") if f.is_file())
    manifest = json.loads((build_dir / "manifest.json").read_text())
    return {
        "releases": manifest["releases"],
        "chunks": manifest["chunks"],
        "index_type": manifest["index_type"],
        "seconds": seconds,
        "embedded": embedded,
        "peak_mib": peak_kib / 1024,
        "disk_mib": size / 2**20,
    }


def _found(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"not in the build's output: {pattern}")
    return match[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--copies", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--cache", type=Path, default=REPO / "build" / "scale" / "embeddings.sqlite")
    ap.add_argument("--work", type=Path, default=Path("/tmp/qa-scale"))
    ap.add_argument("--project", type=int, default=1_000_000, help="releases to project to")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not args.cache.is_file():
        sys.exit(f"no embedding cache at {args.cache}: build build/scale first (docs/quality.md)")
    record: dict[str, dict[str, Any]] = {}
    indexes = []
    for copies in args.copies:
        home = args.work / f"x{copies}"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        corpus = home / "corpus.jsonl.gz"
        synthesize(copies, corpus)
        record[f"x{copies}"] = {"build": build(corpus, home / "index", args.cache)}
        indexes.append(home / "index")
        print(f"built x{copies}: {record[f'x{copies}']['build']}", flush=True)
    # serving memory and latency, per size, in the same run
    memory, latency = args.work / "memory.json", args.work / "latency.json"
    flags = [str(i) for i in indexes]
    _run("serve_memory.py", [*flags, "--json", str(memory)])
    _run("query.py", [*[f for i in indexes for f in ("--index", str(i))], "--json", str(latency)])
    served = json.loads(memory.read_text())
    timed = json.loads(latency.read_text())["results"]
    rows = []
    for copies, index in zip(args.copies, indexes, strict=True):
        built = record[f"x{copies}"]["build"]
        workers = served[str(index)]["workers"]
        post = next(
            r for r in timed if r["index"] == str(index) and r["stage"] == "POST /api/query"
        )
        row = {
            **built,
            "private_mib": max(w["private"] for w in workers),
            "anonymous_mib": max(w["anonymous"] for w in workers),
            "p50_ms": post["p50_ms"],
            "p99_ms": post["p99_ms"],
            "x_floor": post["x_floor"],
        }
        record[f"x{copies}"] = row
        rows.append(_row(f"x{copies}", row))
    if len(rows) > 1:
        projected = _project(
            [record[f"x{c}"] for c in args.copies[-2:]],
            args.project,
        )
        record["projected"] = projected
        rows.append(_row("projected", projected))
    print(machine())
    print(
        table(
            [
                "corpus",
                "releases",
                "chunks",
                "index",
                "build s (no embedding)",
                "build peak MiB",
                "disk MiB",
                "private MiB / worker",
                "anonymous MiB / worker",
                "POST p50 / p99 ms",
                "x floor (p50)",
            ],
            rows,
        )
    )
    print(f"\nReproduce: python bench/scale.py {' '.join(sys.argv[1:])}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), **record}, indent=2))


def _run(script: str, flags: list[str]) -> None:
    print(f"\n$ python bench/{script} {' '.join(flags)}", flush=True)
    subprocess.run([sys.executable, str(REPO / "bench" / script), *flags], cwd=REPO, check=True)


def _row(name: str, r: dict[str, Any]) -> list[object]:
    latency = (
        f"{float(r['p50_ms']):.1f} / {float(r['p99_ms']):.0f}"
        if r.get("p50_ms") is not None
        else "not projected"
    )
    return [
        name,
        f"{int(r['releases']):,}",
        f"{int(r['chunks']):,}",
        r["index_type"],
        round(float(r["seconds"]), 1),
        round(float(r["peak_mib"])),
        round(float(r["disk_mib"])),
        round(float(r["private_mib"])),
        round(float(r["anonymous_mib"])),
        latency,
        f"{float(r['x_floor']):.2f}" if r.get("x_floor") is not None else "",
    ]


def _project(measured: list[dict[str, Any]], releases: int) -> dict[str, Any]:
    """Extrapolate linearly in releases from the two largest sizes measured (a projection,
    not a measurement); latency is not projected (the graph search grows with log n, reading
    pages from disk does not)."""
    small, large = measured
    scale = releases / large["releases"]
    out: dict[str, Any] = {
        "releases": releases,
        "chunks": round(large["chunks"] * scale),
        "index_type": large["index_type"],
    }
    for key in ("seconds", "peak_mib", "disk_mib", "private_mib", "anonymous_mib"):
        slope = (large[key] - small[key]) / (large["releases"] - small["releases"])
        out[key] = large[key] + slope * (releases - large["releases"])
    return out


if __name__ == "__main__":
    main()
