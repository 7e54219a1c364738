"""Build throughput: `rebuild_index` per backend against a bare `SentenceTransformer.encode`.

    python bench/build.py [--releases 300] [--repeat 3] [--backends torch,onnx-int8]
                          [--batch-sizes 32] [--json FILE]

The corpus is the first N releases of ../shared/corpus/doj-opa-2009-2018.jsonl.gz (0 = the 283
DOJ releases of doj-intl-283.jsonl). Every measurement runs in a fresh child process (so peak
memory is its own), with a fresh index and no embedding cache; the model is loaded before the
clock starts. The floor is a bare `SentenceTransformer.encode` (fp32 torch, batch 32) of the
exact texts the build embeds. Runs are interleaved (floor, backends, floor, ...) so that load
from elsewhere on the machine hits all of them alike.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DOJ_283, SHARED, machine, median_spread, table  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
BIG = SHARED / "corpus" / "doj-opa-2009-2018.jsonl.gz"


def write_slice(releases: int, folder: Path) -> Path:
    """Write the first ``releases`` of the big corpus (or the 283) as one JSONL file."""
    out = folder / "slice.jsonl"
    if releases <= 0:
        out.write_bytes(DOJ_283.read_bytes())
        return out
    with gzip.open(BIG, "rt", encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
        for n, line in enumerate(src):
            if n >= releases:
                break
            dst.write(line)
    return out


def _settings(corpus: Path, index: Path, backend: str, batch_size: int, onnx_dir: Path):
    sys.path.insert(0, str(REPO))
    from qa.config import Settings

    return Settings.from_env(
        corpus=(corpus,),
        index_dir=index,
        backend=backend,
        batch_size=batch_size,
        onnx_dir=onnx_dir,
    )


def chunk_texts(corpus: Path, onnx_dir: Path) -> tuple[list[str], int]:
    """Return the texts a build embeds and their model tokens (special tokens included)."""
    sys.path.insert(0, str(REPO))
    from qa.build_engines import default_encoder
    from qa.chunking import ChunkingParams, chunk_context, chunk_release, embed_text
    from qa.corpus import load_releases

    settings = _settings(corpus, corpus.parent / "unused", "torch", 32, onnx_dir)
    encoder = default_encoder(settings)
    params = ChunkingParams(settings.chunk_tokens, settings.chunk_overlap, settings.chunk_context)
    texts = []
    for release in load_releases(settings.corpus).releases:
        context = chunk_context(release, params)
        for chunk in chunk_release(release, encoder.count_tokens, params):
            texts.append(embed_text(context, chunk.text))
    tokens = sum(min(n + 2, encoder.max_tokens) for n in encoder.count_tokens(texts))
    return texts, tokens


def _floor(corpus: Path, onnx_dir: Path, out: mp.Queue) -> None:
    import os

    os.environ["HF_HUB_OFFLINE"] = "1"
    from sentence_transformers import SentenceTransformer

    texts, _ = chunk_texts(corpus, onnx_dir)
    sys.path.insert(0, str(REPO))
    from qa.config import Settings

    model = SentenceTransformer(Settings.from_env().resolved_model_path(), device="cpu")
    model.encode(texts[:32])  # warm-up, untimed
    started = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    out.put((time.perf_counter() - started, _peak_mib()))


def _build(
    corpus: Path, backend: str, batch_size: int, onnx_dir: Path, tmp: Path, out: mp.Queue
) -> None:
    sys.path.insert(0, str(REPO))
    from qa.build import rebuild_index
    from qa.build_engines import default_encoder

    settings = _settings(
        corpus, tmp / f"index-{backend}-{time.time_ns()}", backend, batch_size, onnx_dir
    )
    encoder = default_encoder(settings)
    encoder.encode(["warm up"])  # the model load is not the build
    started = time.perf_counter()
    summary = rebuild_index(settings, encoder=encoder, full=True)
    out.put((time.perf_counter() - started, _peak_mib(), summary.chunks))


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_child(target, *args) -> tuple:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, out))
    proc.start()
    result = out.get()
    proc.join()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--releases", type=int, default=300, help="first N of the 12,694; 0 = the 283")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--backends", default="torch,onnx-int8")
    ap.add_argument("--batch-sizes", default="32", help="e.g. 16,32,64 to choose by measurement")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    backends = args.backends.split(",")
    batches = [int(b) for b in args.batch_sizes.split(",")]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        onnx_dir = tmp / "onnx"
        corpus = write_slice(args.releases, tmp)
        texts, tokens = chunk_texts(corpus, onnx_dir)
        runs: dict[str, list[tuple]] = {}
        for _ in range(args.repeat):
            runs.setdefault("floor", []).append(_in_child(_floor, corpus, onnx_dir))
            for backend in backends:
                for batch in batches:
                    key = f"{backend}, batch {batch}"
                    runs.setdefault(key, []).append(
                        _in_child(_build, corpus, backend, batch, onnx_dir, tmp)
                    )
    floor_s, floor_spread = median_spread([r[0] for r in runs["floor"]])
    fp32 = f"torch, batch {batches[0]}"
    fp32_s = median_spread([r[0] for r in runs[fp32]])[0] if fp32 in runs else None
    rows, record = [], {"machine": machine(), "chunks": len(texts), "tokens": tokens, "runs": {}}
    for key, results in runs.items():
        seconds, spread = median_spread([r[0] for r in results])
        peak = max(r[1] for r in results)
        label = (
            "bare SentenceTransformer.encode (floor)" if key == "floor" else f"rebuild-index, {key}"
        )
        rows.append(
            [
                label,
                seconds,
                spread,
                len(texts) / seconds,
                tokens / seconds,
                floor_s / seconds,
                (fp32_s / seconds) if fp32_s else "",
                peak,
            ]
        )
        record["runs"][key] = {"seconds": [r[0] for r in results], "peak_mib": peak}
    print(machine())
    print(
        f"{len(texts):,} chunks, {tokens:,} tokens; "
        f"{args.releases or 283} releases; median of {args.repeat} runs, interleaved\n"
    )
    print(
        table(
            [
                "what",
                "s (median)",
                "spread",
                "chunks/s",
                "tokens/s",
                "x floor",
                "x torch build",
                "peak MiB",
            ],
            rows,
        )
    )
    command = " ".join(["python bench/build.py", *sys.argv[1:]])
    print(f"\nfloor spread {floor_spread:.1f} s. Reproduce: {command}")
    if args.json:
        args.json.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
