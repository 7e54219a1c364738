"""Query latency by index size: retrieve, answer and HTTP against the query embedding alone.

    python bench/query.py --index build/slice-1k --index build/dev --index build/scale
                          [--repeat 3] [--json FILE]

For each index, in one run: the question's embedding alone (the floor), `Retriever.search`
(embedding included), `Engine.extract` (the whole extractive answer), all in this process with
one model thread, as a server worker has with the default two workers on two cores; then
`POST /api/query` to a default `qa serve` (2 workers) from one sequential client, over one
kept-alive connection as the chat page (a browser) does, and with a new connection for each
request as a plain script does. Each stage runs the development questions `--repeat` times;
percentiles are over all of those calls. The answer path keeps what it reads of each sentence
(its terms, the kinds of answer it holds), so a question whose releases were read before is
cheaper: the p50 of the first pass and of the later passes are also printed. In process, the
first pass asks each question for the first time (after one warm-up question); the server's
two workers keep their own memos, and its stages follow one another, so there the split is
rougher.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, Server, machine, percentile, questions, table  # noqa: E402

sys.path.insert(0, str(REPO))


def timed(call, items, repeat: int) -> list[float]:
    call(items[0])  # warm-up
    out = []
    for _ in range(repeat):
        for item in items:
            started = time.perf_counter()
            call(item)
            out.append((time.perf_counter() - started) * 1000)
    return out


class Poster:
    """Posts questions over one HTTP/1.1 connection kept alive, as a browser does, or over a
    new connection for each request, as a plain script does."""

    def __init__(self, url: str, keep_alive: bool = True) -> None:
        self.host, port = url.removeprefix("http://").split(":")
        self.port, self.keep_alive = int(port), keep_alive
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def __call__(self, question: str) -> None:
        body = json.dumps({"question": question})
        self.conn.request("POST", "/api/query", body, {"Content-Type": "application/json"})
        resp = self.conn.getresponse()
        resp.read()
        if not self.keep_alive:
            self.conn.close()  # the next request opens a new connection
        if resp.status != 200:
            raise RuntimeError(f"POST /api/query answered {resp.status}")


def main() -> None:
    from qa import store
    from qa.config import Settings
    from qa.embedding import set_threads
    from qa.live import EngineHolder

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, action="append", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    set_threads(1)
    qs = questions()
    rows, record = [], {"machine": machine(), "results": []}
    for index_dir in args.index:
        build = index_dir / "builds" / store.live_build_id(index_dir)
        manifest = store.read_manifest(build)
        os.environ["QA_BACKEND"] = manifest.backend
        settings = Settings.from_env(index_dir=index_dir)
        engine = EngineHolder(settings).get()
        encoder, retriever = engine.retriever.encoder, engine.retriever
        stages = {
            "query embedding (floor)": timed(lambda q, e=encoder: e.encode([q]), qs, args.repeat),
            "retrieve": timed(lambda q, r=retriever: r.search(q, k=8), qs, args.repeat),
            "answer (extract)": timed(engine.extract, qs, args.repeat),
        }
        with Server(index_dir) as server:
            stages["POST /api/query"] = timed(Poster(server.url), qs, args.repeat)
            stages["POST, new connection"] = timed(
                Poster(server.url, keep_alive=False), qs, args.repeat
            )
        floor = percentile(stages["query embedding (floor)"], 50)
        for stage, times in stages.items():
            p50, p95, p99 = (percentile(times, p) for p in (50, 95, 99))
            first, later = percentile(times[: len(qs)], 50), percentile(times[len(qs) :], 50)
            rows.append(
                [manifest.chunks, manifest.index_type, stage, p50, p95, p99, p50 / floor]
                + [first, later]
            )
            record["results"].append(
                {
                    "index": str(index_dir),
                    "chunks": manifest.chunks,
                    "index_type": manifest.index_type,
                    "backend": manifest.backend,
                    "stage": stage,
                    "p50_ms": p50,
                    "p95_ms": p95,
                    "p99_ms": p99,
                    "x_floor": p50 / floor,
                    "p50_first_pass_ms": first,
                    "p50_later_passes_ms": later,
                }
            )
    print(machine())
    print(f"{len(qs)} questions x {args.repeat}; in-process stages use 1 model thread\n")
    headers = ["chunks", "index", "stage", "p50 ms", "p95 ms", "p99 ms", "x floor"]
    print(table([*headers, "p50 first pass", "p50 later passes"], rows))
    print(f"\nReproduce: python bench/query.py {' '.join(sys.argv[1:])}")
    if args.json:
        args.json.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
