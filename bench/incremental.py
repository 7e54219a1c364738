"""Incremental rebuild: add one release to the 283-release index, against a full build.

    python bench/incremental.py [--repeat 1] [--json FILE]

Both builds use the real model in the same run; the added release is the INTERPOL seed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DOJ_283, REPO, machine, median_spread, table  # noqa: E402

sys.path.insert(0, str(REPO))
from qa.build import rebuild_index  # noqa: E402
from qa.config import Settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    full, added = [], []
    summary = None
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "corpus"
            corpus.mkdir()
            shutil.copy(DOJ_283, corpus / "doj.jsonl")
            settings = Settings.from_env(corpus=(corpus,), index_dir=Path(tmp) / "index")
            rebuild_index(settings)  # also loads the model: not timed
            started = time.perf_counter()
            rebuild_index(settings, full=True)
            full.append(time.perf_counter() - started)
            shutil.copy(REPO / "corpus" / "interpol-asian-conference-2023.txt", corpus)
            started = time.perf_counter()
            summary = rebuild_index(settings)
            added.append(time.perf_counter() - started)
    (f_med, f_spread), (a_med, a_spread) = median_spread(full), median_spread(added)
    print(machine())
    print(
        table(
            ["build", "seconds (median)", "spread", "chunks embedded"],
            [
                ["full, 283 releases (baseline)", f_med, f_spread, "all"],
                [
                    "283 + 1 release, incremental",
                    a_med,
                    a_spread,
                    f"{summary.embedded} of {summary.chunks}",
                ],
            ],
        )
    )
    print(f"incremental / full: {a_med / f_med:.3f}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine(),
                    "full_s": full,
                    "incremental_s": added,
                    "embedded": summary.embedded,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
