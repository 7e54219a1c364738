"""The question-answering pipeline behind every face: standalone query, retrieve, compose."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from qa import reordering, store
from qa.answer import Answer, Composer, Scored
from qa.chat import Query, Turn, follows_plainly, standalone_query
from qa.config import Settings
from qa.dates import DateReading, merge, read_dates, without_when
from qa.embedding import Encoder
from qa.evidence import Scorer
from qa.generate import Generated, Generator
from qa.lexical import lexical_tokens
from qa.question import Question, read
from qa.retrieval import Filters, Hit, Retriever, newest_first


@dataclass(frozen=True)
class Result:
    """An answer with the query that produced it and how long each step took."""

    answer: Answer
    question: str
    query: str
    filters: Filters
    dates: DateReading
    generated: Generated | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Found:
    """What one search read and found: the standalone query and the question as read from it,
    the dates it names, the filters applied, the ranked passages, and the embeddings of the
    question and its parts."""

    query: Query
    question: Question
    dates: DateReading
    filters: Filters
    hits: list[Hit]
    vector: Any
    part_vectors: list[Any]
    # composed from ``hits`` when asked for (``Engine.composed``), or when which reading of a
    # question is kept depends on it
    answer: Answer | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # retrieve, compose
    scored: Scored | None = None  # the sentences that ranked ``hits``, which answers choose from


class Engine:
    """One loaded build with its retriever and composer."""

    def __init__(self, settings: Settings, index: store.Index, encoder: Encoder) -> None:
        self.settings = settings
        self.index = index
        self.retriever = Retriever(
            index,
            encoder,
            rrf_k=settings.rrf_k,
            candidates=settings.candidates,
            fusion=settings.fusion,
            dense_weight=settings.dense_weight,
        )
        self.generator = (
            Generator(
                settings.llm_url, settings.llm_model, settings.llm_timeout, settings.llm_api_key
            )
            if settings.llm_url
            else None
        )
        weights = settings.evidence_weights
        self.composer = Composer(
            index,
            max_sentences=settings.max_answer_sentences,
            part_sentences=settings.part_answer_sentences,
            abstain_below=settings.abstain_below,
            scorer=Scorer.load(weights) if str(weights) not in ("", ".") else None,
        )
        # a question's dates are read as release dates only where releases have them: in a
        # corpus of undated documents "since 1979" is part of a claim, not a filter
        self.dated = index.manifest.date_from is not None

    def warm(self) -> None:
        """Load the model now (it loads on first use), so the first question does not wait."""
        self.retriever.encoder.encode(["warm up"])

    def search(
        self,
        query: str,
        k: int,
        filters: Filters | None = None,
        mode: str = "hybrid",
        history: Sequence[Turn] = (),
    ) -> list[Hit]:
        """Return ranked passages for ``query`` (a follow-up made standalone with ``history``).
        In hybrid mode (the product's search) the dates it names are read as answers read them
        and the releases are ranked by their passages and by how well their best sentence
        answers the question, as the answer composer scores sentences (dense retrieval's
        first releases among them, where fusion ranked them lower); the BM25-only and
        dense-only modes are the plain retrievers, the baselines it is measured against."""
        return self.find(query, k, filters, mode, history)[0]

    def find(
        self,
        query: str,
        k: int,
        filters: Filters | None = None,
        mode: str = "hybrid",
        history: Sequence[Turn] = (),
    ) -> tuple[list[Hit], str, Filters, DateReading]:
        """``search``, also returning how the query was read: the standalone text searched
        with, the filters applied and the dates the question names."""
        if mode != "hybrid":
            text = standalone_query(query, history).text
            hits = self.retriever.search(text, k=k, filters=filters, mode=mode)
            return hits, text, filters or Filters(), DateReading(Filters())
        found = self.found(query, history, k, filters)
        return found.hits, found.query.text, found.filters, found.dates

    def found(
        self,
        question: str,
        history: Sequence[Turn] = (),
        k: int | None = None,
        filters: Filters | None = None,
    ) -> Found:
        """The one search behind answers and ``/api/search``: read the question, retrieve,
        reorder the first releases by how well their best sentence answers it.

        A question that reads as a follow-up only because it speaks of "the" something
        ("When was the conference held?") may as well be a new one: it is read both ways,
        each reading answered, and the standalone reading kept when only it finds an answer
        (the follow-up reading wins a tie: the conversation is about what it was about)."""
        k = k or self.settings.top_k
        reading = standalone_query(question, history)
        if not reading.context or follows_plainly(question):
            return self._found(reading, k, filters)
        borrowed = self.composed(self._found(reading, k, filters))
        alone = self.composed(self._found(Query(reading.question), k, filters))
        assert borrowed.answer is not None and alone.answer is not None
        if alone.answer.abstained:
            return borrowed
        if borrowed.answer.abstained or not self._leans_on(reading, borrowed.answer):
            return alone
        return borrowed

    def _leans_on(self, reading: Query, answer: Answer) -> bool:
        """Whether an answer read as a follow-up quotes a release that has some word of what
        it borrowed: one that has none ("Where was the conference held?" after "Who is the
        president of Peru?", answered from the conference's release) owes the earlier
        question nothing, and the question stands alone."""
        own = set(lexical_tokens([reading.question])[0])
        words = [t for t in lexical_tokens([reading.context])[0] if t not in own]
        return not words or any(
            self.composer.sentences.in_release(t, source.release.id)
            for source in answer.sources
            for t in words
        )

    def composed(self, found: Found) -> Found:
        """Return ``found`` with its answer composed from its passages."""
        if found.answer is not None:
            return found
        started = time.perf_counter()
        answer = self.composer.compose(
            found.question,
            found.hits,
            found.vector,
            part_vectors=found.part_vectors,
            recent=found.dates.recent,
            scored=found.scored,
        )
        seconds = {**found.seconds, "compose": time.perf_counter() - started}
        return replace(found, answer=answer, seconds=seconds)

    def _found(self, reading: Query, k: int, filters: Filters | None) -> Found:
        started = time.perf_counter()
        query, dates = self._read(reading, filters)
        question = read(query.question, query.context, query.answered)
        search_vector, question_vector, part_vectors = self._embed(
            query, [p.text for p in question.parts]
        )
        rerank = self.settings.sentence_rerank
        extra = self.settings.dense_releases if rerank else 0
        hits, applied = self._retrieve(query, k, filters, dates, search_vector, extra)
        fused = {h.release.id for h in hits[:k]}
        added = {h.row for h in hits[k:] if h.release.id in fused}  # there to mark a dense rank
        scored = None
        if rerank:
            hits, scored = reordering.rerank(
                self.composer, question, hits, question_vector, rerank, extra
            )
            if dates.recent:  # "the latest": of the releases reordered, the newest first again
                hits = newest_first(hits)
        # the passages added for the reordering, of releases fusion had found, go; k remain
        hits = [h for h in hits if h.row not in added][:k]
        seconds = {"retrieve": time.perf_counter() - started}
        return Found(
            query,
            question,
            dates,
            applied,
            hits,
            question_vector,
            part_vectors,
            seconds=seconds,
            scored=scored,
        )

    def _read(self, query: Query, user: Filters | None) -> tuple[Query, DateReading]:
        """Read the dates a question names (``read_dates``; only where releases have dates:
        in a corpus of undated documents "since 1979" is part of a claim) and drop the words
        that say when, not what (``without_when``): those asking for the latest ("the most
        recent extradition" is about an extradition, not about releases that say "most
        recently") and those of a date filter applied ("by March 2015"), unless the user's
        own dates replace it (``user``)."""
        if not self.dated:
            return query, DateReading(Filters())
        dates = read_dates(query.question, query.context)
        read = dates.filters
        replaced = user is not None and bool(
            (read.date_from and user.date_from) or (read.date_to and user.date_to)
        )
        phrase = dates.phrase if dates.strict and read and not replaced else ""
        if dates.recent or phrase:
            query = replace(
                query,
                question=without_when(query.question, phrase),
                context=without_when(query.context) if query.context else "",
            )
        return query, dates

    def _retrieve(
        self,
        query: Query,
        k: int,
        filters: Filters | None,
        dates: DateReading,
        vector: Any,
        dense_releases: int = 0,
    ) -> tuple[list[Hit], Filters]:
        """Search with the user's filters and the dates the question names: a period it is
        scoped to ("since 2014") filters, one things happened in ("in 2011") ranks releases
        of that period first, "latest" the newest of the comparably relevant ones; return
        the hits and the filters applied."""
        filters = merge(filters or Filters(), dates.filters if dates.strict else Filters())
        hits = self.retriever.search(
            query.text,
            k=k,
            filters=filters,
            vector=vector,
            prefer=None if dates.strict else dates.filters,
            recent=dates.recent,
            dense_releases=dense_releases,
        )
        return hits, filters

    def _embed(self, query: Query, parts: Sequence[str] = ()) -> tuple[Any, Any, list[Any]]:
        """Embed in one batch the standalone query (to search with), the question itself for
        a follow-up (its sentences are scored against the question, the earlier one's words
        counting less) and the parts of a compound question; return the three."""
        parts = list(parts)  # none, or the two or more of a compound question
        texts = [query.text] + ([query.question] if query.context else []) + parts
        vectors = self.retriever.encoder.encode(texts)
        return (
            vectors[0],
            vectors[1] if query.context else vectors[0],
            list(vectors[-len(parts) :]) if parts else [],
        )

    def ask(
        self,
        question: str,
        history: Sequence[Turn] = (),
        k: int | None = None,
        filters: Filters | None = None,
    ) -> Result:
        """Answer a question (with its chat history) from the releases."""
        result = self.extract(question, history, k, filters)
        if self.generator is None:
            return result
        started = time.perf_counter()
        answer, generated = self.generator.write(result.answer)
        return self._written(result, answer, generated, started)

    def ask_stream(
        self,
        question: str,
        history: Sequence[Turn] = (),
        k: int | None = None,
        filters: Filters | None = None,
    ) -> Iterator[str | Result]:
        """Yield the answer's text as it is written, then the final result.

        Without a generative backend the extractive answer is one piece of text.
        """
        result = self.extract(question, history, k, filters)
        if self.generator is None:
            yield result.answer.text
            yield result
            return
        started = time.perf_counter()
        for item in self.generator.stream(result.answer):
            if isinstance(item, str):
                yield item
            else:
                yield self._written(result, item[0], item[1], started)

    def _written(
        self, result: Result, answer: Answer, generated: Generated, started: float
    ) -> Result:
        timings = {
            **result.timings_ms,
            "generate": round((time.perf_counter() - started) * 1000, 2),
        }
        timings["total"] = round(timings["total"] + timings["generate"], 2)
        return replace(result, answer=answer, generated=generated, timings_ms=timings)

    def extract(
        self,
        question: str,
        history: Sequence[Turn] = (),
        k: int | None = None,
        filters: Filters | None = None,
    ) -> Result:
        """Answer with sentences quoted from the releases (no generative backend)."""
        started = time.perf_counter()
        found = self.composed(self.found(question, history, k, filters))
        assert found.answer is not None
        done = time.perf_counter()
        return Result(
            answer=found.answer,
            question=question,
            query=found.query.text,
            filters=found.filters,
            dates=found.dates,
            timings_ms={
                "retrieve": round(found.seconds["retrieve"] * 1000, 2),
                "compose": round(found.seconds["compose"] * 1000, 2),
                "total": round((done - started) * 1000, 2),
            },
        )
