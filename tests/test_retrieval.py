from __future__ import annotations

import numpy as np
from conftest import FakeEncoder

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
