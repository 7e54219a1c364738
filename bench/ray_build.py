"""Index build on Ray (1 and 2 encoder actors) against the local engine, same releases.

    python bench/ray_build.py [--releases 1000] [--repeat 2] [--cluster-cpus 64] [--json FILE]

The releases are the first N of ../shared/corpus/doj-opa-2009-2018.jsonl.gz (written to a temporary
slice file). Each build runs in a fresh process into a fresh index folder (no embedding cache to
reuse), so each pays its own model load, and Ray its own local instance (this machine's cores):
the wall time is what `qa rebuild-index` would take. Runs are interleaved (local, Ray 1, Ray 2,
then the other way round) so that load from elsewhere on the machine hits all of them alike, and
Ray's workers run at the local engine's priority (Ray starts them at niceness 15 by default).
Ray's overhead is its 1-actor wall time minus the local engine's: the same work on the same CPUs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, SHARED, machine, median_spread, table  # noqa: E402

sys.path.insert(0, str(REPO))
from qa.build import rebuild_index  # noqa: E402
from qa.config import Settings  # noqa: E402

CORPUS = SHARED / "corpus" / "doj-opa-2009-2018.jsonl.gz"
RUNS = [("local", 0), ("ray", 1), ("ray", 2)]  # (engine, encoder actors)


def build_once(corpus: Path, index: Path, engine: str, workers: int) -> dict[str, float]:
    """Build one index in this process and return its numbers."""
    settings = Settings.from_env(corpus=(corpus,), index_dir=index, build_engine=engine)
    started = time.perf_counter()
    if engine == "local":
        summary = rebuild_index(settings, full=True)
        ray_start = actor_busy = 0.0
    else:
        from qa.ray_engine import RayEngine

        with RayEngine(settings, workers=workers) as ray_engine:
            summary = rebuild_index(settings, engine=ray_engine, full=True)
            ray_start, actor_busy = ray_engine.started_in, ray_engine.actor_seconds
    return {
        "wall_s": time.perf_counter() - started,
        "chunks": summary.chunks,
        "ray_start_s": ray_start,
        "actor_busy_s": actor_busy,
        **{f"{stage}_s": seconds for stage, seconds in summary.timings.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--releases", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument(
        "--cluster-cpus", type=int, default=64, help="CPUs of the cluster to project for."
    )
    ap.add_argument("--json", type=Path)
    ap.add_argument("--one", nargs=4, metavar=("CORPUS", "INDEX", "ENGINE", "WORKERS"))
    args = ap.parse_args()
    if args.one:
        corpus, index, engine, workers = args.one
        print(json.dumps(build_once(Path(corpus), Path(index), engine, int(workers))))
        return
    runs: dict[tuple[str, int], list[dict[str, float]]] = {run: [] for run in RUNS}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "releases.jsonl"
        with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
            corpus.write_text("".join(islice(fh, args.releases)), encoding="utf-8")
        order = [run for n in range(args.repeat) for run in (RUNS if n % 2 == 0 else RUNS[::-1])]
        for n, (engine, workers) in enumerate(order):
            load = os.getloadavg()[0]
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(corpus), f"{tmp}/index-{n}", engine]
                + [str(workers)],
                capture_output=True,
                text=True,
                cwd=REPO,
                env={**os.environ, "RAY_worker_niceness": "0"},
            )
            if out.returncode != 0:
                sys.exit(f"{engine} build failed:\n{out.stderr[-3000:]}")
            result = {**json.loads(out.stdout), "load_avg_1min": load}
            runs[(engine, workers)].append(result)
            print(f"{engine} {workers or ''}: {result['wall_s']:.1f} s (load {load:.1f})")

    def median(run: tuple[str, int], key: str) -> float:
        return statistics.median(r[key] for r in runs[run])

    local, one = RUNS[0], RUNS[1]
    rows = []
    for run in RUNS:
        wall, spread = median_spread([r["wall_s"] for r in runs[run]])
        is_ray = run[0] == "ray"
        rows.append(
            [
                run[0],
                run[1] or "-",
                int(median(run, "chunks")),
                wall,
                spread,
                median(run, "chunks") / wall,
                wall / median(local, "wall_s"),
                median(run, "load+chunk_s"),
                median(run, "embed_s"),
                median(run, "actor_busy_s") if is_ray else "-",
                median(run, "chunks") / median(run, "actor_busy_s") if is_ray else "-",
                median(run, "write_s"),
                median(run, "ray_start_s") if is_ray else "-",
            ]
        )
    print()
    print(machine())
    loads = [r["load_avg_1min"] for rs in runs.values() for r in rs]
    print(
        f"{args.releases} releases of {CORPUS.name}; every build embeds every chunk; medians of "
        f"{args.repeat}; 1-minute load average at the start of the runs "
        f"{min(loads):.1f}-{max(loads):.1f}\n"
    )
    print(
        table(
            [
                "engine",
                "actors",
                "chunks",
                "wall s",
                "spread",
                "chunks/s",
                "x local",
                "load+chunk s",
                "embed s",
                "actors busy s",
                "chunks/s/actor",
                "write s",
                "Ray start s",
            ],
            rows,
        )
    )
    overhead = median(one, "wall_s") - median(local, "wall_s")
    chunking = median(one, "load+chunk_s") - median(local, "load+chunk_s")
    idle = median(one, "embed_s") - median(one, "actor_busy_s")
    print(
        f"\nRay's overhead, 1 actor against local (the same work on the same CPUs): "
        f"{overhead:+.1f} s ({overhead / median(local, 'wall_s'):+.0%}). Inside the Ray runs: "
        f"{median(one, 'ray_start_s'):.1f} s starting Ray; loading and chunking as tasks "
        f"{chunking:+.1f} s against local (Ray's start included); embed stage "
        f"{idle:.1f} s longer than the actor's model time (starting the actor and loading "
        "the model, moving texts and vectors, scheduling)."
    )
    # Model time only: what each actor adds to a cluster once the fixed costs are paid.
    per_actor = {run[1]: median(run, "chunks") / median(run, "actor_busy_s") for run in RUNS[1:]}
    serial = median(local, "write_s") / median(local, "chunks")  # the driver's share per chunk
    for workers, cpus_each in ((1, 2), (2, 1)):
        actors = args.cluster_cpus // cpus_each
        rate = per_actor[workers] * actors
        print(
            f"Projection, actors of {cpus_each} CPU(s) ({per_actor[workers]:.1f} chunks/s each "
            f"here): {args.cluster_cpus} such CPUs = {actors} actors ≈ {rate:.0f} chunks/s; "
            f"10^6 chunks ≈ {1e6 / rate / 60:.0f} min embedding + ≈ {1e6 * serial / 60:.0f} "
            "min writing on the driver (which does not scale out)."
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine(),
                    "releases": args.releases,
                    "runs": {f"{e}-{w}": rs for (e, w), rs in runs.items()},
                    "chunks_per_s_per_actor": per_actor,
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
