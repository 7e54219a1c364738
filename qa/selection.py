"""Choosing an answer's sentences from the scored candidates: the best, then others that add
a word of the question or another answer of the kind asked, whole lists for list questions
(``lists``), and the checks that the evidence states what was asked (a count of what a "how
many" question counts). What is added once they are chosen is ``completion``'s."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from qa import evidence, joining, kinds, naming
from qa.candidates import LIST_UNITS, Candidate, Topic, unit_terms
from qa.completion import close_to_best
from qa.lexical import lexical_tokens
from qa.lists import inline_list, list_units, names_in_a_row, series_after, whole_list
from qa.question import PEOPLE, Question
from qa.sentences import Sentences

SELECT_MARGIN = 0.08  # answer sentences score within this of the best one
LIST_MARGIN = 0.15  # how far below the best sentence a list may still answer a list question
# the kinds of answer a list must give when a question asks for them ("on which days", "on
# what dates"); the others are also read from words of the question's setting ("sentenced",
# "bribes", "When the indictment was unsealed, ..."), and a list of names gives none of them
LISTED_KINDS = frozenset({"day"})
GAIN = 0.25  # what a unit adds for the question words the units already picked have not covered

# the evidence model's inputs the join model reads too
EVIDENCE_INPUTS = ("semantic", "coverage", "typed_gap", "subject", "passage", "names", "kind")


class Selector:
    """Picks an answer's sentences, at most ``max_sentences``, reading what it needs of the
    releases through ``sentences``."""

    def __init__(
        self, sentences: Sentences, max_sentences: int, joiner: joining.Joiner | None = None
    ) -> None:
        self.sentences = sentences
        self.max_sentences = max_sentences
        self.joiner = joiner or joining.Joiner.load()
        # when a list: each join decision's features and sentence, with the sentences chosen
        # before it (what `qa train-scorer` labels)
        self.record: list[tuple[tuple[float, ...], Candidate, list[Candidate]]] | None = None

    def select(
        self,
        q: Question,
        candidates: list[Candidate],
        topic: Topic,
        limit: int | None = None,
        names: bool = False,
    ) -> list[list[Candidate]]:
        """Pick groups of units greedily: relevance plus the question words not yet covered;
        ``names``: the question asks for names (``answer_types``), so that asked for a list,
        names in a row list what it asks for."""
        limit = limit or self.max_sentences
        weights = {t: self.sentences.weight(t) for t in lexical_tokens([q.content])[0]}
        total = sum(weights.values()) or 1.0
        asked = weights.keys()
        candidates = self.sentences.topical(candidates, topic)
        if not candidates:
            return []
        floor = candidates[0].score - SELECT_MARGIN
        pool = [c for c in candidates if c.score >= floor]
        forced: Candidate | None = None
        if q.wants_list:
            close = [c for c in candidates if c.score >= candidates[0].score - LIST_MARGIN]
            # a list spread over sentences ("On Dec. 15, 2008, LG Display Co. pleaded guilty
            # ...", "On Jan. 14, 2009, Chunghwa ..."): the first release's sentences count
            # down to the margin of a list
            pool += [c for c in close if c.score < floor and c.release.id == topic[0]]
            # A list question is best answered by a list, even one a little below the best
            # single sentence, where the best sentence may only count the items ("seven home
            # health agencies"): the best-scored list, bulleted or written inline ("the
            # Janet R, Miss Lill, Crab Daddy and Conch Emperor"); a bulleted list first
            # whatever its score quoted another release's measures or an indictment's overt
            # acts in place of the names a sentence above it gives
            # asked for days ("on which days"), a list that gives one: not another list of
            # the release ("measures ... include:"), which the loop below leaves out; asked
            # for "domains", one that names them, not the agencies the release thanks
            forced = self._list_to_quote(q, close, names)
            pool = [c for c in pool if c is not forced]
        covered: set[str] = set()
        groups: list[list[Candidate]] = []
        texts: list[set[str]] = []
        used: set[tuple[str, int]] = set()
        quoted: set[str] = set()
        values: set[str] = set()
        while (pool or forced) and len(groups) < limit:
            if forced is not None:
                best, forced = forced, None
            else:
                best = max(
                    pool,
                    key=lambda c: (
                        c.score
                        + GAIN * sum(weights[t] for t in (asked & c.terms) - covered) / total
                    ),
                )
                pool.remove(best)
            if (best.release.id, best.unit.start) in used:
                continue
            if best.unit.kind in LIST_UNITS and not self.gives(q, best):
                continue  # a list of none of the days asked for (measures)
            if best.unit.kind in LIST_UNITS and (q.wants_list or best.unit.kind == "lead"):
                # the whole list, less any item an earlier group already quoted
                group = [c for c in whole_list(best) if (c.release.id, c.unit.start) not in used]
            else:
                group = [best]
            if not group:
                continue
            words = _words(" ".join(c.text for c in group))
            if any(_repeats(words, other) for other in texts):
                continue  # the same sentence, repeated by another release
            if groups and best.release.id not in quoted:
                # Another release joins the answer only if it is about the question and brings
                # something new, and the fitted join model does not find it unlikely that the
                # question asks about it or that it holds an answer the chosen sentences lack
                # (``joining``): another case of the same kind is left out.
                row = self._join_row(
                    q, best, candidates, topic, (weights, total, covered), values, quoted, texts
                )
                if self.record is not None:
                    self.record.append((row, best, [c for g in groups for c in g]))
                if not self.joiner.joins(row):
                    continue
            texts.append(words)
            used.update((c.release.id, c.unit.start) for c in group)
            quoted.update(c.release.id for c in group)
            for c in group:
                values |= kinds.values(c.text, q.values, q.prospective)
            for c in group:
                covered |= c.terms
            groups.append(group)
            if q.wants_list and len(group) > 1:
                break  # a list question answered by a whole list: the list is the answer
        return groups + self.missing_kinds(q, candidates, groups, limit, used, quoted)

    def _list_to_quote(
        self, q: Question, close: Sequence[Candidate], names: bool
    ) -> Candidate | None:
        """The first of ``close`` (best first) that lists what ``q`` asks for and names it,
        else the first that lists names asked for without naming the plural (``_lists``)."""
        plural = frozenset(lexical_tokens([q.listed])[0]) if q.listed else frozenset()
        names_only = None
        for cand in close:
            rank = self._lists(q, cand, plural, names)
            if rank == 2:
                return cand
            if rank == 1 and names_only is None:
                names_only = cand
        return names_only

    def _lists(self, q: Question, cand: Candidate, plural: frozenset[str], names: bool) -> int:
        """How well ``cand`` lists what ``q`` asks for: 2 if it is a list (a list's lead-in
        or item, or a series written inline) that gives a day if asked for one (``gives``)
        and names the plural asked for (``plural``, its stem: "domains", "the three seized
        domain names applanet.net, appbucket.net and snappzmarket.com"; a bulleted list by
        its lead-in), if one is; 1 if, asked for ``names`` ("Which companies ...?"), it names
        three in a row without naming the plural ("The Enclave Development LLC; ... Robert
        Lipka P.C., ..."); else 0. Three phrases in a series right after the plural make a
        list."""
        if not self.gives(q, cand):
            return 0
        if cand.unit.kind in LIST_UNITS:  # named by its lead-in (or first item), not one item
            if not plural:
                return 2
            lead = list_units(cand)[0]
            return 2 if plural & unit_terms(cand.release.text[lead.start : lead.end]) else 0
        if not plural or plural & cand.terms:
            listed = inline_list(cand.text, q.name_words)
            return 2 if listed or (plural and series_after(cand.text, plural)) else 0
        return int(names and names_in_a_row(cand.text, q.name_words))

    def gives(self, q: Question, cand: Candidate) -> bool:
        """Whether ``cand`` gives a day, if the question asks for one (``LISTED_KINDS``; else
        any sentence does); a list's lead-in or item gives one if the lead-in or an item of
        its list does."""
        asked = [k for k in q.kinds if k in LISTED_KINDS]
        if not asked:
            return True
        group = whole_list(cand) if cand.unit.kind in LIST_UNITS else [cand]
        return any(
            self.sentences.held(c.release, c.unit, k, q.prospective) for c in group for k in asked
        )

    def _join_row(
        self,
        q: Question,
        cand: Candidate,
        candidates: Sequence[Candidate],
        topic: Topic,
        asked: tuple[dict[str, float], float, set[str]],
        values: set[str],
        quoted: set[str],
        texts: Sequence[set[str]],
    ) -> tuple[float, ...]:
        """What the join model reads of a sentence of a release the answer does not quote yet
        (``joining.FEATURES``); ``asked`` is the question's word weights, their total and the
        words the chosen sentences cover."""
        weights, total, covered = asked
        new = (weights.keys() & cand.terms) - covered
        releases = {c.release.id: c.release for c in candidates}  # best first
        names = q.name_words
        share = self.sentences.release_share(cand.release, names) if names else 0.0
        quoted_share = max(
            (self.sentences.release_share(releases[r], names) for r in quoted if names),
            default=0.0,
        )
        # the names the sentence gives (not the question's): found in a release quoted, the
        # same case told again; in none, perhaps another case
        given = [
            run for run in self.sentences.surface(cand.release, cand.unit).runs if not run <= names
        ]

        def in_quoted(run: frozenset[str]) -> bool:
            return any(
                naming.share_of(run, self.sentences.release_words(releases[r])) == 1 for r in quoted
            )

        shared = sum(in_quoted(run) for run in given)
        # the names its release opens with (who and what it is about): shared, the same case
        lead = [run for run in self.sentences.lead(cand.release).runs if not run <= names]
        key = topic[1]
        words = _words(cand.text)
        found = kinds.values(cand.text, q.values, q.prospective)
        evidence_inputs = (
            dict(zip(evidence.FEATURES, cand.features, strict=True)) if cand.features else {}
        )
        read = {
            "gap": candidates[0].score - cand.score,
            "score": cand.score,
            "about": float(self.sentences.about(cand, topic, new)),
            "key_share": sum(self.sentences.in_release(t, cand.release.id) for t in key) / len(key)
            if key
            else 1.0,
            "new_terms": sum(weights[t] for t in new) / total,
            "new_value": float(disagrees(found, values)),
            "release": 1.0 / (1.0 + list(releases).index(cand.release.id)),
            "quoted": float(len(quoted)),
            "names_release": share,
            "names_gain": share - quoted_share,
            **{f: evidence_inputs.get(f, 0.0) for f in EVIDENCE_INPUTS},
            "repeat": max((_jaccard(words, other) for other in texts), default=0.0),
            "names_missing": 1.0 - quoted_share if names else 0.0,
            "names_shared": shared / len(given) if given else 0.0,
            "names_foreign": (len(given) - shared) / len(given) if given else 0.0,
            "lead_shared": sum(in_quoted(run) for run in lead) / len(lead) if lead else 0.0,
            "list": float(q.wants_list),
            "followup": float(bool(q.context)),
        }
        return tuple(read[f] for f in joining.FEATURES)

    def counted(
        self,
        q: Question,
        candidates: Sequence[Candidate],
        topic: Topic,
        groups: list[list[Candidate]],
        limit: int | None = None,
    ) -> list[list[Candidate]]:
        """Asked "how many X", and the sentences chosen give no number of X (``uncounted``):
        the best sentence about the topic that gives one, if it scores within
        ``KIND_MARGIN`` of the best, leads the answer instead of its last sentence ("How many
        counts did the October 2009 indictment contain?": "... a nine-count indictment")."""
        if not groups or not uncounted(q, groups):
            return groups
        limit = limit or self.max_sentences
        on_topic = {c.release.id for c in self.sentences.topical(candidates, topic)}
        extra = close_to_best(
            candidates,
            {(c.release.id, c.unit.start) for g in groups for c in g},
            lambda c: c.release.id in on_topic and not uncounted(q, [[c]]),
        )
        if extra is None:
            return groups
        return [[extra], *groups[: limit - 1]]

    def missing_kinds(
        self,
        q: Question,
        candidates: Sequence[Candidate],
        groups: list[list[Candidate]],
        limit: int,
        used: set[tuple[str, int]],
        quoted: set[str],
    ) -> list[list[Candidate]]:
        """Asked for two kinds of answer at once ("What sentence and fine did the judge
        impose?"), and the sentences chosen give one: the best sentence of a release already
        quoted that gives the other, if it scores within ``KIND_MARGIN`` of the best."""
        if len(q.kinds) < 2 or not groups:
            return []

        def holds(c: Candidate, name: str) -> bool:
            return self.sentences.held(c.release, c.unit, name, q.prospective)

        def quoted_giving(name: str) -> Callable[[Candidate], bool]:
            """A sentence of a release already quoted that gives ``name``."""
            return lambda c: c.release.id in quoted and holds(c, name)

        chosen = [c for g in groups for c in g]
        added: list[list[Candidate]] = []
        for name in q.kinds:
            if len(groups) + len(added) >= limit or any(holds(c, name) for c in chosen):
                continue
            extra = close_to_best(candidates, used, quoted_giving(name))
            if extra is not None:
                added.append([extra])
                chosen.append(extra)
                used.add((extra.release.id, extra.unit.start))
        return added


def uncounted(q: Question, groups: Sequence[Sequence[Candidate]]) -> bool:
    """Whether a "how many X" question's sentences give no number of X ("3.2 tonnes of
    cocaine", "44 counterfeit payroll debit cards": a number with a word of X among the few
    words after it, or joined to one: "a 21-count indictment"). People are counted under many
    names ("2,266 individuals" answers "how many people"), so they are not checked. It leads
    the answer with a sentence that gives one (``Selector.counted``); it does not make the
    answer abstain: a paraphrase counts "web addresses" where the release has "82 domain
    names" (docs/decisions.md)."""
    if not groups or not q.counted:
        return False
    focus = set(lexical_tokens([q.counted])[0])
    if not focus or focus & unit_terms(PEOPLE):
        return False
    for group in groups:
        for c in group:
            words = re.findall(r"[\w'-]+", c.text)
            stems = [set(t) for t in lexical_tokens(words)]
            for i, word in enumerate(words):
                if kinds.NUMBER.fullmatch(word) and any(focus & t for t in stems[i + 1 : i + 6]):
                    return False
                # a count written as a modifier of what is counted: "a 21-count indictment"
                # (not "a 20-year-old", nor "a one-time payment")
                number, _, counted = word.partition("-")
                if (
                    kinds.NUMBER.fullmatch(number)
                    and counted.isalpha()
                    and counted.lower() not in ("time", "off")
                    and focus & unit_terms(counted)
                ):
                    return False
    return True


def newest(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The candidates of the newest release among those whose best sentence scores within
    ``SELECT_MARGIN`` of the best: asked for the latest, an answer quotes one release, and not
    an older one whose sentence happens to say "most recently"."""
    if not candidates:
        return []
    floor = candidates[0].score - SELECT_MARGIN
    close = [c.release for c in candidates if c.score >= floor]
    latest = max(close, key=lambda r: r.date or "")  # the first of the newest on a tie
    return [c for c in candidates if c.release.id == latest.id]


def disagrees(found: set[str], quoted: set[str]) -> bool:
    """Whether a unit gives answers and none of those already quoted: another figure, not the
    same one restated with more around it."""
    return bool(found) and not found & quoted


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+(?:[.,]\d+)*", text.lower()))


def _repeats(words: set[str], other: set[str]) -> bool:
    """Whether two units say the same: nearly the same words, and the same figures (a
    sentence restated with a revised figure is no repeat)."""
    return _jaccard(words, other) >= 0.8 and {w for w in words if w[0].isdigit()} == {
        w for w in other if w[0].isdigit()
    }


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
