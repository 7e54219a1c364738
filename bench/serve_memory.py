"""Each `qa serve` worker's memory, per index, after answering questions.

    python bench/serve_memory.py INDEX [INDEX ...] [--questions 60] [--json FILE]
                                 [--before CHECKOUT:INDEX]

For each index: serve it with the default two workers, ask the development questions from two
clients at once (both workers answer some, and the pages of the index files that both read
are shared), then read each worker's private and shared memory from
/proc/PID/smaps_rollup. Give a one-release index first as the baseline: what a worker holds
for the model and the runtime, without a corpus. `--before` adds a row for another checkout
of the code (a `git worktree` of an earlier commit) serving an index of its own format.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, Server, machine, questions, table, worker_memory  # noqa: E402


def ask_all(url: str, qs: list[str], clients: int = 2) -> None:
    """Ask ``qs`` from ``clients`` threads at once, so that every worker answers some."""
    import threading

    threads = [threading.Thread(target=_ask, args=(url, qs[n::clients])) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _ask(url: str, qs: list[str]) -> None:
    for q in qs:
        request = urllib.request.Request(
            url + "/api/query",
            data=json.dumps({"question": q}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as resp:
            resp.read()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("indexes", nargs="+", type=Path)
    ap.add_argument("--questions", type=int, default=60)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--before", action="append", default=[], help="CHECKOUT:INDEX")
    args = ap.parse_args()
    qs = questions()[: args.questions]
    rows, record = [], {}
    runs = [(Path(b.split(":")[0]), Path(b.split(":")[1])) for b in args.before]
    runs += [(REPO, index) for index in args.indexes]
    for code, index in runs:
        manifest = json.loads(
            (
                index / "builds" / (index / "CURRENT").read_text().strip() / "manifest.json"
            ).read_text()
        )
        with Server(index.resolve(), code=code) as server:
            ask_all(server.url, qs)
            workers = worker_memory(server)
        name = str(index) if code == REPO else f"{index} (code at {code})"
        record[name] = {"manifest": manifest, "workers": workers}
        for n, w in enumerate(workers):
            rows.append(
                [
                    name,
                    manifest["releases"],
                    manifest["chunks"],
                    n,
                    round(w["private"]),
                    round(w["shared"]),
                    round(w["rss"]),
                    round(w["anonymous"]),
                ]
            )
    print(machine())
    print(
        table(
            [
                "index",
                "releases",
                "chunks",
                "worker",
                "private MiB",
                "shared MiB",
                "RSS MiB",
                "anonymous MiB",
            ],
            rows,
        )
    )
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), **record}, indent=2))


if __name__ == "__main__":
    main()
