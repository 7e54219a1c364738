"""Scale: build and serve synthetic corpora of k copies of the 12,694 DOJ releases.

    python bench/scale.py --copies 1 2 [--cache build/scale/embeddings.sqlite]
                          [--work /tmp/qa-scale] [--json FILE]

Copy j of a release keeps its title and text (so its chunks' embeddings come from the cache and
the benchmark measures the store, the index and the server, not the model) under the id
`<id>~<j>` and its date moved j years back. For each size, in one run: the build (wall time,
time outside embedding, peak RSS, the build's size on disk), then each serving worker's private
and shared memory (bench/serve_memory.py) and `POST /api/query` latency against the query
embedding alone (bench/query.py). Needs the embedding cache of a build of the 12,694 releases
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
    ap.add_argument("--copies", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--cache", type=Path, default=REPO / "build" / "scale" / "embeddings.sqlite")
    ap.add_argument("--work", type=Path, default=Path("/tmp/qa-scale"))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not args.cache.is_file():
        sys.exit(f"no embedding cache at {args.cache}: build build/scale first (docs/quality.md)")
    rows, record, indexes = [], {}, []
    for copies in args.copies:
        home = args.work / f"x{copies}"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        corpus = home / "corpus.jsonl.gz"
        synthesize(copies, corpus)
        built = build(corpus, home / "index", args.cache)
        record[f"x{copies}"] = built
        indexes.append(home / "index")
        rows.append(
            [
                copies,
                built["releases"],
                built["chunks"],
                built["index_type"],
                built["embedded"],
                round(float(built["seconds"]), 1),
                round(float(built["peak_mib"])),
                round(float(built["disk_mib"])),
            ]
        )
    print(machine())
    print(
        table(
            ["copies", "releases", "chunks", "index", "embedded", "build s", "peak MiB", "disk"],
            rows,
        )
    )
    # serving memory and latency, per size, in the same run
    for script in ("serve_memory.py", "query.py"):
        flags = [str(i) for i in indexes] if script == "serve_memory.py" else []
        for i in indexes if script == "query.py" else []:
            flags += ["--index", str(i)]
        print(f"\n$ python bench/{script} {' '.join(flags)}", flush=True)
        subprocess.run([sys.executable, str(REPO / "bench" / script), *flags], cwd=REPO, check=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), **record}, indent=2))


if __name__ == "__main__":
    main()
