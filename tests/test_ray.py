"""The Ray build engine: the same index as the local engine, the cache honoured, failures clear.

One local Ray instance (2 CPUs) serves the whole module.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import conftest
import numpy as np
import pytest
from conftest import DOJ, REPO, SEED_FILE, SEED_ID, FakeEncoder, doj_lines, run_qa

from qa import store
from qa.build import rebuild_index
from qa.config import Settings
from qa.errors import BuildFailed
from qa.live import EngineHolder
from qa.ray_engine import RayEngine


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[None]:
    import ray
    import ray.cloudpickle

    ray.init(
        num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING
    )
    # Ray's workers cannot import the tests' modules: the fakes travel by value.
    ray.cloudpickle.register_pickle_by_value(conftest)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield
    ray.shutdown()


class CrashOnce(FakeEncoder):
    """An encoder whose process dies on its first batch (the marker file remembers)."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    def encode_spans(self, texts, spans, batch_size: int = 32):
        if not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os._exit(1)
        return super().encode_spans(texts, spans, batch_size)


class AlwaysCrash(FakeEncoder):
    def encode_spans(self, texts, spans, batch_size: int = 32):
        os._exit(1)


class Raises(FakeEncoder):
    def encode_spans(self, texts, spans, batch_size: int = 32):
        raise RuntimeError("encoder crashed on a batch")


def _fake_settings(corpus: Path, index: Path) -> Settings:
    return Settings.from_env(environ={}, corpus=(corpus,), index_dir=index, model=FakeEncoder.name)


def _vectors(index: store.Index) -> np.ndarray:
    return index.vectors.reconstruct_n(0, index.vectors.ntotal)


def test_import_and_help_do_not_import_ray() -> None:
    code = (
        "import sys, qa, qa.cli, qa.build\n"
        "from click.testing import CliRunner\n"
        "r = CliRunner().invoke(qa.cli.main, ['rebuild-index', '--help'])\n"
        "assert r.exit_code == 0 and '--ray-address' in r.output, r.output\n"
        "print('ray' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_ray_build_writes_what_the_local_build_writes(tmp_path: Path, ray_instance: None) -> None:
    local = _fake_settings(DOJ, tmp_path / "local")
    on_ray = _fake_settings(DOJ, tmp_path / "ray")
    rebuild_index(local, encoder=FakeEncoder())
    stages: dict[str, tuple[int, int]] = {}
    with RayEngine(on_ray, workers=2, encoder_factory=FakeEncoder) as engine:
        summary = rebuild_index(
            on_ray, engine=engine, progress=lambda s, d, t: stages.__setitem__(s, (d, t))
        )
    a = store.open_index(local.index_dir, FakeEncoder.name)
    b = store.open_index(on_ray.index_dir, FakeEncoder.name)
    n = len(doj_lines())
    assert stages == {"chunk": (n, n), "embed": (summary.chunks, summary.chunks)}
    assert summary.embedded == summary.chunks == len(a.chunks) > n
    assert [(c.id, c.text, c.units) for c in a.chunks] == [
        (c.id, c.text, c.units) for c in b.chunks
    ]
    assert np.array_equal(_vectors(a), _vectors(b))
    assert np.array_equal(np.asarray(a.unit_vectors), np.asarray(b.unit_vectors))
    assert a.releases == b.releases
    same = ("chunking", "corpus_fingerprint", "releases", "chunks", "date_from", "date_to")
    assert {k: getattr(a.manifest, k) for k in same} == {k: getattr(b.manifest, k) for k in same}


def test_ray_build_sends_only_what_the_cache_lacks(
    settings: Settings, corpus_dir: Path, ray_instance: None
) -> None:
    first = rebuild_index(settings, encoder=FakeEncoder())  # the local engine fills the cache
    with RayEngine(settings, workers=1, encoder_factory=FakeEncoder) as engine:
        again = rebuild_index(settings, engine=engine)
        assert (again.embedded, again.reused) == (0, first.chunks)
        (corpus_dir / "new.md").write_text(
            "---\ntitle: Fraudster Sentenced\ndate: 2017-03-01\n---\nA fraudster was sentenced "
            "to five years in prison for a scheme that cost investors $3 million.\n"
        )
        added = rebuild_index(settings, engine=engine)
    assert (added.added, added.unchanged) == (1, 4)
    assert added.embedded == added.chunks - first.chunks == 1


def test_a_crashed_actor_is_restarted_and_the_build_completes(
    settings: Settings, tmp_path: Path, ray_instance: None
) -> None:
    marker = tmp_path / "crashed"
    factory = functools.partial(CrashOnce, str(marker))
    with RayEngine(settings, workers=1, encoder_factory=factory) as engine:
        summary = rebuild_index(settings, engine=engine)
    assert marker.exists()  # the first actor died
    assert summary.embedded == summary.chunks > 0
    reference = _fake_settings(settings.corpus[0], tmp_path / "reference")
    rebuild_index(reference, encoder=FakeEncoder())
    a = store.open_index(reference.index_dir, FakeEncoder.name)
    b = store.open_index(settings.index_dir, FakeEncoder.name)
    assert np.array_equal(_vectors(a), _vectors(b))


@pytest.mark.parametrize(
    ("factory", "reason"),
    [(Raises, "RuntimeError: encoder crashed on a batch"), (AlwaysCrash, "ActorDiedError")],
)
def test_a_failed_ray_build_leaves_the_live_index(
    built: Settings, ray_instance: None, factory: type, reason: str
) -> None:
    live = store.live_build_id(built.index_dir)
    with (
        RayEngine(built, workers=1, encoder_factory=factory) as engine,
        pytest.raises(BuildFailed) as failed,
    ):
        rebuild_index(built, engine=engine, full=True)
    assert "the Ray build failed while embedding" in failed.value.message
    assert reason in failed.value.message
    assert "the live index is unchanged" in failed.value.message
    assert store.live_build_id(built.index_dir) == live
    assert [p.name for p in (built.index_dir / "builds").iterdir()] == [live]
    store.open_index(built.index_dir, FakeEncoder.name)


def test_more_actors_than_cpus_is_refused(settings: Settings, ray_instance: None) -> None:
    with (
        RayEngine(settings, workers=3, encoder_factory=FakeEncoder) as engine,
        pytest.raises(BuildFailed, match="3 encoder actors need 3 CPUs, the Ray cluster has 2"),
    ):
        rebuild_index(settings, engine=engine)


def test_an_unreachable_cluster_fails_fast(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"  # bound, not listening
        out = run_qa(
            *["rebuild-index", "--engine", "ray", "--ray-address", address],
            *["--index", str(tmp_path / "index")],
            timeout=120,
        )
    assert out.returncode == 1
    assert f"cannot reach the Ray cluster at {address}" in out.stderr
    assert "ray start --head" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.model
def test_cli_builds_on_a_local_ray_instance(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / f"{SEED_ID}.txt").write_text((SEED_FILE).read_text())
    index = tmp_path / "index"
    out = run_qa(
        *["rebuild-index", "--engine", "ray", "--workers", "1"],
        *["--corpus", str(corpus), "--index", str(index)],
    )
    assert out.returncode == 0, out.stderr
    assert "Indexed 1 releases from 1 files" in out.stdout
    assert store.open_index(index, Settings().model).manifest.releases == 1


QUESTIONS = [
    json.loads(line)["question"]
    for line in (REPO / "bench" / "questions" / "dev.jsonl").read_text().splitlines()
][::10][:10]


@pytest.mark.model
def test_ray_and_local_builds_of_the_fixture_releases_agree(
    tmp_path: Path, ray_instance: None
) -> None:
    local = Settings.from_env(environ={}, corpus=(DOJ,), index_dir=tmp_path / "local")
    on_ray = replace(local, index_dir=tmp_path / "ray")
    rebuild_index(local, full=True)
    with RayEngine(on_ray, workers=2) as engine:
        summary = rebuild_index(on_ray, engine=engine, full=True)
    assert summary.embedded == summary.chunks
    a = store.open_index(local.index_dir, local.model)
    b = store.open_index(on_ray.index_dir, on_ray.model)
    assert [(c.id, c.text) for c in a.chunks] == [(c.id, c.text) for c in b.chunks]
    cosines = np.sum(_vectors(a) * _vectors(b), axis=1)
    assert cosines.min() >= 0.999, cosines.min()
    units_a = np.asarray(a.unit_vectors, np.float32)
    units_b = np.asarray(b.unit_vectors, np.float32)
    unit_cosines = np.sum(units_a * units_b, axis=1) / (
        np.linalg.norm(units_a, axis=1) * np.linalg.norm(units_b, axis=1)
    )
    assert unit_cosines.min() >= 0.999, unit_cosines.min()
    engines = EngineHolder(local).get(), EngineHolder(on_ray).get()
    for question in QUESTIONS:
        top = [[h.chunk.id for h in e.search(question, k=5)] for e in engines]
        assert top[0] == top[1], question
