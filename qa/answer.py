"""Compose an extractive answer: cited sentences and whole lists from the retrieved passages,
or an abstention that says why. The question is read once (`qa.question`), its candidate
sentences scored by the evidence model (`qa.sentences`), the answer's chosen
(`qa.selection`) and completed (`qa.completion`), what it must not claim checked
(`qa.grounds`); this module puts them together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from qa import completion, evidence, naming, selection
from qa.candidates import Candidate, Topic
from qa.chunking import Unit
from qa.corpus import Release
from qa.grounds import Grounds
from qa.question import Question
from qa.retrieval import Hit
from qa.selection import Selector
from qa.sentences import Sentences
from qa.store import Index

if TYPE_CHECKING:
    import numpy as np

ABSTAIN_MESSAGE = (
    "The releases don't say. None of the indexed releases answers this question closely enough "
    "to quote."
)
SUGGESTIONS_NOTE = " The closest ones are listed below."
OFF_TOPIC = "The closest passages are about other cases."
NAMED_RELEASES = 2  # releases search missed that name what a question names, read as well


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence or bullet of an answer and the sources it cites."""

    text: str
    citations: tuple[int, ...]
    kind: str  # "sentence" | "lead" | "bullet"


@dataclass(frozen=True)
class Source:
    """A cited release: the passage quoted and where in it the cited sentences are."""

    n: int
    release: Release
    passage: str
    start: int  # offset of the passage in the release text
    highlights: tuple[tuple[int, int], ...]
    score: float


@dataclass(frozen=True)
class Answer:
    """An answer, or an honest abstention with the closest releases."""

    question: str
    text: str
    sentences: tuple[AnswerSentence, ...]
    sources: tuple[Source, ...]
    abstained: bool
    message: str | None = None
    suggestions: tuple[Release, ...] = field(default_factory=tuple)
    # the evidence model's probability that the best sentence holds the answer
    confidence: float = 0.0
    reason: str = ""  # why the answer abstained, when it is more than weak evidence


@dataclass(frozen=True)
class Scored:
    """The sentences a search scored, best first (``candidates``): every unit of its hits and
    of the other passages of its first releases (``hits``). Its answer chooses from those of
    the releases the search returns."""

    hits: list[Hit]
    candidates: list[Candidate]


class Composer:
    """Select, order and cite answer sentences; abstain when the evidence is weak."""

    def __init__(
        self,
        index: Index,
        max_sentences: int = 4,
        abstain_below: float = 0.3,
        part_sentences: int = 3,
        scorer: evidence.Scorer | None = None,
    ) -> None:
        self.index = index
        self.max_sentences = max_sentences
        self.part_sentences = part_sentences
        self.abstain_below = abstain_below
        self.sentences = Sentences(index, scorer or evidence.Scorer.load())
        self.selector = Selector(self.sentences, max_sentences)
        self.grounds = Grounds(self.sentences)

    @property
    def scorer(self) -> evidence.Scorer:
        """The evidence model the sentences are scored with."""
        return self.sentences.scorer

    @scorer.setter
    def scorer(self, scorer: evidence.Scorer) -> None:
        self.sentences.scorer = scorer

    def compose(
        self,
        q: Question,
        hits: Sequence[Hit],
        vector: np.ndarray,
        part_vectors: Sequence[np.ndarray] = (),
        recent: bool = False,
        scored: Scored | None = None,
    ) -> Answer:
        """Answer ``q`` from ``hits`` with cited sentences, or abstain.

        ``vector`` is the question's embedding; ``part_vectors`` those of the parts of a
        compound question ("how much ..., and how long ...?"), each of which gets its own
        sentences; ``recent`` that it asks for the latest: of the releases about its topic
        whose best sentences answer about as well as the best, only the newest is quoted;
        ``scored`` the sentences search scored to rank ``hits`` (``reordering.rerank``): those
        of the releases in ``hits`` are the ones the answer chooses from, not scored again,
        unless the question names someone no release in ``hits`` mentions (the releases that do
        are read too, and all scored again); each part of a compound question is scored on its
        own.
        """
        if not hits:
            return self._abstain(q, hits, 0.0)
        # a question about someone or something no release names is not answered with another
        # case of the same kind; one that search missed is read too
        releases = {h.release.id: h.release for h in hits}
        words = [self.sentences.release_words(r) for r in releases.values()]
        named: list[str] = []
        for name in naming.unmentioned(q.names, words):
            anywhere = self.sentences.naming(naming.named_part(name))
            if not anywhere:
                return self._abstain(q, hits, 0.0, f"No release mentions {name}.")
            named += [r for r in anywhere if r not in named][:NAMED_RELEASES]
        if scored is not None and not named:
            # the other passages search read of these releases join as read, not as found
            # (score 0, as ``Sentences.expand`` adds them), so a source's score stays its hits'
            have = {h.row for h in hits}
            hits = [
                *hits,
                *(
                    replace(h, score=0.0, dense_rank=None, lexical_rank=None)
                    for h in scored.hits
                    if h.release.id in releases and h.row not in have
                ),
            ]
            candidates = [c for c in scored.candidates if c.release.id in releases]
        else:
            scored = self.evidence(q, hits, vector, named)
            hits, candidates = scored.hits, scored.candidates
        candidates = self.sentences.of_years(candidates, q.years)
        if not candidates:
            reason = (
                f"None of the closest releases mentions {' or '.join(q.years)}." if q.years else ""
            )
            return self._abstain(q, hits, 0.0, reason)
        confidence = self.scorer.probability(candidates[0].score)
        if confidence < self.abstain_below:
            return self._abstain(q, hits, confidence)
        if recent:
            candidates = self._latest(q, hits, candidates)
        if len(q.parts) < 2 or len(part_vectors) != len(q.parts):
            topic = self._topic(q, hits, candidates)
            if reason := self.grounds.unsupported(q, candidates, topic):
                return self._abstain(q, hits, confidence, reason)
            # two names asked about together are two parts: each gets ``part_sentences``
            limit = max(self.max_sentences, self.part_sentences * len(q.together))
            groups = self.selector.select(q, candidates, topic, limit, self._asks_names(q, vector))
            if not groups:
                return self._abstain(q, hits, confidence, OFF_TOPIC)
            groups = self.selector.counted(q, candidates, topic, groups, limit)
            groups = completion.missing_names(
                q, groups, candidates, limit, self.sentences.release_words
            )
            groups = completion.name_person(q, groups, candidates, limit)
            groups = completion.introduce(q, groups, candidates, limit)
            if reason := self.grounds.name_withheld(q, groups, vector):
                return self._abstain(q, hits, confidence, reason)
            return self._render(q, groups, hits, confidence)
        # A compound question may span releases: each part is answered, and checked, on its
        # own, the setting and the other parts being its context; each gets up to
        # ``part_sentences`` sentences.
        groups = []
        share = self.part_sentences
        reasons = []
        for part, part_vector in zip(q.parts, part_vectors, strict=True):
            part_candidates = self.sentences.of_years(
                self.sentences.candidates(part, hits, part_vector), part.years
            )
            if recent and part_candidates:
                part_candidates = self._latest(part, hits, part_candidates)
            if not part_candidates:
                continue
            topic = self._part_topic(part, hits, part_candidates)
            if reason := self.grounds.unsupported(part, part_candidates, topic):
                reasons.append(reason)
                continue
            names = self._asks_names(part, part_vector)
            selected = self.selector.select(part, part_candidates, topic, share, names)
            selected = self.selector.counted(part, part_candidates, topic, selected, share)
            taken = {(c.release.id, c.unit.start) for g in groups for c in g}
            groups.extend(g for g in selected if (g[0].release.id, g[0].unit.start) not in taken)
        if not groups:
            return self._abstain(q, hits, confidence, reasons[0] if reasons else OFF_TOPIC)
        return self._render(q, groups, hits, confidence)

    def evidence(
        self, q: Question, hits: Sequence[Hit], vector: np.ndarray, named: Sequence[str] = ()
    ) -> Scored:
        """Score the sentences an answer would choose from: those of the hits and of the other
        passages of their first releases (and of the releases ``named``)."""
        expanded = self.sentences.expand(hits, vector, named)
        return Scored(expanded, self.sentences.candidates(q, expanded, vector))

    def _topic(self, q: Question, hits: Sequence[Hit], candidates: Sequence[Candidate]) -> Topic:
        """What a question is about: the release of its best sentence, and the question's
        rarest words in that release. A follow-up's own words ("what sentence did he get?")
        name no one: it is about the release retrieval ranked first for the standalone query
        (if it is still a candidate) and the rarest words of the question it follows."""
        anchor = candidates[0].release.id
        if q.context and any(c.release.id == hits[0].release.id for c in candidates):
            anchor = hits[0].release.id
        return anchor, self.sentences.key_terms(q.context or q.text, anchor)

    def _part_topic(
        self, part: Question, hits: Sequence[Hit], candidates: Sequence[Candidate]
    ) -> Topic:
        """What a part of a compound question is about: as ``_topic`` for a follow-up; else
        the release of the part's best sentence and the part's rarest words in it, or, if the
        part refers back ("..., and in which country will he serve it?"), the whole
        question's: the part's own ("serve", "country") would make any release that has them
        about it. A part naming its own subject ("... and where was the fugitive arrested?")
        keeps its words, as it may be about another release than the first part."""
        if part.context:
            return self._topic(part, hits, candidates)
        anchor = candidates[0].release.id
        return anchor, self.sentences.key_terms(
            part.whole if part.refers_back else part.text, anchor
        )

    def _asks_names(self, q: Question, vector: np.ndarray) -> bool:
        """Whether a list question asks for names (people, companies, places: "Which
        companies ...?", not "What kinds of schemes ...?"), as the fitted reader of the kinds
        of answer reads its embedding (``answer_types``)."""
        return q.wants_list and self.sentences.asks_a_name(q, vector)

    def _latest(
        self, q: Question, hits: Sequence[Hit], candidates: list[Candidate]
    ) -> list[Candidate]:
        """The candidates of the newest release about the question's topic among those whose
        best sentence scores within ``SELECT_MARGIN`` of the best (``selection.newest``)."""
        topical = self.sentences.topical(candidates, self._topic(q, hits, candidates))
        return selection.newest(topical) or candidates

    def _abstain(
        self, q: Question, hits: Sequence[Hit], confidence: float, reason: str = ""
    ) -> Answer:
        seen: dict[str, Release] = {}
        for h in hits:
            seen.setdefault(h.release.id, h.release)
        message = (
            ABSTAIN_MESSAGE + (f" {reason}" if reason else "") + (SUGGESTIONS_NOTE if seen else "")
        )
        return Answer(
            question=q.text,
            text=message,
            sentences=(),
            sources=(),
            abstained=True,
            message=message,
            suggestions=tuple(list(seen.values())[:5]),
            confidence=round(min(max(confidence, 0.0), 1.0), 4),
            reason=reason,
        )

    def _render(
        self,
        q: Question,
        groups: list[list[Candidate]],
        hits: Sequence[Hit],
        confidence: float,
    ) -> Answer:
        numbers: dict[str, int] = {}
        cited: dict[str, list[Unit]] = {}
        sentences: list[AnswerSentence] = []
        for group in groups:
            for cand in group:
                rid = cand.release.id
                n = numbers.setdefault(rid, len(numbers) + 1)
                cited.setdefault(rid, []).append(cand.unit)
                kind = (
                    "bullet"
                    if cand.unit.kind == "bullet"
                    else ("lead" if cand.unit.kind == "lead" else "sentence")
                )
                text = cand.release.text[cand.unit.start : cand.unit.end].strip()
                sentences.append(AnswerSentence(text=text, citations=(n,), kind=kind))
        sources = []
        hit_by_release: dict[str, list[Hit]] = {}
        for h in hits:
            hit_by_release.setdefault(h.release.id, []).append(h)
        for rid, n in numbers.items():
            release_hits = hit_by_release[rid]
            units = cited[rid]
            containing = [
                h
                for h in release_hits
                if any(h.chunk.start <= u.start < h.chunk.end for u in units)
            ]
            span_start = min([u.start for u in units] + [h.chunk.start for h in containing])
            span_end = max([u.end for u in units] + [h.chunk.end for h in containing])
            release = release_hits[0].release
            sources.append(
                Source(
                    n=n,
                    release=release,
                    passage=release.text[span_start:span_end],
                    start=span_start,
                    highlights=tuple(
                        sorted((u.start - span_start, u.end - span_start) for u in units)
                    ),
                    score=round(max(h.score for h in release_hits), 6),
                )
            )
        sources.sort(key=lambda s: s.n)
        return Answer(
            question=q.text,
            text=render_text(sentences),
            sentences=tuple(sentences),
            sources=tuple(sources),
            abstained=False,
            confidence=round(min(max(confidence, 0.0), 1.0), 4),
        )


def render_text(sentences: Sequence[AnswerSentence]) -> str:
    """Lay out answer sentences as text: prose runs on, each bullet on its own line."""
    out: list[str] = []
    for s in sentences:
        marker = "".join(f"[{n}]" for n in s.citations)
        if s.kind == "bullet":
            out.append(f"\n• {s.text} {marker}")
        elif s.kind == "lead":
            out.append(("\n" if out else "") + f"{s.text} {marker}")
        else:
            out.append(
                ("\n" if out and out[-1].startswith("\n•") else " " if out else "")
                + f"{s.text} {marker}"
            )
    return "".join(out).strip()
