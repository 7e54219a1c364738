"""The sentences an answer chooses from: every unit of the retrieved passages and of the first
releases' other passages, each with the evidence model's features against a question and its
score. What the index says about terms and releases is ``release_facts``'s."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from qa import answer_types, evidence, kinds, naming
from qa.adapter import Adapter
from qa.answer_types import TYPES, TypeReader, counts_in_words, names_a_time
from qa.candidates import LIST_UNITS, Candidate, Memo, unit_terms
from qa.chunking import Unit
from qa.corpus import Release
from qa.lexical import lexical_tokens
from qa.question import Question
from qa.release_facts import ReleaseFacts
from qa.retrieval import Hit
from qa.store import Index

if TYPE_CHECKING:
    import numpy as np

CONTEXT_WEIGHT = 0.3  # how much the earlier question's words count for a follow-up
EXPAND_RELEASES = 3  # releases whose every passage is read for the answer

TYPED = evidence.FEATURES.index("typed_gap")
TYPE_FLOOR = 0.05  # a kind of answer less likely asked for than this is not looked for
# how sure the reader of the kinds of answer must be that a question asks for a name (the
# middle: its probabilities split list questions at 0.02-0.20 and 0.92-0.98)
NAMES_ASKED = 0.5
TENSE_MARGIN = 0.08  # asked what happened, how far a sentence telling it may score below one
TENSE = evidence.FEATURES.index("tense_clash")


def told_before_ahead(q: Question, ranked: list[Candidate]) -> list[Candidate]:
    """Asked what happened, a best sentence that tells of what is to come ("... to be held in
    Chile in March") changes places with the best sentence of its release that does not, if
    that one scores within ``TENSE_MARGIN``. The ranker gives the tense no weight (it splits
    on it nowhere: 4% of the sentences that tell ahead hold an answer, against 6% of the
    others, in the training pairs of 2026-12-06), yet the answer to "Where was the
    conference held?" is the other sentence; see docs/decisions.md for what this measured."""
    if not q.past or not ranked or not ranked[0].features[TENSE]:
        return ranked
    first = ranked[0]
    for n, c in enumerate(ranked[1:], 1):
        if first.score - c.score > TENSE_MARGIN:
            break
        if c.release.id == first.release.id and not c.features[TENSE]:
            ranked[0], ranked[n] = replace(c, score=first.score), replace(first, score=c.score)
            ranked.sort(key=lambda c: -c.score)
            break
    return ranked


class Sentences(ReleaseFacts):
    """Reads and scores the candidate sentences of an index's releases, keeping what it reads
    once: per unit its terms, its face and the kinds of answer it holds, per unit and question
    names the share it has; what it reads of whole releases is its ``ReleaseFacts``."""

    def __init__(
        self,
        index: Index,
        scorer: evidence.Scorer,
        types: TypeReader | None = None,
        adapter: Adapter | None = None,
    ) -> None:
        super().__init__(index)
        self.scorer = scorer
        # the kinds of answer a question asks for, read from its embedding if the reader
        # reads this index's model's (else none is looked for)
        reader = types or TypeReader.load()
        self.types = reader if reader.reads(index.manifest.model) else None
        # the mapping of the question's embedding (``adapted``), if it maps this index's
        # model's (else the features weigh nothing: each is 0)
        mapping = adapter or Adapter.load()
        self.adapter = mapping if mapping and mapping.reads(index.manifest.model) else None
        self._unit_facts: Memo[tuple[str, int, int], tuple[frozenset[str], dict[str, bool]]] = (
            Memo()
        )
        # per unit and the question's name words, the share of them it has
        self._named: Memo[tuple[str, int, frozenset[str]], float] = Memo()
        self._words: Memo[tuple[str, int], naming.Words] = Memo()  # a unit's words, lower case
        self._surface: Memo[tuple[str, int], evidence.Surface] = Memo()

    def term_weights(self, q: Question) -> dict[str, float]:
        """The question's content words by weight, the words it borrows counting less."""
        weights = {t: self.weight(t) * CONTEXT_WEIGHT for t in lexical_tokens([q.borrowed])[0]}
        weights.update({t: self.weight(t) for t in lexical_tokens([q.content])[0]})
        return weights

    def candidates(self, q: Question, hits: Sequence[Hit], vector: np.ndarray) -> list[Candidate]:
        """Score every unit of the hits against the question with the evidence model."""
        weights = self.term_weights(q)
        total = sum(weights.values()) or 1.0
        asked = frozenset(weights)
        names = q.name_words
        seen: set[tuple[str, int]] = set()
        rows: list[tuple[float, ...]] = []
        found: list[tuple[Release, Unit, frozenset[str]]] = []
        release_rank = {rid: n for n, rid in enumerate(dict.fromkeys(h.release.id for h in hits))}
        chunk_rows = [h.row for h in hits]
        if self.adapter:
            similarities, mapped = self.index.unit_products(
                chunk_rows, [vector, self.adapter.map(vector)]
            )
        else:
            similarities = self.index.unit_similarities(chunk_rows, vector)
            mapped = [[0.0] * len(s) for s in similarities]
        adapted: list[float] = []
        vector_rows: list[int] = []
        # A follow-up names its subject only through the question before it ("When was he
        # indicted?"): the sentence that answers it need not name him again, the release
        # it is in must. The earlier question's words found elsewhere in a sentence's
        # release count for it, partly: else the sentences that restate the case win. The
        # same holds for a part of a compound question, whose context is the other parts
        # ("In the 1MDB forfeiture actions, what aircraft ..., and what vessel ...?").
        own = set(lexical_tokens([q.text])[0])
        carried = [t for t in weights if t not in own] if q.borrowed else []
        in_release: dict[str, frozenset[str]] = {}
        named_release: dict[str, float] = {}
        for hit, semantic, mapped_semantic in zip(hits, similarities, mapped, strict=True):
            release = hit.release
            rid = release.id
            if rid not in named_release:
                named_release[rid] = self.release_share(release, names)
            prior = 1.0 / (1.0 + release_rank[rid])
            first_row = int(self.index.unit_rows[hit.row])  # its first unit's embedding row
            units = hit.chunk.units
            for i, (unit, sem) in enumerate(zip(units, semantic, strict=True)):
                key = (rid, unit.start)
                if key in seen or unit.kind == "heading" or unit.end - unit.start < 12:
                    continue
                seen.add(key)
                text = release.text[unit.start : unit.end]
                term_set = self.facts(release, unit)[0]
                coverage = sum(weights[t] for t in asked & term_set)
                borrowed = 0.0
                if carried:
                    if rid not in in_release:
                        in_release[rid] = frozenset(t for t in carried if self.in_release(t, rid))
                    borrowed = sum(weights[t] for t in in_release[rid] - term_set)
                held = sum(self.held(release, unit, n, q.prospective) for n in q.kinds)
                beside = [semantic[j] for j in (i - 1, i + 1) if 0 <= j < len(units)]
                row = (
                    sem,
                    max(beside, default=sem),
                    coverage / total,
                    borrowed / total,
                    held / len(q.kinds) if q.kinds else 0.0,
                    max(0.0, hit.similarity),
                    prior,
                    1.0 - unit.start / max(1, len(release.text)),
                    self._names_share(rid, unit.start, text, names) if names else 0.0,
                    named_release[rid] if names else 0.0,
                    float(q.who and self.holds(release, unit, "person", naming.names_person)),
                    float(q.wants_list and unit.kind in LIST_UNITS),
                    float(q.past and self.holds(release, unit, "ahead", evidence.tells_ahead)),
                )
                rows.append(row)
                found.append((release, unit, term_set))
                adapted.append(mapped_semantic[i])
                vector_rows.append(first_row + i)
        kinds_asked = self.kinds_asked(q, vector)
        rows = self._against(q, own, rows, found, kinds_asked)
        best_adapted = max(adapted, default=0.0)
        rows = [(*r, a, a - best_adapted) for r, a in zip(rows, adapted, strict=True)]
        out = [
            Candidate(release, unit, score, terms, row, vector_row)
            for (release, unit, terms), score, row, vector_row in zip(
                found, self.scorer.scores(rows), rows, vector_rows, strict=True
            )
        ]
        out.sort(key=lambda c: -c.score)
        return told_before_ahead(q, out)

    def kinds_asked(self, q: Question, vector: np.ndarray) -> tuple[float, ...]:
        """The probability of each kind of answer (``answer_types.TYPES``) that ``q`` (its
        embedding: ``vector``) asks for it, as the fitted reader reads it (none if it reads
        another model's embeddings)."""
        if not self.types:
            return answer_types.NONE
        return self.types.probabilities(answer_types.inputs(vector, q.text))

    def asks_a_name(self, q: Question, vector: np.ndarray) -> bool:
        """Whether ``q`` asks for a name (a person, a company, a place) as the fitted reader of
        the kinds of answer reads its embedding (``kinds_asked``): "Which companies ...?", not
        "What kinds of schemes ...?"."""
        return self.kinds_asked(q, vector)[TYPES.index("name")] >= NAMES_ASKED

    def _against(
        self,
        q: Question,
        own: set[str],
        rows: list[tuple[float, ...]],
        found: list[tuple[Release, Unit, frozenset[str]]],
        asked: Sequence[float],
    ) -> list[tuple[float, ...]]:
        """Add to each sentence's own features those it has against the question's other
        sentences and against the question itself (``evidence.FEATURES`` from
        ``semantic_gap``); ``asked`` is the probability of each kind of answer
        (``answer_types.TYPES``) that the question asks for it."""
        if not rows:
            return rows
        best_semantic = max(r[0] for r in rows)
        best_coverage = max(r[2] for r in rows)
        ordered = sorted(r[0] for r in rows)
        n = len(rows)
        named = set(lexical_tokens([" ".join(q.names)])[0]) if q.names else set()
        # the words of its frame ("where was ... held") say what is asked, not about what
        predicate = frozenset(set(lexical_tokens([q.content])[0]) - named)
        # what the conversation gave already (a follow-up's subject, the other parts of a
        # compound question) is not new either
        given = f"{q.text}\n{q.borrowed}" if q.borrowed else q.text
        words = naming.word_set(given)
        figures = frozenset(evidence.FIGURE.findall(given))
        out = []
        for row, (release, unit, terms) in zip(rows, found, strict=True):
            face = self.surface(release, unit)
            new_names, new_figures = evidence.added(words, figures, face)
            out.append(
                (
                    *row,
                    row[0] - best_semantic,
                    row[2] - best_coverage,
                    (n - bisect.bisect_right(ordered, row[0])) / n,
                    len(terms - own) / len(terms) if terms else 0.0,
                    len(predicate & terms) / len(predicate) if predicate else 0.0,
                    new_names,
                    new_figures,
                    min(face.length, 400) / 400,
                    float(face.digits),
                    self._typed(q, release, unit, asked, new_names, new_figures),
                    self.release_share(release, q.subject) if q.subject else 0.0,
                )
            )
        # the kinds asked for, against the sentence that holds most of them: a question whose
        # kind no sentence holds (or that the reader misreads) scores none down for it
        best_typed = max(r[TYPED] for r in out)
        return [(*r[:TYPED], r[TYPED] - best_typed, *r[TYPED + 1 :]) for r in out]

    def _typed(
        self,
        q: Question,
        release: Release,
        unit: Unit,
        asked: Sequence[float],
        new_names: float,
        new_figures: float,
    ) -> float:
        """How much of the kinds of answer asked for (``asked``, per ``answer_types.TYPES``)
        a unit holds, each weighed by its probability: a name the question does not give, a
        figure it does not give or a count in words, a date as ``kinds.holds`` finds it or a
        month or a weekday, or a sum or duration as ``kinds.holds`` finds it. "Other" has no
        test: asked for it, no unit holds it."""
        total = sum(asked)
        held = 0.0
        for kind, p in zip(TYPES, asked, strict=True):
            if p < TYPE_FLOOR or kind == "other":
                continue
            if kind == "name":
                held += p * (new_names > 0)
            elif kind == "number":
                held += p * (
                    new_figures > 0 or self.holds(release, unit, "number word", counts_in_words)
                )
            elif kind == "date":
                held += p * (
                    self.held(release, unit, kind, q.prospective)
                    or self.holds(release, unit, "time word", names_a_time)
                )
            else:
                held += p * self.held(release, unit, kind, q.prospective)
        return held / total if total else 0.0

    def surface(self, release: Release, unit: Unit) -> evidence.Surface:
        """What a unit shows on its face (``evidence.surface``), kept per unit."""
        return self._surface.remember(
            (release.id, unit.start),
            partial(evidence.surface, release.text[unit.start : unit.end]),
        )

    def _names_share(self, rid: str, start: int, text: str, names: frozenset[str]) -> float:
        """The share of the question's name words a unit has, kept per unit and names (search's
        reordering and the answer score the same units); the unit's words kept per unit."""
        words = self._words.remember((rid, start), partial(naming.word_set, text))
        return self._named.remember((rid, start, names), partial(naming.share_of, names, words))

    def expand(
        self, hits: Sequence[Hit], vector: np.ndarray, named: Sequence[str] = ()
    ) -> list[Hit]:
        """Add the other chunks of the best releases: the answering sentence is often in the
        release retrieval found, but in a passage it ranked lower; and those of the releases
        ``named`` (that name what the question names, which search did not find)."""
        import numpy as np

        out = list(hits)
        have = {h.row for h in hits}
        releases = list(dict.fromkeys(h.release.id for h in hits))[:EXPAND_RELEASES]
        releases += [r for r in named if r not in releases]
        for rid in releases:
            rows = [r for r in self.index.release_chunks.get(rid, []) if r not in have]
            if not rows:
                continue
            vecs = self.index.vectors.reconstruct_batch(np.asarray(rows, dtype=np.int64))
            for row, sim in zip(rows, vecs @ vector, strict=True):
                chunk = self.index.chunks[row]
                out.append(
                    Hit(
                        row=row,
                        chunk=chunk,
                        release=self.index.releases[rid],
                        score=0.0,
                        similarity=float(sim),
                        dense_rank=None,
                        lexical_rank=None,
                    )
                )
        return out

    def held(self, release: Release, unit: Unit, name: str, prospective: bool) -> bool:
        """Whether a unit holds an answer of the kind ``name`` (``kinds.holds``), kept with the
        unit's facts; asked about what was (not ``prospective``), a penalty only faced is
        none."""
        stated = not prospective and name in kinds.PENALTIES
        return self.holds(
            release,
            unit,
            f"{name} stated" if stated else name,
            partial(kinds.holds, name=name, stated=stated),
        )

    def holds(self, release: Release, unit: Unit, name: str, test: Callable[[str], bool]) -> bool:
        """``test`` of a unit's text, kept with the unit's facts under ``name``."""
        found_kinds = self.facts(release, unit)[1]
        found = found_kinds.get(name)
        if found is None:
            found = found_kinds[name] = test(release.text[unit.start : unit.end])
        return found

    def facts(self, release: Release, unit: Unit) -> tuple[frozenset[str], dict[str, bool]]:
        """A unit's lexical terms and which kinds of answer it holds (filled in as they are
        asked), kept per unit: the units of popular releases recur across questions."""
        return self._unit_facts.remember(
            (release.id, unit.start, unit.end),
            lambda: (unit_terms(release.text[unit.start : unit.end]), {}),
        )
