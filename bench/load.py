"""Load on `qa serve`: N concurrent clients on loopback against one client, same server, same run.

    python bench/load.py [--index build/doj] [--clients 32] [--seconds 60] [--workers 1]
                         [--threads 4] [--json FILE]

Builds the 283-release index at --index first if it is missing. The clients run in this
process (threads, urllib) and cycle through the development questions; the loop is bounded
in time and stops by itself.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DOJ_283, REPO, Server, machine, percentile, questions, table  # noqa: E402


def drive(url: str, clients: int, seconds: float, qs: list[str]) -> dict[str, float]:
    """Run ``clients`` loops for ``seconds``; return counts, errors and latency percentiles."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def loop(offset: int) -> None:
        n = offset
        while time.monotonic() < stop:
            body = json.dumps({"question": qs[n % len(qs)]}).encode()
            n += clients
            req = urllib.request.Request(
                url + "/api/query", data=body, headers={"Content-Type": "application/json"}
            )
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    resp.read()
                    ok = resp.status == 200
            except (urllib.error.URLError, OSError) as exc:
                ok = False
                with lock:
                    errors.append(repr(exc))
            elapsed = (time.perf_counter() - started) * 1000
            if ok:
                with lock:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - began
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": len(errors),
        "req_per_s": len(latencies) / wall,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, default=REPO / "build" / "doj")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--baseline-seconds", type=float, default=20)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not (args.index / "CURRENT").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "qa",
                "rebuild-index",
                "--corpus",
                str(DOJ_283),
                "--index",
                str(args.index),
            ],
            cwd=REPO,
            check=True,
        )
    qs = questions()
    with Server(args.index, args.workers, args.threads) as server:
        drive(server.url, 1, 3, qs)  # warm up
        rss_before = server.rss_mib()
        single = drive(server.url, 1, args.baseline_seconds, qs)
        loaded = drive(server.url, args.clients, args.seconds, qs)
        rss_after = server.rss_mib()
    rows = [
        [r["clients"], r["requests"], r["errors"], r["req_per_s"], r["p50_ms"], r["p99_ms"]]
        for r in (single, loaded)
    ]
    print(f"qa serve --workers {args.workers} --threads {args.threads}, index {args.index}")
    print(machine())
    print(table(["clients", "requests", "errors", "req/s", "p50 ms", "p99 ms"], rows))
    print(
        f"throughput ratio {args.clients} clients / 1 client: "
        f"{loaded['req_per_s'] / single['req_per_s']:.2f}x"
    )
    print(f"server resident memory: {rss_before:.0f} MiB before, {rss_after:.0f} MiB after")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine(),
                    "workers": args.workers,
                    "threads": args.threads,
                    "single": single,
                    "loaded": loaded,
                    "rss_mib": [rss_before, rss_after],
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
