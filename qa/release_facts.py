"""What the index says about releases and terms, as answers need it: a term's rarity, the
words, years and opening of a release, whether a release has a term, which releases name a
name, the key words of a question's topic; each read once and kept."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import Any

from qa import evidence, naming
from qa.candidates import Candidate, Memo, Topic, kept
from qa.corpus import Release
from qa.lexical import lexical_tokens, spellings
from qa.question import YEAR
from qa.store import Index

KEY_TERMS = 2  # the question's rarest words another quoted release must share one of
RELEASE_CACHE = 256  # releases whose words are kept (a release's text and words: ~100 KB)
LEAD = 400  # a release's opening, in characters: who and what it is about


class ReleaseFacts:
    """Reads an index's releases and terms, keeping what it reads: per release its words, years,
    opening and the share of a question's names it has, per term and release whether it
    occurs."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._idf = idf_table(index)
        self._release_years: Memo[str, frozenset[str]] = Memo()
        self._term_in: Memo[tuple[str, str], bool] = Memo()
        self._release_words: Memo[str, naming.Words] = Memo(RELEASE_CACHE)
        self._release_named: Memo[tuple[str, frozenset[str]], float] = Memo()
        self._lead: Memo[str, evidence.Surface] = Memo()

    def weight(self, term: str) -> float:
        """A term's inverse document frequency (an unseen term is as rare as can be)."""
        return self._idf.get(term, self._idf[""])

    def lead(self, release: Release) -> evidence.Surface:
        """What a release's opening (``LEAD`` characters) shows on its face: who and what it
        is about."""
        return self._lead.remember(release.id, partial(evidence.surface, release.text[:LEAD]))

    def release_words(self, release: Release) -> naming.Words:
        """The words of a release's title and text (``naming.word_set``), kept per release."""
        return self._release_words.remember(
            release.id, partial(naming.word_set, f"{release.title}\n{release.text}")
        )

    def release_share(self, release: Release, names: frozenset[str]) -> float:
        """The share of the words ``names`` that a release's title and text have, kept per
        release and names."""
        return self._release_named.remember(
            (release.id, names), partial(naming.share_of, names, self.release_words(release))
        )

    def of_years(self, candidates: list[Candidate], years: Sequence[str]) -> list[Candidate]:
        """Keep the candidates from releases that mention one of the question's years (in the
        text, the title or the date): "who was fined in 2016?" is not answered by a release
        that names no 2016. (The words of a date filter the releases passed, "by March
        2015", are not in the question the engine passes.)"""
        if not years:
            return candidates
        return kept(candidates, lambda r: not self.years(r).isdisjoint(years))

    def years(self, release: Release) -> frozenset[str]:
        """The years a release mentions or is dated in, read once per release."""
        return self._release_years.remember(
            release.id,
            lambda: (
                frozenset(YEAR.findall(f"{release.title} {release.text}"))
                | ({release.date[:4]} if release.date else set())
            ),
        )

    def naming(self, name: str) -> list[str]:
        """Return the releases of the whole index whose passages hold every word of ``name``
        in one of its spellings (``lexical.spellings``; as lexical terms: BM25's postings), in
        the order of their ids."""
        found: set[str] | None = None
        for word in name.split():
            holding: set[str] | None = None  # the releases with the word, in any spelling
            for spelling in (word, *spellings(word)):
                releases = self._holding(lexical_tokens([spelling])[0])
                if releases is not None:
                    holding = releases if holding is None else holding | releases
            if holding is None:  # a stop word: no term to look for
                continue
            found = holding if found is None else found & holding
            if not found:
                return []
        return sorted(found or ())

    def _holding(self, terms: list[str]) -> set[str] | None:
        """The releases whose passages hold all of ``terms``; None for no terms."""
        found: set[str] | None = None
        for term in terms:
            rows = self._term_rows(term)
            if rows is None:
                return set()
            releases = {self.index.chunk_releases[int(r)] for r in rows}
            found = releases if found is None else found & releases
            if not found:
                return set()
        return found

    def in_release(self, term: str, release_id: str) -> bool:
        """Whether a release's passages contain a lexical term (BM25 postings, sorted rows;
        kept per term and release, as the key words of a case recur in its follow-ups)."""
        return self._term_in.remember((term, release_id), lambda: self._postings(term, release_id))

    def _term_rows(self, term: str) -> Any:
        """The rows of the chunks that hold a lexical term (its BM25 postings, sorted); None
        for a term the index does not have."""
        col = self.index.bm25.vocab_dict.get(term)
        scores = self.index.bm25.scores
        if col is None or col + 1 >= len(scores["indptr"]):
            return None
        return scores["indices"][scores["indptr"][col] : scores["indptr"][col + 1]]

    def _postings(self, term: str, release_id: str) -> bool:
        import numpy as np

        rows = self._term_rows(term)
        if rows is None:
            return False
        chunks = self.index.release_chunks.get(release_id, [])
        at = np.searchsorted(rows, chunks)
        return bool(np.any((at < len(rows)) & (rows[np.minimum(at, len(rows) - 1)] == chunks)))

    def key_terms(self, text: str, release_id: str) -> frozenset[str]:
        """The rarest words of the question (and of the question a follow-up leans on) that
        the best release contains: what the question is about, usually a name."""
        key: list[str] = []
        # rarest first; among equally rare words alphabetically, so that the choice does not
        # depend on the order a set of strings happens to have in this process
        for term in sorted(set(lexical_tokens([text])[0]), key=lambda t: (-self.weight(t), t)):
            # a number ("1,300 personnel") names no one: other cases have the same numbers
            if not term.isdigit() and self.in_release(term, release_id):
                key.append(term)
                if len(key) == KEY_TERMS:
                    break
        return frozenset(key)

    def topical(self, candidates: Sequence[Candidate], topic: Topic) -> list[Candidate]:
        """The candidates about the question's topic: those of the anchor release, and those of
        a release that contains one of the question's key words. Another case that merely has
        the same kind of answer ("was sentenced to 27 years") is not evidence."""
        anchor, key = topic
        if not key:
            return list(candidates)
        return kept(
            candidates,
            lambda r: r.id == anchor or any(self.in_release(t, r.id) for t in key),
        )

    def about(self, cand: Candidate, topic: Topic, new: set[str]) -> bool:
        """Whether the release of ``cand`` is about the question: it contains all of the key
        words, or ``cand`` covers a new word of the question as rare as they are ("Project
        Deliverance" beside "Project Delirium")."""
        key = topic[1]
        rare = min((self.weight(t) for t in key), default=0.0)
        return all(self.in_release(t, cand.release.id) for t in key) or any(
            self.weight(t) >= rare for t in new
        )


def idf_table(index: Index) -> dict[str, float]:
    """Inverse document frequency of every BM25 term, from the lexical index itself."""
    import numpy as np

    bm25 = index.bm25
    indptr = np.asarray(bm25.scores["indptr"])
    df = np.diff(indptr)
    n = float(bm25.scores["num_docs"])
    idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
    table = {term: float(idf[i]) for term, i in bm25.vocab_dict.items() if i < len(idf)}
    table[""] = math.log(1.0 + (n + 0.5) / 0.5)  # an unseen term is as rare as can be
    return table
