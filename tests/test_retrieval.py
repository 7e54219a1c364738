from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import FakeEncoder, doj_lines

from qa import store
from qa.config import Settings
from qa.retrieval import Filters, Retriever, _top


def test_top_scores_are_exactly_those_of_a_full_sort() -> None:
    rng = np.random.default_rng(7)
    for _ in range(300):
        scores = rng.random(int(rng.integers(1, 120_000))).astype(np.float32)
        scores[rng.random(len(scores)) < rng.random()] = 0.0  # BM25: most chunks score 0
        if rng.random() < 0.3:
            scores = np.round(scores, 1)  # many ties
        n = min(int(rng.integers(1, 200)), len(scores))
        top = _top(scores, n)
        positive = np.sort(scores[scores > 0])
        assert len(top) == min(n, len(positive))
        assert np.all(np.diff(scores[top]) <= 0)  # best first
        assert np.array_equal(np.sort(scores[top]), positive[len(positive) - len(top) :])


def test_filter_masks_agree_with_filters_admits(built: Settings) -> None:
    index = store.open_index(built.index_dir, FakeEncoder.name)
    retriever = Retriever(index, FakeEncoder())
    dates = sorted({d for d in index.release_dates if d})
    sources = {s for s in index.release_sources if s}
    cases = [
        Filters(date_from=dates[len(dates) // 2]),
        Filters(date_to=dates[0]),
        Filters(date_from=dates[0], date_to=dates[-1]),
        Filters(source="no such source"),
        *(Filters(source=s.upper()) for s in sources),
    ]
    for filters in cases:
        expected = [
            filters.admits(d, s)
            for d, s in zip(index.release_dates, index.release_sources, strict=True)
        ]
        assert retriever._allowed(filters).tolist() == expected


def test_dense_releases_add_only_their_best_passages_and_search_keeps_k(tmp_path: Path) -> None:
    from collections import Counter
    from dataclasses import replace

    from qa.build import rebuild_index
    from qa.engine import Engine

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "doj.jsonl").write_text("\n".join(doj_lines()[:40]) + "\n")
    settings = replace(
        Settings.from_env(environ={}, model=FakeEncoder.name),
        corpus=(corpus,),
        index_dir=tmp_path / "index",
    )
    rebuild_index(settings, encoder=FakeEncoder())
    index = store.open_index(settings.index_dir, FakeEncoder.name)
    retriever = Retriever(index, FakeEncoder())
    engine = Engine(settings, index, FakeEncoder())
    added_to_a_found_release = 0
    for question in [
        "Who was extradited from Mexico for cartel crimes?",
        "Who was sentenced for smuggling wildlife?",
        "Which bank fraud schemes used foreign accounts?",
    ]:
        dense = retriever.search(question, k=200, mode="dense")
        best: dict[str, int] = {}
        for h in sorted(dense, key=lambda h: h.dense_rank or 0):
            best.setdefault(h.release.id, h.row)
        first_dense = list(best.values())[:4]
        for k in range(1, 9):
            plain = retriever.search(question, k=k)
            hits = retriever.search(question, k=k, dense_releases=4)
            # the k fused hits first, then the best passage of each of dense retrieval's first
            # four releases that is not among them
            rows = {h.row for h in plain}
            assert [h.row for h in hits[: len(plain)]] == [h.row for h in plain]
            assert [h.row for h in hits[len(plain) :]] == [r for r in first_dense if r not in rows]
            fused = Counter(h.release.id for h in plain)
            added_to_a_found_release += any(fused[h.release.id] for h in hits[len(plain) :])
            # search reorders them and gives back k passages; a release fusion found keeps
            # its own passages, not the one added to mark its dense rank
            found = Counter(h.release.id for h in engine.search(question, k=k))
            assert sum(found.values()) == len(plain)
            assert all(n <= max(fused[r], 1) for r, n in found.items())
    assert added_to_a_found_release  # the case the last check is about did occur
