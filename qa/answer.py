"""Compose an extractive answer: cited sentences and whole lists from the retrieved passages."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from qa.chunking import Unit
from qa.corpus import Release
from qa.retrieval import Hit
from qa.store import Index, lexical_tokens

LIST_QUESTION = re.compile(
    r"^\s*(?:which|what)\s+(?:\w+\s+){0,2}?(?:\w+s)\b(?!\s+(?:is|was|does|did|has)\b)"
    r"|\b(?:list|name all|enumerate|what are|what were|which are)\b",
    re.IGNORECASE,
)
ABSTAIN_MESSAGE = (
    "The releases don't say. None of the indexed releases answers this question closely enough "
    "to quote; the closest ones are listed below."
)
MAX_LIST_ITEMS = 15
NO_OVERLAP_MARGIN = 0.15


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


@dataclass
class _Candidate:
    release: Release
    unit: Unit
    score: float
    hit_rank: int


class Composer:
    """Select, order and cite answer sentences; abstain when the evidence is weak."""

    def __init__(self, index: Index, max_sentences: int = 6, abstain_below: float = 0.3) -> None:
        self.index = index
        self.max_sentences = max_sentences
        self.abstain_below = abstain_below
        self._idf = _idf_table(index)

    def compose(self, question: str, hits: Sequence[Hit]) -> Answer:
        """Answer ``question`` from ``hits`` with cited sentences, or abstain."""
        best = max((h.similarity for h in hits), default=0.0)
        q_terms = set(lexical_tokens([question])[0])
        if not hits or best < self.abstain_below:
            return self._abstain(question, hits)
        candidates, coverage = self._candidates(q_terms, hits)
        # Without a single shared word, only strong semantic evidence may answer.
        if not candidates or (coverage == 0 and best < self.abstain_below + NO_OVERLAP_MARGIN):
            return self._abstain(question, hits)
        picked = self._select(question, candidates)
        return self._render(question, picked, hits)

    def _abstain(self, question: str, hits: Sequence[Hit]) -> Answer:
        seen: dict[str, Release] = {}
        for h in hits:
            seen.setdefault(h.release.id, h.release)
        return Answer(
            question=question,
            text=ABSTAIN_MESSAGE,
            sentences=(),
            sources=(),
            abstained=True,
            message=ABSTAIN_MESSAGE,
            suggestions=tuple(list(seen.values())[:5]),
        )

    def _weight(self, term: str) -> float:
        return self._idf.get(term, self._idf.get("", 1.0))

    def _candidates(self, q_terms: set[str], hits: Sequence[Hit]) -> tuple[list[_Candidate], float]:
        """Score every unit of the hits; also return the best coverage of the question's terms."""
        total = sum(self._weight(t) for t in q_terms) or 1.0
        top_sim = max(h.similarity for h in hits)
        seen: set[tuple[str, int]] = set()
        out: list[_Candidate] = []
        best_coverage = 0.0
        for rank, hit in enumerate(hits):
            # Passages far below the best one contribute only if their words match strongly.
            prior = max(0.0, hit.similarity) / top_sim if top_sim > 0 else 0.0
            texts = [hit.release.text[u.start : u.end] for u in hit.chunk.units]
            for unit, terms in zip(hit.chunk.units, lexical_tokens(texts), strict=True):
                key = (hit.release.id, unit.start)
                if key in seen or unit.kind == "heading":
                    continue
                seen.add(key)
                coverage = sum(self._weight(t) for t in q_terms & set(terms)) / total
                best_coverage = max(best_coverage, coverage)
                score = 0.65 * coverage + 0.35 * prior - 0.01 * rank
                out.append(_Candidate(hit.release, unit, score, rank))
        out.sort(key=lambda c: -c.score)
        return out, best_coverage

    def _select(self, question: str, candidates: list[_Candidate]) -> list[list[_Candidate]]:
        """Pick groups of units: a single sentence, or a lead-in with its whole list."""
        wants_list = bool(LIST_QUESTION.search(question))
        best = candidates[0].score
        groups: list[list[_Candidate]] = []
        used: set[tuple[str, int]] = set()
        seen_texts: list[set[str]] = []
        count = 0
        for cand in candidates:
            if count >= self.max_sentences or cand.score < 0.6 * best:
                break
            key = (cand.release.id, cand.unit.start)
            if key in used:
                continue
            if cand.unit.kind in ("lead", "bullet") and (wants_list or cand.unit.kind == "lead"):
                group = self._whole_list(cand)
            else:
                group = [cand]
            text_words = _words(
                " ".join(cand.release.text[c.unit.start : c.unit.end] for c in group)
            )
            if any(_jaccard(text_words, other) >= 0.8 for other in seen_texts):
                continue  # the same sentence, repeated by another release
            seen_texts.append(text_words)
            used.update((c.release.id, c.unit.start) for c in group)
            groups.append(group)
            count += 1
            if wants_list and len(group) > 1:
                break  # a list question answered by a whole list: the list is the answer
        return groups

    def _whole_list(self, cand: _Candidate) -> list[_Candidate]:
        """Return the lead-in and every bullet of the list ``cand`` belongs to."""
        release = cand.release
        blocks = release.blocks
        idx = next(
            (i for i, b in enumerate(blocks) if b.start <= cand.unit.start < b.end + 1), None
        )
        if idx is None:
            return [cand]
        if blocks[idx].kind == "paragraph":  # the lead-in: the list follows it
            first_bullet = idx + 1
            lead = cand.unit
        else:
            first_bullet = idx
            while first_bullet > 0 and blocks[first_bullet - 1].kind == "bullet":
                first_bullet -= 1
            lead = None
            if first_bullet > 0 and blocks[first_bullet - 1].kind == "paragraph":
                from qa.chunking import split_sentences

                para = blocks[first_bullet - 1]
                spans = split_sentences(release.block_text(para), para.start)
                if spans:
                    lead = Unit("lead", *spans[-1])
        group = [_Candidate(release, lead, cand.score, cand.hit_rank)] if lead else []
        j = first_bullet
        while j < len(blocks) and blocks[j].kind == "bullet" and j - first_bullet < MAX_LIST_ITEMS:
            b = blocks[j]
            group.append(
                _Candidate(release, Unit("bullet", b.start, b.end), cand.score, cand.hit_rank)
            )
            j += 1
        return group

    def _render(self, question: str, groups: list[list[_Candidate]], hits: Sequence[Hit]) -> Answer:
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
            question=question,
            text=render_text(sentences),
            sentences=tuple(sentences),
            sources=tuple(sources),
            abstained=False,
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


def _idf_table(index: Index) -> dict[str, float]:
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


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
