"""Build on Ray: loading and chunking as Ray Data tasks, embedding in a pool of encoder actors.

The driver (the process running ``qa rebuild-index``) lists and reads the corpus files, checks
the embedding cache and writes the index; the cluster parses, chunks and embeds. So the corpus
and the index need to be only where the driver runs, and the index is the local engine's.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import pickle
import socket
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.build_engines import (
    Corpus,
    OnBatch,
    Progress,
    Spans,
    collect_batches,
    default_encoder,
)
from qa.chunking import Chunk, ChunkingParams, chunk_release
from qa.config import Settings
from qa.corpus import Limits, LoadResult, corpus_files, merge_files, read_file
from qa.errors import BuildFailed
from qa.survey import Shard

if TYPE_CHECKING:
    import numpy as np

    from qa.embedding import Encoder

EncoderFactory = Callable[[], "Encoder"]
# Retries of a task or actor call whose process or node died, and restarts of an actor (an
# exception raised by our code is not retried: it would fail again). Ray Data's default is to
# retry forever, which turns an actor that always crashes into a build that never ends.
RETRIES = 3
RELEASES_PER_BLOCK = 100
FAILED = "; the live index is unchanged"


class RayEngine:
    """Load, chunk and embed on a Ray cluster, or on a local Ray instance it starts."""

    def __init__(
        self,
        settings: Settings,
        address: str | None = None,
        workers: int | None = None,
        encoder_factory: EncoderFactory | None = None,
    ) -> None:
        self.settings = settings
        self.address = address if address is not None else settings.ray_address
        self.workers = workers or settings.ray_workers
        # Picklable, so that each worker builds its own encoder: the model loads in the actors.
        self.factory: EncoderFactory = encoder_factory or functools.partial(
            default_encoder, settings
        )
        self._encoder = self.factory()  # only for its limits: the driver never loads the model
        self.started_in = 0.0  # seconds to start or join Ray
        self.actor_seconds = 0.0  # seconds the encoder actors spent embedding, all together
        self._owns_ray = False

    @property
    def max_tokens(self) -> int:
        """The encoder's token limit."""
        return self._encoder.max_tokens

    def load(
        self, paths: Sequence[Path], params: ChunkingParams, progress: Progress | None
    ) -> Corpus:
        """Parse and chunk the corpus on Ray; the driver holds it whole, as one batch (so the
        chunks the cache lacks go to the encoder actors together)."""
        return Corpus.loaded(*self.chunk(paths, params, progress))

    def chunk(
        self, paths: Sequence[Path], params: ChunkingParams, progress: Progress | None
    ) -> tuple[LoadResult, list[list[Chunk]]]:
        """Parse the corpus files in Ray tasks, then chunk the releases in Ray tasks."""
        import ray.data

        cpus = self._connect()
        files, missing = corpus_files(paths)
        limits = self.settings.corpus_limits()
        rows = [
            {"n": n, "path": str(path), "base": str(base), "raw": _read_bytes(path, limits)}
            for n, (path, base) in enumerate(files)
        ]
        results: list[LoadResult] = [LoadResult() for _ in files]
        if rows:
            parsed = _map_batches(
                ray.data.from_items(rows, override_num_blocks=min(len(rows), 4 * cpus)),
                _read_files,
                fn_kwargs={"limits": limits},
                batch_size=None,
                num_cpus=1,
                max_retries=RETRIES,
            )
            for batch in _failing_clearly("reading the corpus", parsed):
                for n, result in zip(batch["n"], batch["result"], strict=True):
                    results[int(n)] = pickle.loads(result)
        loaded = merge_files(results, missing)
        shard = Shard.parse(self.settings.shard)
        if shard is not None:
            loaded.releases = [r for r in loaded.releases if shard.holds(r.id)]
        per_release: list[list[Chunk]] = [[] for _ in loaded.releases]
        if not loaded.releases:
            return loaded, per_release
        # Releases travel as pickles: Ray Data keeps columns in Arrow, which has no dataclasses.
        items = [{"i": i, "release": pickle.dumps(r)} for i, r in enumerate(loaded.releases)]
        blocks = min(len(items), max(4 * cpus, math.ceil(len(items) / RELEASES_PER_BLOCK)))
        chunked = _map_batches(
            ray.data.from_items(items, override_num_blocks=blocks),
            _chunk_releases,
            fn_kwargs={"factory": self.factory, "params": params},
            batch_size=None,
            num_cpus=1,
            max_retries=RETRIES,
        )
        done = 0
        for batch in _failing_clearly("chunking", chunked):
            for i, chunks in zip(batch["i"], batch["chunks"], strict=True):
                per_release[int(i)] = pickle.loads(chunks)
            done += len(batch["i"])
            if progress:
                progress("chunk", done, len(items))
        return loaded, per_release

    def embed(
        self,
        texts: list[str],
        spans: list[Spans],
        lengths: list[int],
        progress: Progress | None,
        on_batch: OnBatch | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embed in a pool of encoder actors, each loading the model once.

        Texts go longest first, so each batch holds texts of similar length (less padding).
        """
        import ray.data

        if not texts:
            return collect_batches(0, self._encoder.dimension, [])
        cpus = self._connect()
        workers, threads = self._plan(cpus)
        step = max(1, self.settings.batch_size * 4)
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
        items = [
            {
                "row": i,
                "text": texts[i],
                "starts": [s for s, _ in spans[i]],
                "ends": [e for _, e in spans[i]],
            }
            for i in order
        ]
        embedded = _map_batches(
            ray.data.from_items(items, override_num_blocks=math.ceil(len(items) / step)),
            EncoderActor,
            fn_constructor_kwargs={
                "factory": self.factory,
                "threads": threads,
                "batch_size": self.settings.batch_size,
            },
            compute=ray.data.ActorPoolStrategy(size=workers),
            batch_size=step,
            num_cpus=threads,
            max_restarts=RETRIES,
            max_task_retries=RETRIES,
        )

        def batches() -> Iterator[tuple[list[int], np.ndarray, list[np.ndarray]]]:
            for batch in _failing_clearly("embedding", embedded):
                self.actor_seconds += float(batch["seconds"].sum())
                yield [int(r) for r in batch["row"]], batch["vector"], list(batch["units"])

        return collect_batches(len(texts), self._encoder.dimension, batches(), progress, on_batch)

    def close(self) -> None:
        """Shut down the Ray instance this engine started (a joined cluster keeps running)."""
        if self._owns_ray:
            import ray

            ray.shutdown()
            self._owns_ray = False

    def __enter__(self) -> RayEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> int:
        """Start or join Ray once; return the cluster's CPUs."""
        try:
            import ray
            import ray.data
        except ImportError:
            raise BuildFailed(
                "the ray engine needs Ray: pip install 'releases-qa[ray]' (or 'ray[data]')"
            ) from None
        if not ray.is_initialized():
            started = time.perf_counter()
            quiet: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
            address = self.address or os.environ.get("RAY_ADDRESS", "")
            try:
                if address:
                    _check_reachable(address)
                    ray.init(address=address, **quiet)
                else:
                    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, **quiet)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = f"join the Ray cluster at {address}" if address else "start Ray"
                raise BuildFailed(
                    f"cannot {where}: {exc}; start a cluster with `ray start --head` or check "
                    "--ray-address"
                ) from None
            self._owns_ray = True
            self.started_in = time.perf_counter() - started
        # The build reports its own progress: no bars, no notices of each dataset's start.
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        context.raise_original_map_exception = True  # so a failure can say what went wrong
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)
        return int(ray.cluster_resources().get("CPU", 1))

    def _plan(self, cpus: int) -> tuple[int, int]:
        """Return (encoder actors, CPUs and torch threads each): the cluster's CPUs shared out."""
        import ray

        # One single-threaded actor per CPU by default: MiniLM gains little from a second torch
        # thread (bench/ray_build.py: 2 actors of 1 thread embed 1.5x what 1 of 2 threads does).
        workers = self.workers or cpus
        if workers > cpus:
            raise BuildFailed(
                f"{workers} encoder actors need {workers} CPUs, the Ray cluster has {cpus}: "
                "use fewer --workers or add nodes"
            )
        largest_node = max(int(n["Resources"].get("CPU", 0)) for n in ray.nodes() if n["Alive"])
        return workers, max(1, min(cpus // workers, largest_node))


class EncoderActor:
    """One encoder per actor: the model loads once, when the actor starts."""

    def __init__(self, factory: EncoderFactory, threads: int, batch_size: int) -> None:
        from qa.embedding import set_threads

        # The actor's share of the cores (torch or ONNX Runtime), as `qa serve` gives each
        # worker its share.
        set_threads(threads)
        self.encoder = factory()
        self.encoder.encode(["warm up"])
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Embed a batch of texts and their unit spans."""
        import numpy as np

        spans = [
            list(zip(starts.tolist(), ends.tolist(), strict=True))
            for starts, ends in zip(batch["starts"], batch["ends"], strict=True)
        ]
        started = time.perf_counter()
        vectors, units = self.encoder.encode_spans(
            list(batch["text"]), spans, batch_size=self.batch_size
        )
        # Each row's share of the model time, so that any regrouping of rows still adds up.
        seconds = np.full(len(spans), (time.perf_counter() - started) / max(1, len(spans)))
        return {"row": batch["row"], "vector": vectors, "units": units, "seconds": seconds}


def _check_reachable(address: str) -> None:
    """Fail in seconds when nothing listens at a host:port (Ray itself retries for minutes)."""
    host, colon, port = address.rpartition(":")
    if "://" in address or not colon or not port.isdigit():
        return  # "auto", "ray://...": Ray's to resolve
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except OSError as exc:
        raise BuildFailed(
            f"cannot reach the Ray cluster at {address} ({exc}): start it with "
            "`ray start --head` or check --ray-address"
        ) from None


def _map_batches(dataset: Any, fn: Any, **options: Any) -> Any:
    """Call ``dataset.map_batches`` with Ray Core options such as retry limits."""
    with warnings.catch_warnings():
        # Ray 2.51+ deprecates passing Ray Core options here but offers no other way to bound
        # retries yet (see RETRIES); pyproject.toml keeps Ray below the release removing it.
        warnings.filterwarnings("ignore", "`ray_remote_args` is deprecated", DeprecationWarning)
        return dataset.map_batches(fn, **options)


def _read_bytes(path: Path, limits: Limits) -> bytes | None:
    """Read a file for shipping; on failure (or when too large) the task's reader says why."""
    try:
        if path.stat().st_size > limits.file_bytes and path.suffix.lower() not in (
            ".jsonl",
            ".ndjson",
        ):
            return None
        return path.read_bytes()
    except OSError:
        return None


def _read_files(batch: dict[str, Any], limits: Limits) -> dict[str, Any]:
    results = [
        pickle.dumps(read_file(Path(path), Path(base), raw, limits))
        for path, base, raw in zip(batch["path"], batch["base"], batch["raw"], strict=True)
    ]
    return {"n": batch["n"], "result": results}


def _chunk_releases(
    batch: dict[str, Any], factory: EncoderFactory, params: ChunkingParams
) -> dict[str, Any]:
    # Token counting needs only the tokenizer: chunking workers never load the model.
    count = factory().count_tokens
    chunks = [pickle.dumps(chunk_release(pickle.loads(r), count, params)) for r in batch["release"]]
    return {"i": batch["i"], "chunks": chunks}


def _failing_clearly(stage: str, dataset: Any) -> Iterator[dict[str, Any]]:
    """Iterate a dataset's batches, turning a Ray failure into an error that says what failed."""
    from ray.exceptions import RayError

    try:
        yield from dataset.iter_batches(batch_size=None, batch_format="numpy")
    except RayError as exc:
        raise BuildFailed(f"the Ray build failed while {stage}: {_reason(exc)}{FAILED}") from exc


def _reason(exc: BaseException) -> str:
    """Return the error behind a Ray failure in one line."""
    inner = getattr(exc, "cause", None) or exc  # a task's own exception, when Ray kept it
    lines = str(inner).strip().splitlines()
    return f"{type(inner).__name__}: {lines[0] if lines else ''}"
