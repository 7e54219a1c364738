"""The grounds on which the evidence cannot answer, said instead of an answer that would
claim what the releases do not: an outcome none of the closest releases reports as handed
down (or reports of someone else), an event they announce as still to come, a name they
withhold ("a Minnesota-based company"). `Composer` asks before it renders."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from qa import naming, withheld
from qa.candidates import Candidate, Topic
from qa.corpus import Release
from qa.events import only_ahead, reported
from qa.question import Question
from qa.selection import SELECT_MARGIN
from qa.sentences import Sentences

if TYPE_CHECKING:
    import numpy as np


class Grounds:
    """The checks before an answer, over the sentences its evidence is read from."""

    def __init__(self, sentences: Sentences) -> None:
        self.sentences = sentences

    def unsupported(self, q: Question, candidates: Sequence[Candidate], topic: Topic) -> str:
        """Say why the evidence cannot answer a question about a court outcome or about what
        happened at a named event, if it cannot: none of the releases the answer would quote
        reports that outcome as having happened, or they announce the event as to come."""
        if q.prospective:
            return ""
        retrieved = {c.release.id: c.release for c in candidates}.values()
        candidates = self.sentences.topical(candidates, topic)
        if not candidates:
            return ""
        quoted = {
            c.release.id: c.release
            for c in candidates
            if c.score >= candidates[0].score - SELECT_MARGIN
        }
        if people := self._people_asked(q, retrieved):
            # only a release naming someone asked about can report his outcome
            quoted = {
                i: r
                for i, r in quoted.items()
                if any(naming.share_of(w, self.sentences.release_words(r)) > 0 for _, w in people)
            }
            if not quoted:
                return (
                    f"None of the closest releases that report a {q.outcomes[0][0]} names "
                    f"{people[0][0]}."
                )
        named = self._outcome_names(q, quoted.values())

        def of(passage: str) -> bool:
            have = naming.word_set(passage)
            return any(naming.share_of(name, have) > 0 for name in named)

        for name, reports in q.outcomes:
            if not any(reported(r.text, reports, of if named else None) for r in quoted.values()):
                return (
                    f"The closest releases do not report the {name} as handed down, only "
                    "charges, pleas or the penalties faced."
                )
        if q.event and only_ahead(q.event, quoted.values()):
            return f"The closest releases mention the {q.event} only as still to come."
        return ""

    def _people_asked(
        self, q: Question, retrieved: Iterable[Release]
    ) -> list[tuple[str, frozenset[str]]]:
        """The people an outcome is asked of (``naming.person_asked``: not a place, "in
        Central America", "Sugar Land, Texas") whom a ``retrieved`` release names, with the
        words of each name. A release naming none of them reports no outcome of theirs ("How
        long was Amer Sinan Alhaggagi sentenced to ...?" is not answered from another
        defendant's sentencing)."""
        if not q.outcomes or q.counted or q.wants_list:
            return []
        words = [self.sentences.release_words(r) for r in retrieved]
        return [
            (name.rstrip("."), found[0])
            for name in q.names
            if naming.person_asked(name, q.text) and (found := naming.mentioned([name], words))
        ]

    def _outcome_names(self, q: Question, releases: Iterable[Release]) -> list[frozenset[str]]:
        """The words of the names an outcome asked about must be reported of (``reported``):
        those of two words or more that one of ``releases`` has. A release reporting that two
        co-defendants were sentenced, or another case's release, reports no sentence of the
        one asked about. Asked how many were convicted "as of Farag's plea", or for a list of
        those sentenced, the outcome is the others'; a name no release has ("an East Asian
        former head of state") asks nothing of them."""
        if not q.outcomes or q.counted or q.wants_list:
            return []
        return naming.mentioned(q.names, [self.sentences.release_words(r) for r in releases])

    def name_withheld(self, q: Question, groups: list[list[Candidate]], vector: np.ndarray) -> str:
        """Say that the releases do not name what the question asks the name of, if the
        sentences chosen speak of it only as "a ..." and neither they nor the rest of their
        releases name it (``withheld``). "Which X ...?" asks for a name only if the fitted
        reader of the kinds of answer reads so."""
        thing = q.thing
        if thing is None or not (thing.named or self.sentences.asks_a_name(q, vector)):
            return ""
        chosen = [c for g in groups for c in g]
        releases = {c.release.id: c.release.text for c in chosen}
        return withheld.reason(thing.word, [c.text for c in chosen], releases.values())
