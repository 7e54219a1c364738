"""faiss index types by size: Flat against HNSW, IVF and quantised variants.

    python bench/index_types.py --index build/scale [--sizes 1000,10000,70000] [--repeat 3]
                                [--cache] [--json FILE]

Vectors are N chunk vectors, sampled at random, of a built index (e.g. the 12,694-release
build) or, with --cache, of its embedding cache (what a build has embedded so far); the
queries are the development questions, embedded once with the index's model. For each size and
type: build time, memory (serialised size), search latency for one query at a time (the
server's case, one thread, the retriever's 100 dense candidates), and recall@10 and @100 of
each type against exact search (Flat is the baseline, measured in the same run).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, machine, median_spread, percentile, questions, table  # noqa: E402

sys.path.insert(0, str(REPO))

CANDIDATES = 100  # dense candidates the retriever asks for (QA_CANDIDATES)


def factories(n: int) -> dict[str, tuple[str, dict[str, int]]]:
    """faiss factory strings and search parameters for an index of ``n`` vectors."""
    nlist = max(16, int(4 * n**0.5))
    return {
        "Flat": ("Flat", {}),
        "HNSW32": ("HNSW32,Flat", {"efSearch": 128}),
        "HNSW32-SQ8": ("HNSW32,SQ8", {"efSearch": 128}),
        f"IVF{nlist}": (f"IVF{nlist},Flat", {"nprobe": 16}),
        f"IVF{nlist}-SQ8": (f"IVF{nlist},SQ8", {"nprobe": 16}),
    }


def load_vectors(index_dir: Path):
    import faiss
    import numpy as np

    from qa import store

    build = index_dir / "builds" / store.live_build_id(index_dir)
    flat = faiss.read_index(str(build / "vectors.faiss"))
    manifest = store.read_manifest(build)
    vectors = flat.reconstruct_n(0, flat.ntotal).astype(np.float32)
    return vectors, manifest


def cached_vectors(index_dir: Path):
    """Every chunk vector in an index folder's embedding cache (float32, one row each)."""
    import sqlite3

    import numpy as np

    db = sqlite3.connect(f"file:{index_dir / 'embeddings.sqlite'}?mode=ro", uri=True)
    rows = [np.frombuffer(b, dtype=np.float32) for (b,) in db.execute("SELECT chunk FROM vectors")]
    return np.vstack(rows)


def main() -> None:
    import faiss
    import numpy as np

    from qa.build_engines import default_encoder
    from qa.config import Settings

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--sizes", default="1000,10000,70000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cache", action="store_true", help="vectors from the embedding cache")
    ap.add_argument("--backend", default="torch", help="with --cache: the backend that built it")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    faiss.omp_set_num_threads(1)
    if args.cache:
        vectors, backend = cached_vectors(args.index), args.backend
    else:
        vectors, manifest = load_vectors(args.index)
        backend = manifest.backend
    encoder = default_encoder(Settings.from_env(backend=backend))
    queries = encoder.encode(questions()).astype(np.float32)
    rng = np.random.default_rng(0)
    rows, record = [], {"machine": machine(), "index": str(args.index), "results": []}
    for size in [int(s) for s in args.sizes.split(",")]:
        size = min(size, len(vectors))
        # A random sample, so a slice is not one year of releases.
        data = vectors[np.sort(rng.choice(len(vectors), size, replace=False))]
        truth = None
        for name, (factory, params) in factories(size).items():
            started = time.perf_counter()
            index = faiss.index_factory(data.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
            if not index.is_trained:
                index.train(data)
            index.add(data)
            build_s = time.perf_counter() - started
            for key, value in params.items():
                faiss.ParameterSpace().set_index_parameter(index, key, value)
            k = min(CANDIDATES, size)
            _, found = index.search(queries, k)
            if truth is None:
                truth = found
            recall10 = _recall(found[:, :10], truth[:, :10])
            recall100 = _recall(found, truth)
            medians = []
            for _ in range(args.repeat):
                times = []
                for q in queries:
                    t = time.perf_counter()
                    index.search(q[None, :], k)
                    times.append((time.perf_counter() - t) * 1000)
                medians.append(statistics.median(times))
                p99 = percentile(times, 99)
            median, spread = median_spread(medians)
            mib = len(faiss.serialize_index(index)) / 2**20
            rows.append([size, name, build_s, mib, median, spread, p99, recall10, recall100])
            record["results"].append(
                {
                    "size": size,
                    "type": name,
                    "factory": factory,
                    "params": params,
                    "build_s": build_s,
                    "mib": mib,
                    "search_ms_median": median,
                    "search_ms_spread": spread,
                    "search_ms_p99": p99,
                    "recall@10": recall10,
                    "recall@100": recall100,
                }
            )
    print(machine())
    print(
        f"{len(queries)} queries, one at a time, 1 thread, k={CANDIDATES}; "
        f"median of {args.repeat} runs; recall against Flat in the same run\n"
    )
    headers = [
        "vectors",
        "type",
        "build s",
        "MiB",
        "search ms",
        "spread",
        "p99 ms",
        "R@10",
        "R@100",
    ]
    print(table(headers, rows))
    print(f"\nReproduce: python bench/index_types.py {' '.join(sys.argv[1:])}")
    if args.json:
        args.json.write_text(json.dumps(record, indent=2) + "\n")


def _recall(found, truth) -> float:
    hits = [
        len(set(f[f >= 0]) & set(t[t >= 0])) / max(1, len(t[t >= 0]))
        for f, t in zip(found, truth, strict=True)
    ]
    return float(sum(hits) / len(hits))


if __name__ == "__main__":
    main()
