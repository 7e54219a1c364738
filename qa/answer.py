"""Compose an extractive answer: cited sentences and whole lists from the retrieved passages."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from qa import evidence
from qa.chat import ANAPHORA
from qa.chunking import Unit
from qa.corpus import Release
from qa.retrieval import Hit
from qa.store import Index, lexical_tokens

if TYPE_CHECKING:
    import numpy as np

# an auxiliary verb: where the noun a "which/what ..." question asks about has ended
_AUXILIARY = r"(?:was|is|has|does|did|do|are|were|have|had|will|would|can|could)\b"
# "Which countries ...", "What types of goods ...", "List the charges": a plural noun within three
# words of "which"/"what", before any auxiliary ("What sentence did ..." asks for one thing),
# in lower case (a capitalised word is a name: "Which prison was Davis sent to?")
LIST_QUESTION = re.compile(
    r"^\s*(?:(?:in|from|to|at|for|of|with|by|on|against)\s+)?(?:which|what)\s+"
    rf"(?:(?!{_AUXILIARY})\w+\s+){{0,2}}?"
    r"(?!(?:was|is|has|does|this|its|his|hers|us|as)\b)(?-i:[a-z]\w*s)\b(?!\s+(?:is|was|has)\b)"
    r"|^\s*(?:list|enumerate|name all)\b|\b(?:what are|what were|which are)\b",
    re.IGNORECASE,
)
ABSTAIN_MESSAGE = (
    "The releases don't say. None of the indexed releases answers this question closely enough "
    "to quote."
)
SUGGESTIONS_NOTE = " The closest ones are listed below."
OFF_TOPIC = "The closest passages are about other cases."
MAX_LIST_ITEMS = 15
CONTEXT_WEIGHT = 0.3  # how much the earlier question's words count for a follow-up
SELECT_MARGIN = 0.08  # answer sentences score within this of the best one
KEY_TERMS = 2  # the question's rarest words another quoted release must share one of
LIST_MARGIN = 0.15  # how far below the best sentence a list may still answer a list question
LIST_UNITS = ("lead", "bullet")  # a list's lead-in and items (bulleted, or after a ':' lead-in)
UNIT_CACHE = 50_000  # entries a composer's memo keeps (a unit's terms and kinds: ~2 KB)
EXPAND_RELEASES = 3  # releases whose every passage is read for the answer
NAMED_RELEASES = 2  # releases search missed that name what a question names, read as well
RERANK_RELEASES = 5  # the first releases of a search that their best sentences reorder
TITLE_EVENT = 0.3  # what reordering adds for a title announcing the event a question asks about
KIND_MARGIN = 0.15  # how far below the best sentence one giving a second kind of answer may be

YEAR = re.compile(r"\b(?:19|20)\d\d\b")
# A question about what happened in court (the sentence handed down, the verdict) is not
# answered by the penalty a defendant "faces", a hearing "scheduled" or "if convicted": the
# releases announcing charges and pleas always state those, and quoting them as the outcome is
# the classic wrong answer. Each outcome: what asks for it, what reports it, and what says it
# has not happened yet when it comes just before the report.
OUTCOMES: tuple[tuple[str, re.Pattern[str], re.Pattern[str]], ...] = (
    (
        "sentence",
        re.compile(
            r"\bsentenced\b|^(?=.*\b(?:sentences?|prison|jail)\b)"
            r"(?=.*\b(?:receive[ds]?|get|got|given|impose[ds]?|handed|serve[ds]?)\b)",
            re.I | re.S,
        ),
        re.compile(r"\bsentenced\b|\b(?:ordered to serve|is serving|was serving)\b", re.I),
    ),
    (
        "verdict",
        re.compile(r"\bconvict(?:ed)?\b|\bfound guilty\b|\bverdict\b", re.I),
        re.compile(r"\bconvicted\b|\bfound (?:\w+ )?guilty\b|\bguilty verdict\b", re.I),
    ),
)
# What happened to whom, as a question asks about it and as a release's title announces it:
# asked how long someone was sentenced to, or "according to the release on X's sentencing",
# the release titled "X Sentenced to ..." is the one about it, not the plea or the charges
# that mention the sentence to come or a co-defendant's.
TITLE_EVENTS = tuple(
    (re.compile(a, re.I), re.compile(t, re.I))
    for a, t in (
        (r"\bsentenc\w*", r"\bsentenced\b"),
        (r"\bplead\w*|\bpled\b|\bplea\b", r"\bpleads?\b|\bpleaded\b|\bpled\b|\badmits?\b"),
        (r"\bconvict\w*|\bfound guilty\b|\bverdict\b", r"\bconvicted\b|\bfound guilty\b"),
        (r"\bindict\w*|\bcharged\b|\bcharges\b", r"\bindicted\b|\bcharged\b"),
        (r"\bextradit\w*", r"\bextradited\b|\bextradites\b"),
        (r"\barrest\w*", r"\barrested\b"),
    )
)
# Before "convicted"/"sentenced" in the same clause: it has not happened (or is another case's).
NOT_YET = re.compile(
    r"\b(?:if|upon|once|unless|be|being|faces?|facing|previously|formerly|prior)\b", re.I
)
# "What was seized during the INTERPOL Americas Regional Conference?": a named event asked
# about as past, which a release announcing it ("to be held in Chile in March") cannot answer
EVENT = re.compile(
    r"\b(?i:was|were|did|had)\b.*\b(?:during|at)\s+the\s+((?:[A-Z][\w'-]*\s+){0,6}"
    r"(?:Conference|Summit|Meeting|Forum|Assembly|Congress|Symposium|Games|Olympics|"
    r"Championships?|Cup|Convention|Ceremony))\b"
)
# right after the event's name ("…, to be held in Chile") or right before it ("the upcoming …")
AHEAD_AFTER = re.compile(
    r"^\W*(?:\w+\W+){0,3}?(?:to be held|will|shall|is scheduled|is set|is to)\b", re.I
)
AHEAD_BEFORE = re.compile(r"\b(?:upcoming|forthcoming|next)\W+(?:\w+\W+){0,2}$", re.I)
PENALTIES = ("duration", "money")  # the kinds of answer a penalty faced states
FACED_REACH = 60  # characters before a figure that can make it a penalty faced
# A question about what someone faces, could get or might receive asks for the penalty.
# "When will he be sentenced?", "when is sentencing scheduled?" ask about what is to come too.
PROSPECTIVE = re.compile(
    r"\b(?:face[sd]?|facing|could|would|might|maximum|potential|will|scheduled)\b", re.I
)
# a sentence about a penalty someone faces, not one handed down ("may advocate for up to 25 years")
FACED = re.compile(
    r"\b(?:face[sd]?|facing|could|would|might|maximum|potential|up to|(?-i:may))\b", re.I
)
# within a clause, a penalty handed down ("was sentenced to the statutory maximum of 20 years")
HANDED_DOWN = re.compile(r"\b(?:sentenced|ordered to (?:pay|serve|forfeit)|imposed)\b", re.I)
CLAUSE_BREAK = re.compile(r"[;:()]|[,.]\s")


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


NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    r"hundred|thousand|dozens?"
)
# "today", "yesterday", a weekday: the day of the release's news, unless it only dates the
# announcement ("the Department announced today", "said on Tuesday")
RELATIVE_DAY = (
    r"(?<!announced )(?<!announces )(?<!said )(?<!says )(?<!stated )(?<!reported )"
    r"(?<!confirmed )(?<!announced on )(?<!said on )"
    r"\b(?:today|yesterday|monday|tuesday|wednesday|thursday|friday)\b"
)
MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)


class _Series:
    """Finds a list written inline: three or more short items in a series, the last one after
    "and"/"or" ("sports equipment, shoes, handbags and sunglasses"). Linear in the text, where
    a regular expression for it backtracks quadratically on long comma-laden sentences."""

    LAST = re.compile(r"^(?:and|or|as well as) \S|\S,? (?:and|or|as well as) \S")

    def search(self, text: str) -> bool:
        for clause in re.split(r"[;:.]", text):
            items = clause.split(", ")
            for i in range(len(items) - 2):
                if (
                    2 <= len(items[i]) <= 40
                    and 2 <= len(items[i + 1]) <= 40
                    and self.LAST.search(items[i + 2][:60])
                ):
                    return True
        return False


# What kind of answer a question asks for, and what a sentence that gives it contains.
ANSWER_TYPES: tuple[tuple[str, re.Pattern[str], re.Pattern[str] | _Series], ...] = (
    (
        "money",
        re.compile(
            r"\bhow much\b(?! (?:time|longer)\b)|\b(?:fine|penalty|penalties|forfeit\w*|"
            r"restitution|bribes?|amount|sum|profits?|proceeds|worth|value)\b",
            re.I,
        ),
        re.compile(r"[$€£]\s?\d|\b\d[\d,.]*\s*(?:million|billion|dollars|euros)\b", re.I),
    ),
    (
        "duration",
        re.compile(
            r"\bhow long\b|\bhow much (?:time|longer)\b|\bsentenced?\b|\bprison\b|\bterm\b|"
            r"\bjail\b",
            re.I,
        ),
        re.compile(
            rf"\b(?:\d+|{NUMBER_WORDS})[- ](?:years?|months?|weeks?|days?)\b(?!-old)|\blife\b", re.I
        ),
    ),
    (
        # "On what date", "which days": a day, not a year ("launched in 2018" is no answer)
        "day",
        re.compile(r"\b(?:what|which) (?:date|dates|day|days)\b", re.I),
        re.compile(
            rf"\b(?:{MONTHS})\.? \d{{1,2}}\b|\b\d{{1,2}} (?:{MONTHS})\b|" + RELATIVE_DAY,
            re.I,
        ),
    ),
    (
        "date",
        re.compile(
            r"^\s*(?:since |until |till )?when\b|\b(?:what|which) (?:year|month)\b|"
            r"\bhow long ago\b",
            re.I,
        ),
        re.compile(
            rf"\b(?:{MONTHS})\.? \d{{1,2}}\b|\b\d{{1,2}} (?:{MONTHS})\b|\b(?:19|20)\d\d\b|"
            + RELATIVE_DAY,
            re.I,
        ),
    ),
    (
        # "Where was the conference held?", "in which country ...": a place, as a dateline
        # gives it ("ABU DHABI, United Arab Emirates -") or after a preposition ("in Chile")
        "place",
        re.compile(
            r"^\W*(?:(?:and|so)\s+)?where\b|\b(?:in|from|to|at) (?:which|what) (?:country|"
            r"countries|city|cities|state|states|town|place|region|port)\b",
            re.I,
        ),
        re.compile(
            r"^[A-Z][A-Z .'’-]{2,},|\b(?:in|at|from|near)\s+(?:the\s+)?"
            rf"(?!(?i:{MONTHS}|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b)"
            r"[A-Z][a-z]+"
        ),
    ),
    (
        # "What types of goods...", "which malware families...": a list written inline, three
        # or more items in a series ("sports equipment, shoes, handbags and sunglasses")
        "series",
        LIST_QUESTION,
        _Series(),
    ),
    (
        # the charges, asked as what someone is charged with ("What is he charged with?",
        # "which charges"), not who was ("Who is accused of running ...?")
        "charges",
        re.compile(
            r"\b(?:charged with|accused of|convicted of|found guilty of|indicted for|"
            r"plead(?:ed)? guilty to)(?:\s+(?:in|on|at|by|after|before)\b[^?]*)?\s*[?.]?\s*$|"
            r"\b(?:what|which) (?:\w+ ){0,2}(?:charges|counts|crimes|offen[cs]es)\b(?! as\b)",
            re.I,
        ),
        re.compile(
            r"\b(?:charg(?:ed|es|ing) (?:\w+ ){0,3}?(?:with|of)|counts? of|accused of|"
            r"convicted of|indicted (?:on|for)|pleaded guilty to|guilty of)\b",
            re.I,
        ),
    ),
    (
        # an age, as releases give it after a full name or an alias ("Karim Baratov, 22, of
        # Ancaster", "aka Theblackflag, 52,"), not a figure after a place ("Kenya, 12, Uganda")
        "age",
        re.compile(r"\bhow old\b|\b(?:what|which) age\b|\b(?:his|her|their) ages?\b", re.I),
        re.compile(
            r"\b[A-Z][\w'.-]+\s[A-Z][\w'.-]*,\s\d{1,2},\s|\baka\s[\w'.-]+,\s\d{1,2},\s|"
            r"\b\d{1,2}-year-old\b|\baged?\s\d{1,2}\b|\b\d{1,2} years old\b"
        ),
    ),
    (
        # a number of things: not a year, not a "three-year" or "10-count" modifier
        "count",
        re.compile(r"\bhow many\b|\bnumber of\b", re.I),
        re.compile(
            rf"(?<![\d,.])(?!(?:19|20)\d\d\b)\d[\d,.]*\b(?!-)|\b(?:{NUMBER_WORDS})\b(?!-)",
            re.I,
        ),
    ),
)
# what a unit adds for the question words the units already picked have not covered
GAIN = 0.25


WH = (
    r"(?:(?:in|from|to|at|for|by|on|with|against)\s+)?"
    r"(?:how|what|which|where|when|who|whom|whose|why)\b"
)
COMPOUND = re.compile(rf"(?:,\s*and|;|,)\s+(?={WH})", re.I)
AUX = r"(?:is|are|was|were|did|does|do|has|have|had|can|could|will)\b"
ASKS = re.compile(rf"^\s*(?:{WH}|{AUX})", re.I)
SETTING = re.compile(
    r"^\s*(?:in|for|regarding|about|concerning|as for|on|during|after|before|according to)\b",
    re.I,
)


# The words of a question that say what kind of thing it asks about, not which: "What happened
# on Wednesday?" asks about Wednesday, "Where was the conference held?" about the conference.
# No sentence is about "happened"; counted as terms they make the one that has the word win.
FRAME = re.compile(
    r"\b(?:happen(?:s|ed|ing)?|occur(?:s|red|ring)?|t(?:ake|akes|ook|aking|aken) place)\b", re.I
)
HELD = re.compile(r"\bheld\b", re.I)


def content(question: str) -> str:
    """Return a question without the words of its frame (``FRAME``; "held" too when it asks
    where or when): the words a sentence that answers it shares with it."""
    text = FRAME.sub(" ", question)
    if any(name in ("place", "date", "day") for name, _ in expected_types(question)):
        text = HELD.sub(" ", text)
    return text


def question_parts(question: str) -> list[str]:
    """Split a compound question ("How much ..., and how long ...?") into its sub-questions."""
    parts = [p.strip(" ,;") for p in COMPOUND.split(question) if p.strip(" ,;")]
    if len(parts) > 1 and not ASKS.match(parts[0]) and SETTING.match(parts[0]):
        # "In the Haiti Teleco case, how much ..., and from which country ...?": the opening
        # phrase is no question of its own but the setting of each one (their context).
        parts = parts[1:]
    return parts if len(parts) > 1 and all(len(p.split()) >= 3 for p in parts) else [question]


def expected_types(question: str) -> list[tuple[str, re.Pattern[str] | _Series]]:
    """Return the kinds of answer a question asks for, with the pattern that finds each."""
    types = [(name, found) for name, asks, found in ANSWER_TYPES if asks.search(question)]
    # a series is what a list question wants only when it wants nothing more specific
    # ("on which days" wants days)
    return [t for t in types if t[0] != "series"] or types


K = TypeVar("K")
V = TypeVar("V")


class _Memo(dict[K, V]):
    """A memo that forgets everything once it holds ``UNIT_CACHE`` entries."""

    def remember(self, key: K, compute: Callable[[], V]) -> V:
        value = self.get(key)
        if value is None:
            if len(self) >= UNIT_CACHE:
                self.clear()
            value = self[key] = compute()
        return value


_Topic = tuple[str, frozenset[str]]  # the release a question is about, and its key words


@dataclass(slots=True)
class _Candidate:
    release: Release
    unit: Unit
    score: float
    terms: frozenset[str]
    features: tuple[float, ...] = ()  # the evidence model's inputs (``evidence.FEATURES``)


class Composer:
    """Select, order and cite answer sentences; abstain when the evidence is weak."""

    def __init__(
        self,
        index: Index,
        max_sentences: int = 4,
        abstain_below: float = 0.3,
        scorer: evidence.Scorer | None = None,
    ) -> None:
        self.index = index
        self.max_sentences = max_sentences
        self.abstain_below = abstain_below
        self._idf = _idf_table(index)
        self.scorer = scorer or evidence.Scorer.load()
        # what is read once and kept: per release its years, per term and release whether
        # it occurs, per unit its terms and the kinds of answer it holds
        self._release_years: _Memo[str, frozenset[str]] = _Memo()
        self._term_in: _Memo[tuple[str, str], bool] = _Memo()
        self._unit_facts: _Memo[tuple[str, int, int], tuple[frozenset[str], dict[str, bool]]] = (
            _Memo()
        )
        # per unit and question names: the share of the names it has (search's reordering and
        # the answer score the same units)
        self._named: _Memo[tuple[str, int, frozenset[str]], float] = _Memo()

    def compose(
        self,
        question: str,
        hits: Sequence[Hit],
        vector: np.ndarray,
        context: str = "",
        parts: Sequence[tuple[str, np.ndarray]] = (),
        recent: bool = False,
    ) -> Answer:
        """Answer ``question`` from ``hits`` with cited sentences, or abstain.

        ``vector`` is the question's embedding; ``context`` the earlier question a follow-up
        leans on (its words count, but less than the question's own); ``parts`` the
        sub-questions of a compound question ("how much ..., and how long ...?") with their
        embeddings, each of which gets its own sentences; ``recent`` that it asks for the
        latest: of the releases about its topic whose best sentences answer about as well as
        the best, only the newest is quoted.
        """
        if not hits:
            return self._abstain(question, hits, 0.0)
        # a question about someone or something no release names is not answered with another
        # case of the same kind; one that search missed is read too
        releases = {h.release.id: f"{h.release.title}\n{h.release.text}" for h in hits}
        names = evidence.question_names(question)
        named: list[str] = []
        for name in evidence.unmentioned(names, [*releases.values()]):
            anywhere = self._naming(name)
            if not anywhere:
                return self._abstain(question, hits, 0.0, f"No release mentions {name}.")
            named += [r for r in anywhere if r not in named][:NAMED_RELEASES]
        hits = self._expand(hits, vector, named)
        years = list(dict.fromkeys(YEAR.findall(question)))
        candidates = self._of_years(self._candidates(question, context, hits, vector), years)
        if not candidates:
            reason = f"None of the closest releases mentions {' or '.join(years)}." if years else ""
            return self._abstain(question, hits, 0.0, reason)
        confidence = self.scorer.probability(candidates[0].score)
        if confidence < self.abstain_below:
            return self._abstain(question, hits, confidence)
        if recent:
            candidates = self._latest(question, context, hits, candidates)
        if len(parts) < 2:
            topic = self._topic(question, context, hits, candidates)
            if reason := self._unsupported(question, candidates, topic):
                return self._abstain(question, hits, confidence, reason)
            groups = self._select(question, candidates, topic)
            if not groups:
                return self._abstain(question, hits, confidence, OFF_TOPIC)
            if reason := _uncounted(question, groups):
                return self._abstain(question, hits, confidence, reason)
            groups = self._name_person(question, groups, candidates)
            groups = self._introduce(question, groups, candidates)
            return self._render(question, groups, hits, confidence)
        # A compound question may span releases: each part is answered, and checked, on its
        # own, the setting and the other parts being its context.
        groups = []
        share = max(1, self.max_sentences // len(parts))
        reasons = []
        for part, part_vector in parts:
            others = question.replace(part, " ")
            part_candidates = self._of_years(
                self._candidates(part, f"{context} {others}", hits, part_vector), years
            )
            if recent and part_candidates:
                part_candidates = self._latest(part, context, hits, part_candidates)
            if not part_candidates:
                continue
            topic = self._part_topic(part, question, context, hits, part_candidates)
            if reason := self._unsupported(part, part_candidates, topic):
                reasons.append(reason)
                continue
            selected = self._select(part, part_candidates, topic, share)
            if reason := _uncounted(part, selected):
                reasons.append(reason)
                continue
            taken = {(c.release.id, c.unit.start) for g in groups for c in g}
            groups.extend(g for g in selected if (g[0].release.id, g[0].unit.start) not in taken)
        if not groups:
            return self._abstain(question, hits, confidence, reasons[0] if reasons else OFF_TOPIC)
        return self._render(question, groups, hits, confidence)

    def rerank(
        self,
        question: str,
        context: str,
        hits: Sequence[Hit],
        vector: np.ndarray,
        weight: float,
        dense_releases: int = 0,
    ) -> list[Hit]:
        """Reorder the first ``RERANK_RELEASES`` releases of the hits, and the
        ``dense_releases`` releases of the best dense ranks among them, by their best passage
        score (relative to the best hit's) plus ``weight`` times the score of their best
        sentence, as answers score sentences: of several releases about one case, the one that
        states the answer ranks first, and a release that dense retrieval found but BM25 did
        not (a paraphrase) can rise into the first few when its sentences answer. Asked what
        happened in court (the sentence handed down, the verdict), releases that report it
        rank above those that only announce it ("is scheduled to be sentenced"), as answers
        quote only the former; asked for a list, a release's list counts as its answer
        would quote it. Passages keep their order within a release."""
        if not hits:
            return []
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
        # (``_select``): a release's list counts that much more, as its answer would quote it
        # (of the releases past EXPAND_RELEASES, only a list in their retrieved passages)
        wants_list = any(LIST_QUESTION.search(p) for p in question_parts(question))
        listed = LIST_MARGIN if wants_list else 0.0
        for c in self._candidates(question, context, self._expand(hits, vector), vector):
            score = c.score + listed * (c.unit.kind in LIST_UNITS)
            sentence[c.release.id] = max(sentence.get(c.release.id, 0.0), score)
        releases = {h.release.id: h.release for h in hits}
        # what someone faces, or when he will be sentenced: the charges or the plea say it
        prospective = bool(PROSPECTIVE.search(question))
        asked = (
            []
            if prospective
            else [reports for _, asks, reports in OUTCOMES if asks.search(question)]
        )
        events = [] if prospective else [t for ask, t in TITLE_EVENTS if ask.search(question)]
        # the outcome must be reported, and the event be the title's, by a release about the
        # question (with all of its key words, as the first release has them): another
        # defendant's sentence, another suspect's extradition is not it
        key = self._key_terms(context or question, first[0]) if asked or events else frozenset()

        def about(r: str) -> bool:
            return all(self._in_release(t, r) for t in key)

        def reports(r: str) -> bool:
            return all(_reported(releases[r].text, x) for x in asked) and about(r)

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
        return sorted(hits, key=lambda h: rank.get(h.release.id, len(rank)))

    def _topic(
        self, question: str, context: str, hits: Sequence[Hit], candidates: Sequence[_Candidate]
    ) -> _Topic:
        """What a question is about: the release of its best sentence, and the question's
        rarest words in that release. A follow-up's own words ("what sentence did he get?")
        name no one: it is about the release retrieval ranked first for the standalone query
        (if it is still a candidate) and the rarest words of the question it follows."""
        anchor = candidates[0].release.id
        if context and any(c.release.id == hits[0].release.id for c in candidates):
            anchor = hits[0].release.id
        return anchor, self._key_terms(context or question, anchor)

    def _part_topic(
        self,
        part: str,
        question: str,
        context: str,
        hits: Sequence[Hit],
        candidates: Sequence[_Candidate],
    ) -> _Topic:
        """What a part of a compound question is about: as ``_topic`` for a follow-up; else
        the release of the part's best sentence and the part's rarest words in it, or, if the
        part refers back ("..., and in which country will he serve it?"), the whole
        question's: the part's own ("serve", "country") would make any release that has them
        about it. A part naming its own subject ("... and where was the fugitive arrested?")
        keeps its words, as it may be about another release than the first part."""
        if context:
            return self._topic(part, context, hits, candidates)
        anchor = candidates[0].release.id
        return anchor, self._key_terms(question if ANAPHORA.search(part) else part, anchor)

    def _unsupported(self, question: str, candidates: Sequence[_Candidate], topic: _Topic) -> str:
        """Say why the evidence cannot answer a question about a court outcome or about what
        happened at a named event, if it cannot: none of the releases the answer would quote
        reports that outcome as having happened, or they announce the event as to come."""
        if PROSPECTIVE.search(question):
            return ""
        candidates = self._topical(candidates, topic)
        if not candidates:
            return ""
        quoted = {
            c.release.id: c.release
            for c in candidates
            if c.score >= candidates[0].score - SELECT_MARGIN
        }
        for name, asks, reports in OUTCOMES:
            if asks.search(question) and not any(
                _reported(r.text, reports) for r in quoted.values()
            ):
                return (
                    f"The closest releases do not report the {name} as handed down, only "
                    "charges, pleas or the penalties faced."
                )
        if (event := EVENT.search(question)) and _only_ahead(event.group(1), quoted.values()):
            return f"The closest releases mention the {event.group(1)} only as still to come."
        return ""

    def _expand(
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

    def _abstain(
        self, question: str, hits: Sequence[Hit], confidence: float, reason: str = ""
    ) -> Answer:
        seen: dict[str, Release] = {}
        for h in hits:
            seen.setdefault(h.release.id, h.release)
        message = (
            ABSTAIN_MESSAGE + (f" {reason}" if reason else "") + (SUGGESTIONS_NOTE if seen else "")
        )
        return Answer(
            question=question,
            text=message,
            sentences=(),
            sources=(),
            abstained=True,
            message=message,
            suggestions=tuple(list(seen.values())[:5]),
            confidence=round(min(max(confidence, 0.0), 1.0), 4),
            reason=reason,
        )

    def _weight(self, term: str) -> float:
        return self._idf.get(term, self._idf[""])

    def _latest(
        self, question: str, context: str, hits: Sequence[Hit], candidates: list[_Candidate]
    ) -> list[_Candidate]:
        """The candidates of the newest release about the question's topic among those whose
        best sentence scores within ``SELECT_MARGIN`` of the best (``_newest``)."""
        topical = self._topical(candidates, self._topic(question, context, hits, candidates))
        return _newest(topical) or candidates

    def _term_weights(self, question: str, context: str) -> dict[str, float]:
        weights = {t: self._weight(t) * CONTEXT_WEIGHT for t in lexical_tokens([context])[0]}
        weights.update({t: self._weight(t) for t in lexical_tokens([content(question)])[0]})
        return weights

    def _candidates(
        self, question: str, context: str, hits: Sequence[Hit], vector: np.ndarray
    ) -> list[_Candidate]:
        """Score every unit of the hits against the question with the evidence model."""
        weights = self._term_weights(question, context)
        total = sum(weights.values()) or 1.0
        asked = frozenset(weights)
        kinds = [name for name, _ in expected_types(question)]
        prospective = bool(PROSPECTIVE.search(question))
        names = evidence.name_words(evidence.question_names(question))
        who = evidence.asks_person(question)
        wants_list = bool(LIST_QUESTION.search(question))
        seen: set[tuple[str, int]] = set()
        out: list[_Candidate] = []
        release_rank = {rid: n for n, rid in enumerate(dict.fromkeys(h.release.id for h in hits))}
        similarities = self.index.unit_similarities([h.row for h in hits], vector)
        # A follow-up names its subject only through the question before it ("When was he
        # indicted?"): the sentence that answers it need not name him again, the release
        # it is in must. The earlier question's words found elsewhere in a sentence's
        # release count for it, partly: else the sentences that restate the case win. The
        # same holds for a part of a compound question, whose context is the other parts
        # ("In the 1MDB forfeiture actions, what aircraft ..., and what vessel ...?").
        own = set(lexical_tokens([question])[0])
        carried = [t for t in weights if t not in own] if context else []
        in_release: dict[str, frozenset[str]] = {}
        named_release: dict[str, float] = {}
        for hit, semantic in zip(hits, similarities, strict=True):
            release = hit.release
            rid = release.id
            if rid not in named_release:
                named_release[rid] = evidence.words_in(names, f"{release.title}\n{release.text}")
            prior = 1.0 / (1.0 + release_rank[rid])
            units = hit.chunk.units
            for i, (unit, sem) in enumerate(zip(units, semantic, strict=True)):
                key = (rid, unit.start)
                if key in seen or unit.kind == "heading" or unit.end - unit.start < 12:
                    continue
                seen.add(key)
                text = release.text[unit.start : unit.end]
                term_set = self._facts(release, unit)[0]
                coverage = sum(weights[t] for t in asked & term_set)
                borrowed = 0.0
                if carried:
                    if rid not in in_release:
                        in_release[rid] = frozenset(t for t in carried if self._in_release(t, rid))
                    borrowed = sum(weights[t] for t in in_release[rid] - term_set)
                held = sum(self._held(release, unit, n, prospective) for n in kinds)
                beside = [semantic[j] for j in (i - 1, i + 1) if 0 <= j < len(units)]
                row = (
                    sem,
                    max(beside, default=sem),
                    coverage / total,
                    borrowed / total,
                    held / len(kinds) if kinds else 0.0,
                    max(0.0, hit.similarity),
                    prior,
                    1.0 - unit.start / max(1, len(release.text)),
                    self._named.remember(
                        (rid, unit.start, names), partial(evidence.words_in, names, text)
                    )
                    if names
                    else 0.0,
                    named_release[rid] if names else 0.0,
                    float(who and evidence.names_person(text)),
                    float(wants_list and unit.kind in LIST_UNITS),
                    float(evidence.tense_clash(question, text)),
                )
                out.append(_Candidate(release, unit, self.scorer.score(row), term_set, row))
        out.sort(key=lambda c: -c.score)
        return out

    def evidence(
        self, question: str, context: str, hits: Sequence[Hit], vector: np.ndarray
    ) -> list[_Candidate]:
        """Return the sentences an answer would choose from, best first, with their
        features: those of the hits and of the other passages of their first releases."""
        return self._candidates(question, context, self._expand(hits, vector), vector)

    def _held(self, release: Release, unit: Unit, name: str, prospective: bool) -> bool:
        """Whether a unit holds an answer of the kind ``name`` (``_holds``), kept with the
        unit's facts; asked about what was (not ``prospective``), a penalty only faced is
        none."""
        stated = not prospective and name in PENALTIES
        key = f"{name} stated" if stated else name
        kinds = self._facts(release, unit)[1]
        found = kinds.get(key)
        if found is None:
            found = kinds[key] = _holds(release.text[unit.start : unit.end], name, stated)
        return found

    def _facts(self, release: Release, unit: Unit) -> tuple[frozenset[str], dict[str, bool]]:
        """A unit's lexical terms and which kinds of answer it holds (filled in as they are
        asked), kept per unit: the units of popular releases recur across questions."""
        return self._unit_facts.remember(
            (release.id, unit.start, unit.end),
            lambda: (_unit_terms(release.text[unit.start : unit.end]), {}),
        )

    def _select(
        self,
        question: str,
        candidates: list[_Candidate],
        topic: _Topic,
        limit: int | None = None,
    ) -> list[list[_Candidate]]:
        """Pick groups of units greedily: relevance plus the question words not yet covered."""
        limit = limit or self.max_sentences
        wants_list = bool(LIST_QUESTION.search(question))
        weights = {t: self._weight(t) for t in lexical_tokens([content(question)])[0]}
        total = sum(weights.values()) or 1.0
        asked = weights.keys()
        candidates = self._topical(candidates, topic)
        if not candidates:
            return []
        floor = candidates[0].score - SELECT_MARGIN
        pool = [c for c in candidates if c.score >= floor]
        forced: _Candidate | None = None
        if wants_list:
            # A list question is best answered by a list, even one a little below the best
            # single sentence.
            item = next((c for c in candidates if c.unit.kind in LIST_UNITS), None)
            if item is not None and item.score >= candidates[0].score - LIST_MARGIN:
                forced = item
                pool = [c for c in pool if c is not item]
        covered: set[str] = set()
        groups: list[list[_Candidate]] = []
        texts: list[set[str]] = []
        used: set[tuple[str, int]] = set()
        quoted: set[str] = set()
        types = [name for name, found in expected_types(question) if hasattr(found, "findall")]
        values: set[str] = set()
        prospective = bool(PROSPECTIVE.search(question))
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
            if groups and best.release.id not in quoted:
                # Another release joins the answer only if it is about the question and brings
                # something new: a word of the question not yet covered, or another answer of
                # the kind asked for (a different figure or date, which the reader should see
                # beside the first). Repeats of the same facts by other releases are left out.
                new = (asked & best.terms) - covered
                if not self._about(best, topic, new) or not (
                    new or _disagrees(_values(best, types, prospective), values)
                ):
                    continue
            if best.unit.kind in LIST_UNITS and (wants_list or best.unit.kind == "lead"):
                # the whole list, less any item an earlier group already quoted
                group = [
                    c for c in self._whole_list(best) if (c.release.id, c.unit.start) not in used
                ]
            else:
                group = [best]
            if not group:
                continue
            words = _words(" ".join(c.release.text[c.unit.start : c.unit.end] for c in group))
            if any(_repeats(words, other) for other in texts):
                continue  # the same sentence, repeated by another release
            texts.append(words)
            used.update((c.release.id, c.unit.start) for c in group)
            quoted.update(c.release.id for c in group)
            for c in group:
                values |= _values(c, types, prospective)
            for c in group:
                covered |= c.terms
            groups.append(group)
            if wants_list and len(group) > 1:
                break  # a list question answered by a whole list: the list is the answer
        return groups + self._missing_kinds(question, candidates, groups, limit, used, quoted)

    def _missing_kinds(
        self,
        question: str,
        candidates: Sequence[_Candidate],
        groups: list[list[_Candidate]],
        limit: int,
        used: set[tuple[str, int]],
        quoted: set[str],
    ) -> list[list[_Candidate]]:
        """Asked for two kinds of answer at once ("What sentence and fine did the judge
        impose?"), and the sentences chosen give one: the best sentence of a release already
        quoted that gives the other, if it scores within ``KIND_MARGIN`` of the best."""
        names = [name for name, _ in expected_types(question)]
        if len(names) < 2 or not groups:
            return []
        prospective = bool(PROSPECTIVE.search(question))

        def holds(c: _Candidate, name: str) -> bool:
            return self._held(c.release, c.unit, name, prospective)

        chosen = [c for g in groups for c in g]
        floor = candidates[0].score - KIND_MARGIN
        added: list[list[_Candidate]] = []
        for name in names:
            if len(groups) + len(added) >= limit or any(holds(c, name) for c in chosen):
                continue
            extra = next(
                (
                    c
                    for c in candidates
                    if c.score >= floor
                    and c.release.id in quoted
                    and (c.release.id, c.unit.start) not in used
                    and holds(c, name)
                ),
                None,
            )
            if extra is not None:
                added.append([extra])
                chosen.append(extra)
                used.add((extra.release.id, extra.unit.start))
        return added

    def _name_person(
        self, question: str, groups: list[list[_Candidate]], candidates: Sequence[_Candidate]
    ) -> list[list[_Candidate]]:
        """Asked who, and answered with sentences that name no one ("A retired officer ... was
        sentenced", "The MOU was signed today"): the best sentence of the first quoted release
        that names a person (``evidence.names_person``) follows the first, if it scores within
        ``KIND_MARGIN`` of the best; if the answer is full, it takes the last one's place."""
        if not groups or not PERSON_ASKED.search(question):
            return groups
        texts = [c.release.text[c.unit.start : c.unit.end] for g in groups for c in g]
        if any(evidence.names_person(t) for t in texts):
            return groups
        release = groups[0][0].release.id
        used = {(c.release.id, c.unit.start) for g in groups for c in g}
        floor = candidates[0].score - KIND_MARGIN
        person = next(
            (
                c
                for c in candidates
                if c.score >= floor
                and c.release.id == release
                and (c.release.id, c.unit.start) not in used
                and evidence.names_person(c.release.text[c.unit.start : c.unit.end])
            ),
            None,
        )
        if person is None:
            return groups
        kept = groups if len(groups) < self.max_sentences else groups[:-1]
        return [kept[0], [person], *kept[1:]]

    def _introduce(
        self, question: str, groups: list[list[_Candidate]], candidates: Sequence[_Candidate]
    ) -> list[list[_Candidate]]:
        """Asked who, and answered with sentences that name him by surname alone ("Tsai was
        associated with ..."): the sentence of the same release that introduces him by his
        full name ("Hsien Tai Tsai, aka Alex Tsai, 67, of Taiwan, ...") comes first. The
        person is the first one the quoted sentences name by surname whose introduction
        the release has, officials aside ("Judge Roe"); if the answer is full, a later
        sentence of the same release makes room, never another release's."""
        if not groups or not PERSON_ASKED.search(question):
            return groups
        release = groups[0][0].release
        used = {(c.release.id, c.unit.start) for g in groups for c in g}
        quoted = " ".join(
            c.release.text[c.unit.start : c.unit.end]
            for g in groups
            for c in g
            if c.release.id == release.id
        )
        intros: dict[str, re.Match[str]] = {}  # each surname's first introduction
        for m in INTRO.finditer(release.text):
            before = release.text[max(0, m.start() - 40) : m.start()].split()
            names = m.group("name").split()
            if not TITLES.intersection(names) and not (before and before[-1] in TITLES):
                intros.setdefault(m.group("surname"), m)
        for surname in dict.fromkeys(SURNAME.findall(quoted)):
            first = intros.get(surname)
            if first is None or first.group("name") + surname in quoted:
                continue
            intro = next(
                (
                    c
                    for c in candidates
                    if c.release.id == release.id
                    and c.unit.start <= first.start()
                    and first.end() <= c.unit.end
                ),
                None,
            )
            if (
                intro is None
                or (release.id, intro.unit.start) in used
                or intro.unit.kind == "bullet"
            ):
                return groups
            if len(groups) < self.max_sentences:
                return [[intro], *groups]
            # full: the last group from the same release makes room, never another release's
            last = max(
                (n for n, g in enumerate(groups) if g[0].release.id == release.id), default=0
            )
            if last == 0:
                return groups
            return [[intro], *groups[:last], *groups[last + 1 :]]
        return groups

    def _about(self, cand: _Candidate, topic: _Topic, new: set[str]) -> bool:
        """Whether the release of ``cand`` is about the question: it contains all of the key
        words, or ``cand`` covers a new word of the question as rare as they are ("Project
        Deliverance" beside "Project Delirium")."""
        key = topic[1]
        rare = min((self._weight(t) for t in key), default=0.0)
        return all(self._in_release(t, cand.release.id) for t in key) or any(
            self._weight(t) >= rare for t in new
        )

    def _of_years(self, candidates: list[_Candidate], years: Sequence[str]) -> list[_Candidate]:
        """Keep the candidates from releases that mention one of the question's years (in the
        text, the title or the date): "who was fined in 2016?" is not answered by a release
        that names no 2016. (The words of a date filter the releases passed, "by March
        2015", are not in the question the engine passes.)"""
        if not years:
            return candidates
        return _kept(candidates, lambda r: not self._years(r).isdisjoint(years))

    def _years(self, release: Release) -> frozenset[str]:
        """The years a release mentions or is dated in, read once per release."""
        return self._release_years.remember(
            release.id,
            lambda: (
                frozenset(YEAR.findall(f"{release.title} {release.text}"))
                | ({release.date[:4]} if release.date else set())
            ),
        )

    def _naming(self, name: str) -> list[str]:
        """Return the releases of the whole index whose passages hold every word of ``name``
        (as lexical terms: BM25's postings), in the order of their ids."""
        found: set[str] | None = None
        for term in lexical_tokens([name])[0]:
            col = self.index.bm25.vocab_dict.get(term)
            scores = self.index.bm25.scores
            if col is None or col + 1 >= len(scores["indptr"]):
                return []
            rows = scores["indices"][scores["indptr"][col] : scores["indptr"][col + 1]]
            releases = {self.index.chunks[int(r)].release_id for r in rows}
            found = releases if found is None else found & releases
            if not found:
                return []
        return sorted(found or ())

    def _in_release(self, term: str, release_id: str) -> bool:
        """Whether a release's passages contain a lexical term (BM25 postings, sorted rows;
        kept per term and release, as the key words of a case recur in its follow-ups)."""
        return self._term_in.remember((term, release_id), lambda: self._postings(term, release_id))

    def _postings(self, term: str, release_id: str) -> bool:
        import numpy as np

        col = self.index.bm25.vocab_dict.get(term)
        scores = self.index.bm25.scores
        if col is None or col + 1 >= len(scores["indptr"]):
            return False
        rows = scores["indices"][scores["indptr"][col] : scores["indptr"][col + 1]]
        chunks = self.index.release_chunks.get(release_id, [])
        at = np.searchsorted(rows, chunks)
        return bool(np.any((at < len(rows)) & (rows[np.minimum(at, len(rows) - 1)] == chunks)))

    def _key_terms(self, text: str, release_id: str) -> frozenset[str]:
        """The rarest words of the question (and of the question a follow-up leans on) that
        the best release contains: what the question is about, usually a name."""
        key: list[str] = []
        # rarest first; among equally rare words alphabetically, so that the choice does not
        # depend on the order a set of strings happens to have in this process
        for term in sorted(set(lexical_tokens([text])[0]), key=lambda t: (-self._weight(t), t)):
            # a number ("1,300 personnel") names no one: other cases have the same numbers
            if not term.isdigit() and self._in_release(term, release_id):
                key.append(term)
                if len(key) == KEY_TERMS:
                    break
        return frozenset(key)

    def _topical(self, candidates: Sequence[_Candidate], topic: _Topic) -> list[_Candidate]:
        """The candidates about the question's topic: those of the anchor release, and those of
        a release that contains one of the question's key words. Another case that merely has
        the same kind of answer ("was sentenced to 27 years") is not evidence."""
        anchor, key = topic
        if not key:
            return list(candidates)
        return _kept(
            candidates,
            lambda r: r.id == anchor or any(self._in_release(t, r.id) for t in key),
        )

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
        units = [lead] if lead else []
        j = first_bullet
        while j < len(blocks) and blocks[j].kind == "bullet" and j - first_bullet < MAX_LIST_ITEMS:
            units.append(Unit("bullet", blocks[j].start, blocks[j].end))
            j += 1
        terms = lexical_tokens([release.text[u.start : u.end] for u in units])
        return [
            _Candidate(release, u, cand.score, frozenset(t))
            for u, t in zip(units, terms, strict=True)
        ]

    def _render(
        self,
        question: str,
        groups: list[list[_Candidate]],
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
            question=question,
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


_FOUND = {name: found for name, _, found in ANSWER_TYPES}

# A question asking who: "who ...", or the role a person is asked about by, followed by what
# he did or where he is from ("Which Estonian accomplice of ...", "Which Cuban national was
# ..."), not by a noun it describes ("what member countries", "what executive order"); no
# verb before it ("What sentence did the defendant receive?" asks for a sentence)
PERSON_ASKED = re.compile(
    r"^\s*(?:who|whom)\b|^\s*(?:which|what)\s+"
    rf"(?:(?!{_AUXILIARY})[\w'-]+\s+){{0,3}}?"
    r"(?:man|woman|person|defendant|national|citizen|resident|official|officer|agent|trader|"
    r"executive|hacker|accomplice|leader|boss|founder|director|member|fugitive|suspect|"
    r"businessman|businesswoman|lawyer|banker|contractor|employee|operator|administrator)\s+"
    r"(?:was|is|were|are|has|had|have|did|does|who|whose|that|from|of|in|at|on|with|to|for|"
    r"behind|\w+ed)\b",
    re.I,
)
# a capitalised word of a name, Latin letters with accents included: "Núñez", "O'Brien",
# "McDonald", "Acosta-Hernandez"
_UP, _LO = "A-ZÀ-ÖØ-Þ", "a-zß-öø-ÿ"
NAME_WORD = rf"[{_UP}](?:['’][{_UP}])?[{_LO}]+(?:[{_UP}][{_LO}]+)?(?:-[{_UP}][{_LO}]+)?"
SURNAME = re.compile(rf"(?<![\w'’]){NAME_WORD}(?![\w'’])")
# how a release introduces someone: the full name, then an age, an alias or where from
# ("Hsien Tai Tsai, aka Alex Tsai, 67, of Taiwan"), within one sentence
INTRO = re.compile(
    rf"(?<![\w'’])(?P<name>(?:{NAME_WORD}[ \t]+|[{_UP}]\.[ \t]+){{1,3}})(?P<surname>{NAME_WORD})"
    rf",[ \t]+(?:\d{{2}}\b|aka\b|also known as\b|of[ \t]+[{_UP}]|"
    rf"a[ \t]+(?:[{_UP}]|citizen|national))"
)
# words before a name that make it an official's, not the person asked about
TITLE_WORDS = (
    "Judge Justice Attorney Agent Charge Director Secretary General Officer Commissioner "
    "Inspector Chief President Minister Ambassador Sheriff Prosecutor Senator Representative "
    "Governor Mayor Detective Sergeant Lieutenant Captain Colonel Deputy Administrator "
    "Commander Assistant Acting Special Magistrate"
)
TITLES = frozenset(TITLE_WORDS.split())


# "How many tonnes of cocaine were seized": what is counted, up to the verb or a preposition
HOW_MANY = re.compile(
    r"\bhow many\s+(?!(?:did|were|was|are|is|have|has|had|do|does|will|can|could|would|died|"
    r"remain\w*)\b)((?:[\w'-]+\s+){0,4}?[\w'-]+?)(?:'s?)?\s+"
    r"(?:did|were|was|have|has|had|are|is|do|does|will|can|could|would|of|from|in|at|on|for|by)\b",
    re.I,
)
NUMBER = re.compile(rf"\d[\d,.]*|{NUMBER_WORDS}|million|billion", re.I)
# people are counted under many names ("how many suspects" -> "1,200 individuals")
PEOPLE = (
    "people persons individuals men women children suspects defendants offenders fugitives "
    "victims members migrants officers"
)

# the whole figure, where the pattern that finds a kind of answer finds only part of it
_VALUE = {
    "money": re.compile(
        r"[$€£]\s?\d[\d,.]*(?:\s*(?:million|billion|thousand)\b)?|"
        r"\b\d[\d,.]*\s*(?:million|billion|dollars|euros)\b",
        re.I,
    )
}


def _value_pattern(name: str) -> re.Pattern[str]:
    found = _VALUE.get(name, _FOUND[name])
    assert isinstance(found, re.Pattern), name  # a series is no single value
    return found


def _values(cand: _Candidate, types: Sequence[str], prospective: bool) -> set[str]:
    """The answers of the asked kinds a unit gives ("$5.5 million", "March 13, 2010"). What
    someone faces or could get ("faces up to life") answers no question about what was."""
    text = cand.release.text[cand.unit.start : cand.unit.end]
    return {
        re.sub(r"[\s,$€£]", "", m.group().lower()).rstrip(".")
        for name in types
        for m in _value_pattern(name).finditer(text)
        if prospective or name not in PENALTIES or not _faced(text, m.start())
    }


def _holds(text: str, name: str, stated: bool) -> bool:
    """Whether a unit holds an answer of the kind ``name``; if ``stated``, one not in the
    scope of a penalty faced ("five years in prison", not "faces up to five years")."""
    found = _FOUND[name]
    if not stated or not isinstance(found, re.Pattern):
        return bool(found.search(text))
    return any(not _faced(text, m.start()) for m in found.finditer(text))


def _faced(text: str, at: int) -> bool:
    """Whether the figure at ``at`` is a penalty faced: "faces up to", "a maximum of", "could
    get" comes before it in its clause, and nothing there hands one down (in "will be
    sentenced to five years in prison, and could face a fine of up to $2.5 million" the fine
    is, the prison term is not; in "Petrov, who faced up to 20 years, was sentenced to 30
    months" and "sentenced to the statutory maximum of 20 years" neither is)."""
    clause = CLAUSE_BREAK.split(text[max(0, at - FACED_REACH) : at])[-1]
    return bool(FACED.search(clause)) and not HANDED_DOWN.search(clause)


def _uncounted(question: str, groups: Sequence[Sequence[_Candidate]]) -> str:
    """Say why the answer gives no count, if it gives none: a "how many X" question is
    answered only by a number of X ("3.2 tonnes of cocaine", "44 counterfeit payroll debit
    cards": a number with a word of X among the few words after it, or joined to one: "a
    21-count indictment"). People are counted under many names ("2,266 individuals" answers
    "how many people"), so they are not checked."""
    asked = HOW_MANY.search(question)
    if not groups or not asked:
        return ""
    focus = set(lexical_tokens([asked.group(1)])[0])
    if not focus or focus & _unit_terms(PEOPLE):
        return ""
    for group in groups:
        for c in group:
            words = re.findall(r"[\w'-]+", c.release.text[c.unit.start : c.unit.end])
            stems = [set(t) for t in lexical_tokens(words)]
            for i, word in enumerate(words):
                if NUMBER.fullmatch(word) and any(focus & t for t in stems[i + 1 : i + 6]):
                    return ""
                # a count written as a modifier of what is counted: "a 21-count indictment"
                # (not "a 20-year-old", nor "a one-time payment")
                number, _, counted = word.partition("-")
                if (
                    NUMBER.fullmatch(number)
                    and counted.isalpha()
                    and counted.lower() not in ("time", "off")
                    and focus & _unit_terms(counted)
                ):
                    return ""
    return f"None of the closest passages gives a number of {asked.group(1).strip()}."


def _disagrees(found: set[str], quoted: set[str]) -> bool:
    """Whether a unit gives answers and none of those already quoted: another figure, not the
    same one restated with more around it."""
    return bool(found) and not found & quoted


def _unit_terms(text: str) -> frozenset[str]:
    """A sentence's lexical terms."""
    return frozenset(lexical_tokens([text])[0])


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


def _newest(candidates: Sequence[_Candidate]) -> list[_Candidate]:
    """The candidates of the newest release among those whose best sentence scores within
    ``SELECT_MARGIN`` of the best: asked for the latest, an answer quotes one release, and not
    an older one whose sentence happens to say "most recently"."""
    if not candidates:
        return []
    floor = candidates[0].score - SELECT_MARGIN
    close = [c.release for c in candidates if c.score >= floor]
    newest = max(close, key=lambda r: r.date or "")  # the first of the newest on a tie
    return [c for c in candidates if c.release.id == newest.id]


def _kept(candidates: Sequence[_Candidate], keep: Callable[[Release], bool]) -> list[_Candidate]:
    """The candidates whose release passes ``keep``, asking once per release."""
    verdicts: dict[str, bool] = {}
    out = []
    for c in candidates:
        if c.release.id not in verdicts:
            verdicts[c.release.id] = keep(c.release)
        if verdicts[c.release.id]:
            out.append(c)
    return out


def _only_ahead(event: str, releases: Iterable[Release]) -> bool:
    """Whether the releases name ``event`` and only ever as still to come ("the X, to be held
    in Chile in March, will ..."; "the upcoming X")."""
    mentions = [
        (r.text[max(0, m.start() - 60) : m.start()], r.text[m.end() : m.end() + 60])
        for r in releases
        for m in re.finditer(rf"\b{re.escape(event)}\b", r.text, re.I)
    ]
    return bool(mentions) and all(
        AHEAD_AFTER.search(after) or AHEAD_BEFORE.search(before) for before, after in mentions
    )


def _reported(text: str, reports: re.Pattern[str]) -> bool:
    """Whether ``text`` reports an outcome as done: "was sentenced", not "to be sentenced"."""
    return any(
        not NOT_YET.search(re.split(r"[.;]", text[max(0, m.start() - 40) : m.start()])[-1])
        for m in reports.finditer(text)
    )


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
