"""Load on `qa serve` over loopback: a single-threaded server against the default one.

    python bench/load.py [--index build/doj] [--clients 32] [--seconds 60] [--json FILE]

Runs, in one go and on the same index: (1) a single-thread server (1 worker, 1 thread, 1 torch
thread) under one client and under N clients, the baseline; (2) two threaded workers (gthread,
4 threads each, the cores shared between the workers), the default until 2026-12-06; (3) the
default server (2 gevent workers), each under one client and under N clients. Builds
the 283-release index at --index first if it is missing. The clients are threads in this
process cycling through the development questions; every loop is bounded in time.
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
            except (urllib.error.URLError, OSError) as exc:
                with lock:
                    errors.append(repr(exc))
                continue
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)

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
    ap.add_argument("--single-seconds", type=float, default=20)
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
    configs = {
        "single-thread (baseline)": (1, 1, 1, "gthread"),
        "2 gthread workers (before)": (2, 4, 0, "gthread"),
        "default (2 workers)": (2, 4, 0, "gevent"),
    }
    rows, record = [], {}
    for name, (workers, threads, torch_threads, worker_class) in configs.items():
        with Server(args.index, workers, threads, torch_threads, worker_class) as server:
            drive(server.url, 2, 3, qs)  # warm up every worker
            rss_before = server.rss_mib()
            single = drive(server.url, 1, args.single_seconds, qs)
            loaded = drive(server.url, args.clients, args.seconds, qs)
            rss_after = server.rss_mib()
        record[name] = {"single": single, "loaded": loaded, "rss_mib": [rss_before, rss_after]}
        for r in (single, loaded):
            rows.append(
                [
                    name,
                    r["clients"],
                    r["requests"],
                    r["errors"],
                    r["req_per_s"],
                    r["p50_ms"],
                    r["p99_ms"],
                    f"{rss_before:.0f} -> {rss_after:.0f}",
                ]
            )
    print(machine())
    print(
        table(
            ["server", "clients", "requests", "errors", "req/s", "p50 ms", "p99 ms", "RSS MiB"],
            rows,
        )
    )
    base = record["single-thread (baseline)"]["loaded"]["req_per_s"]
    best = record["default (2 workers)"]["loaded"]["req_per_s"]
    print(
        f"throughput, default server / single-thread server, {args.clients} clients: "
        f"{best / base:.2f}x"
    )
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), **record}, indent=2))


if __name__ == "__main__":
    main()
