"""Shared helpers for the benchmarks: machine description, percentiles, tables, servers."""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DOJ_283 = SHARED / "corpus" / "doj-intl-283.jsonl"
DEV_QUESTIONS = REPO / "bench" / "questions" / "dev.jsonl"


def machine() -> str:
    """Describe the machine a benchmark ran on."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    python = platform.python_version()
    return f"{platform.node()}: {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Python {python}"


def percentile(values: Sequence[float], pct: float) -> float:
    """Return the pct-th percentile (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Render a plain-text table."""
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [" | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def questions() -> list[str]:
    """Return the development questions (the answerable ones and the rest alike)."""
    return [json.loads(line)["question"] for line in DEV_QUESTIONS.read_text().splitlines()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A `qa serve` subprocess on loopback, stopped on exit."""

    def __init__(
        self,
        index: Path,
        workers: int = 2,
        threads: int = 4,
        torch_threads: int = 0,
        worker_class: str = "gevent",
        code: Path = REPO,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "qa",
            "serve",
            "--index",
            str(index),
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ]
        self.proc = subprocess.Popen(
            command,
            cwd=code,  # `python -m qa` runs the checkout it starts in (another commit's too)
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={
                **os.environ,
                "QA_TORCH_THREADS": str(torch_threads),
                "QA_WORKER_CLASS": worker_class,
            },
        )

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=5):
                    return self
            except OSError:
                time.sleep(0.5)
        self.proc.kill()
        raise RuntimeError("qa serve did not start")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def rss_mib(self) -> float:
        """Resident memory of the server and its workers, MiB."""
        pids = [self.proc.pid]
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        pids += [int(p) for p in out.stdout.split()]
        total = 0
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024


def worker_memory(server: Server) -> list[dict[str, float]]:
    """Each worker's memory from /proc/PID/smaps_rollup, MiB: private (clean + dirty), shared
    (clean + dirty), RSS, and anonymous (the heap: what is not pages of a file)."""
    out = subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True)
    rows = []
    for pid in out.stdout.split():
        fields: dict[str, int] = {}
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
                name, value = line.split(":", 1)
                fields[name] = int(value.split()[0])
        except OSError:
            continue
        rows.append(
            {
                "private": (fields["Private_Clean"] + fields["Private_Dirty"]) / 1024,
                "shared": (fields["Shared_Clean"] + fields["Shared_Dirty"]) / 1024,
                "rss": fields["Rss"] / 1024,
                "anonymous": fields["Anonymous"] / 1024,
            }
        )
    return rows


def median_spread(values: Sequence[float]) -> tuple[float, float]:
    """Return the median and the spread (max - min) of repeated measurements."""
    return statistics.median(values), (max(values) - min(values)) if values else 0.0
