"""The mapping of the question's embedding (``qa.adapter``): what it learns, how it is kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.adapter import Adapter

MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _questions(seed: int, n: int = 120, dim: int = 16, per: int = 8):  # type: ignore[no-untyped-def]
    """Questions whose answering sentence is the question turned (a fixed permutation of
    its directions, partly), among sentences more like the question than it is."""
    rng = np.random.default_rng(seed)
    turn = np.roll(np.eye(dim), 3, axis=1)
    qs, ss, labels, groups = [], [], [], []
    for g in range(n):
        q = _unit(rng.normal(size=dim))
        answer = _unit(0.35 * q + turn @ q)
        for k in range(per):
            s = answer if k == 0 else _unit(q + 1.2 * rng.normal(size=dim))
            qs.append(q)
            ss.append(s)
            labels.append(int(k == 0))
            groups.append(g)
    return np.asarray(qs), np.asarray(ss), np.asarray(labels), np.asarray(groups)


def _top1(scores: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> float:
    best = {}
    for i, g in enumerate(groups):
        if g not in best or scores[i] > scores[best[g]]:
            best[g] = i
    return float(np.mean([labels[i] for i in best.values()]))


def test_the_fitted_mapping_ranks_answering_sentences_above_lookalikes() -> None:
    q, s, y, g = _questions(0)
    adapter = Adapter.fit(MODEL, q, s, y, g, {"note": "synthetic"})
    tq, ts, ty, tg = _questions(1)  # other questions, the same kind of answer
    plain = _top1((tq * ts).sum(1), ty, tg)
    mapped = _top1((np.asarray([adapter.map(v) for v in tq]) * ts).sum(1), ty, tg)
    assert plain < 0.5 and mapped > plain + 0.3
    # fitted again on the same pairs, the same matrix
    again = Adapter.fit(MODEL, q, s, y, g)
    assert np.array_equal(again.matrix, adapter.matrix)


def test_questions_nothing_answers_teach_nothing() -> None:
    q, s, y, g = _questions(0, n=10)
    none = Adapter.fit(MODEL, q, s, np.zeros_like(y), g)
    assert np.array_equal(none.matrix, np.eye(16, dtype=np.float32))


def test_a_mapping_round_trips_and_maps_only_its_model(tmp_path: Path) -> None:
    q, s, y, g = _questions(0, n=20)
    adapter = Adapter.fit(MODEL, q, s, y, g, {"pairs": len(y)})
    path = tmp_path / "adapter.npz"
    adapter.save(path)
    again = Adapter.load(path)
    assert again is not None and again.model == MODEL and again.trained == {"pairs": len(y)}
    assert np.array_equal(again.matrix, adapter.matrix) and again.matrix.dtype == np.float32
    assert again.reads(MODEL + "+onnx") and not again.reads("another/model")
    # a vector of another size (another model's) is left as it is
    other = np.ones(8, dtype=np.float32)
    assert np.array_equal(again.map(other), other)
    assert Adapter.load(tmp_path / "missing.npz") is None
    bad = tmp_path / "bad.npz"
    with bad.open("wb") as f:
        np.savez(f, matrix=np.ones((3, 4), dtype=np.float32), meta=np.array('{"model": "m"}'))
    with pytest.raises(ValueError, match="qa train-scorer"):
        Adapter.load(bad)


def test_the_shipped_mapping_maps_the_shipped_model() -> None:
    adapter = Adapter.load()
    assert adapter is not None and adapter.reads(MODEL)
    assert adapter.matrix.shape == (384, 384)
    assert adapter.trained["cv_top1_mapped"] > adapter.trained["cv_top1_plain"]


def test_nothing_to_fit_the_mapping_on_is_said_so() -> None:
    from types import SimpleNamespace

    from qa.training import Pairs, fit_adapters

    engine = SimpleNamespace(index=SimpleNamespace(manifest=SimpleNamespace(model=MODEL)))
    with pytest.raises(ValueError, match="no labelled sentences"):
        fit_adapters(engine, Pairs())  # type: ignore[arg-type]
