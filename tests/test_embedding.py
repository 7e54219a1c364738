"""The embedding backends: torch, ONNX fp32 and ONNX int8 agree; an index records its backend."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEncoder, doj_lines

from qa import store
from qa.build import rebuild_index
from qa.build_engines import default_encoder
from qa.config import Settings
from qa.embedding import OnnxEncoder, onnx_model_file
from qa.errors import IndexMismatch
from qa.live import EngineHolder


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="module")
def passages() -> tuple[list[str], list[list[tuple[int, int]]]]:
    """Forty DOJ passages with the title and one body sentence as spans."""
    records = [json.loads(line) for line in doj_lines()[:40]]
    texts, spans = [], []
    for r in records:
        text = f"{r['title']}\n{r['body'][:1200]}"
        first = text.find(". ", len(r["title"])) + 1 or len(text)
        texts.append(text)
        spans.append([(0, len(r["title"])), (len(r["title"]) + 1, first)])
    return texts, spans


def _encoders(onnx_dir: Path) -> dict[str, object]:
    return {
        backend: default_encoder(Settings.from_env(environ={}, backend=backend, onnx_dir=onnx_dir))
        for backend in ("torch", "onnx", "onnx-int8")
    }


@pytest.mark.model
def test_onnx_backends_match_torch(onnx_dir: Path, passages) -> None:
    texts, spans = passages
    encoders = _encoders(onnx_dir)
    ref_vectors, ref_units = encoders["torch"].encode_spans(texts, spans, batch_size=16)
    # fp32 ONNX is the same computation; int8 weights move vectors a little, not the meaning.
    for backend, floor in (("onnx", 0.9999), ("onnx-int8", 0.98)):
        encoder = encoders[backend]
        assert isinstance(encoder, OnnxEncoder)
        vectors, units = encoder.encode_spans(texts, spans, batch_size=16)
        assert vectors.shape == ref_vectors.shape and vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        assert (vectors * ref_vectors).sum(1).min() >= floor, backend
        for mine, theirs in zip(units, ref_units, strict=True):
            assert mine.shape == theirs.shape
            assert (mine * theirs).sum(1).min() >= floor - 0.01, backend
        # ``encode`` is the pooled text vector of ``encode_spans``. With int8, activations are
        # quantised with one scale per batch, so batch-mates move a vector slightly.
        alone = encoder.encode(texts[:3])
        if backend == "onnx":
            assert np.allclose(alone, vectors[:3], atol=1e-5)
        else:
            assert (alone * vectors[:3]).sum(1).min() >= 0.99
        assert encoder.count_tokens(texts) == encoders["torch"].count_tokens(texts)


@pytest.mark.model
def test_the_export_is_made_once_and_never_half_written(onnx_dir: Path) -> None:
    settings = Settings.from_env(environ={})
    path = onnx_model_file(settings.resolved_model_path(), onnx_dir, quantized=True)
    stamp = path.stat().st_mtime_ns
    again = onnx_model_file(settings.resolved_model_path(), onnx_dir, quantized=True)
    assert again == path and path.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in path.parent.glob("*.onnx")) == ["model.onnx", "model_qint8.onnx"]
    assert path.stat().st_size < 0.7 * (path.parent / "model.onnx").stat().st_size


def test_an_index_records_its_backend_and_is_served_only_with_it(
    settings: Settings, fake_encoder: FakeEncoder
) -> None:
    int8 = dataclasses.replace(settings, backend="onnx-int8")
    rebuild_index(int8, encoder=fake_encoder)
    manifest = store.read_manifest(int8.index_dir / "builds" / store.live_build_id(int8.index_dir))
    assert manifest.backend == "onnx-int8"
    assert manifest.model == f"{FakeEncoder.name}+onnx-int8"
    # Same index, other backend: refused, and the message says which setting fixes it.
    with pytest.raises(IndexMismatch) as err:
        EngineHolder(settings, fake_encoder).get()
    assert "onnx-int8 embedding backend" in err.value.message
    assert "QA_BACKEND=onnx-int8" in err.value.message
    assert EngineHolder(int8, fake_encoder).get().index.manifest.backend == "onnx-int8"


def test_vectors_of_one_backend_are_never_reused_by_another(
    settings: Settings, fake_encoder: FakeEncoder
) -> None:
    rebuild_index(settings, encoder=fake_encoder)
    first = fake_encoder.chunks_embedded
    rebuild_index(dataclasses.replace(settings, backend="onnx"), encoder=fake_encoder)
    assert fake_encoder.chunks_embedded == 2 * first  # nothing came from the torch vectors


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="QA_BACKEND='tensorrt': choose one of torch, onnx"):
        Settings.from_env(environ={"QA_BACKEND": "tensorrt"})
    assert os.environ.get("QA_BACKEND") in (None, "")
