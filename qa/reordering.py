"""Search's reordering of its first releases by how well their best sentence answers the
question, scored as answers score sentences (`qa.sentences`); the sentences it scores are the
ones the answer chooses from (`Composer.compose`'s ``scored``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from qa.answer import Composer, Scored
from qa.candidates import LIST_UNITS
from qa.events import reported
from qa.question import Question
from qa.retrieval import Hit
from qa.selection import LIST_MARGIN

if TYPE_CHECKING:
    import numpy as np

RERANK_RELEASES = 5  # the first releases of a search that their best sentences reorder
TITLE_EVENT = 0.3  # what reordering adds for a title announcing the event a question asks about


def rerank(
    composer: Composer,
    q: Question,
    hits: Sequence[Hit],
    vector: np.ndarray,
    weight: float,
    dense_releases: int = 0,
) -> tuple[list[Hit], Scored]:
    """Reorder the first ``RERANK_RELEASES`` releases of the hits, and the
    ``dense_releases`` releases of the best dense ranks among them, by their best passage
    score (relative to the best hit's) plus ``weight`` times the score of their best
    sentence, as answers score sentences: of several releases about one case, the one that
    states the answer ranks first, and a release that dense retrieval found but BM25 did
    not (a paraphrase) can rise into the first few when its sentences answer. Asked what
    happened in court (the sentence handed down, the verdict), releases that report it
    rank above those that only announce it ("is scheduled to be sentenced"), as answers
    quote only the former; asked for a list, a release's list counts as its answer
    would quote it. Passages keep their order within a release. Return the hits reordered
    and the sentences scored (``composer.evidence``), which the answer chooses from."""
    if not hits:
        return [], Scored([], [])
    first = list(dict.fromkeys(h.release.id for h in hits))[:RERANK_RELEASES]
    by_dense = sorted(
        (h for h in hits if h.dense_rank is not None), key=lambda h: h.dense_rank or 0
    )
    best_dense = list(dict.fromkeys(h.release.id for h in by_dense))[:dense_releases]
    first += [r for r in best_dense if r not in first]
    top = max(h.score for h in hits) or 1.0
    passage: dict[str, float] = {}
    for h in hits:
        passage.setdefault(h.release.id, h.score / top)
    sentence: dict[str, float] = dict.fromkeys(first, 0.0)
    # a list question is answered by a list up to LIST_MARGIN below the best sentence
    # (``Selector.select``): a release's list counts that much more, as its answer would
    # quote it (of the releases past EXPAND_RELEASES, only a list in their passages)
    listed = LIST_MARGIN if q.wants_list_anywhere else 0.0
    scored = composer.evidence(q, hits, vector)
    for c in scored.candidates:
        score = c.score + listed * (c.unit.kind in LIST_UNITS)
        sentence[c.release.id] = max(sentence.get(c.release.id, 0.0), score)
    releases = {h.release.id: h.release for h in hits}
    # what someone faces, or when he will be sentenced: the charges or the plea say it
    asked = [reports for _, reports in q.outcomes]
    events = q.title_events
    # the outcome must be reported, and the event be the title's, by a release about the
    # question (with all of its key words, as the first release has them): another
    # defendant's sentence, another suspect's extradition is not it
    key = (
        composer.sentences.key_terms(q.context or q.text, first[0])
        if asked or events
        else frozenset()
    )

    def about(r: str) -> bool:
        return all(composer.sentences.in_release(t, r) for t in key)

    def reports(r: str) -> bool:
        return all(reported(releases[r].text, x) for x in asked) and about(r)

    def titled(r: str) -> bool:
        return any(t.search(releases[r].title) for t in events) and about(r)

    order = sorted(
        first,
        key=lambda r: (
            bool(asked) and not reports(r),
            -(passage[r] + weight * sentence[r] + TITLE_EVENT * titled(r)),
        ),
    )
    rank = {r: n for n, r in enumerate(order)}
    return sorted(hits, key=lambda h: rank.get(h.release.id, len(rank))), scored
