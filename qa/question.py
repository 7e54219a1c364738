"""A question read once: the parts of a compound question, the kind of answer each asks for,
the names, years and events it gives, the words it borrows from the turns before. Everything
downstream (the evidence features, selection, the checks before an answer) reads a `Question`,
not the text again."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from qa.chat import ANAPHORA
from qa.events import EVENT, OUTCOMES, TITLE_EVENTS
from qa.evidence import CALENDAR, FUTURE, name_words
from qa.kinds import AUXILIARY, LIST_QUESTION, expected_types

YEAR = re.compile(r"\b(?:19|20)\d\d\b")
PAST = re.compile(r"\b(?:was|were|did|had|happened)\b", re.I)

WH = (
    r"(?:(?:in|from|to|at|for|by|on|with|against)\s+)?"
    r"(?:how|what|which|where|when|who|whom|whose|why)\b"
)
COMPOUND = re.compile(rf"(?:,\s*and|;|,)\s+(?={WH})", re.I)
AUX = r"(?:is|are|was|were|did|does|do|has|have|had|can|could|will)\b"
ASKS = re.compile(rf"^\s*(?:{WH}|{AUX})", re.I)
SETTING = re.compile(
    r"^\s*(?:in|for|regarding|about|concerning|as for|on|during|after|before|according to|"
    r"besides|apart from|aside from|other than|beyond|following|unlike|among)\b",
    re.I,
)
# "when" or "where" not followed by the verb a question puts first ("When was he arrested?")
# opens a clause, not a question: "When Ryan Lin was arrested in October 2017, how many counts
# ...?", "the scheme at American Therapeutic Corporation, where Drs. Willner and Ayala worked"
CLAUSE = re.compile(rf"^\s*(?:when|where)\s+(?!{AUX})", re.I)


# The words of a question that say what kind of thing it asks about, not which: "What happened
# on Wednesday?" asks about Wednesday, "Where was the conference held?" about the conference.
# No sentence is about "happened"; counted as terms they make the one that has the word win.
FRAME = re.compile(
    r"\b(?:happen(?:s|ed|ing)?|occur(?:s|red|ring)?|t(?:ake|akes|ook|aking|aken) place)\b", re.I
)
HELD = re.compile(r"\bheld\b", re.I)


def content(question: str, kinds: Sequence[str] | None = None) -> str:
    """Return a question without the words of its frame (``FRAME``; "held" too when it asks
    where or when): the words a sentence that answers it shares with it. ``kinds``: the kinds
    of answer it asks for, if they are read already."""
    if kinds is None:
        kinds = [name for name, _ in expected_types(question)]
    text = FRAME.sub(" ", question)
    if any(name in ("place", "date", "day") for name in kinds):
        text = HELD.sub(" ", text)
    return text


def question_parts(question: str) -> list[str]:
    """Split a compound question ("How much ..., and how long ...?") into its sub-questions."""
    pieces = [p.strip(" ,;") for p in COMPOUND.split(question) if p.strip(" ,;")]
    parts: list[str] = []
    for piece in pieces:
        if parts and CLAUSE.match(piece):
            parts[-1] = f"{parts[-1]}, {piece}"  # a clause of the part before it
        else:
            parts.append(piece)
    if len(parts) > 1 and (
        (not ASKS.match(parts[0]) and SETTING.match(parts[0])) or CLAUSE.match(parts[0])
    ):
        # "In the Haiti Teleco case, how much ..., and from which country ...?": the opening
        # phrase is no question of its own but the setting of each one (their context).
        parts = parts[1:]
    return parts if len(parts) > 1 and all(len(p.split()) >= 3 for p in parts) else [question]


# A question about what someone faces, could get or might receive asks for the penalty.
# "When will he be sentenced?", "when is sentencing scheduled?" ask about what is to come too.
PROSPECTIVE = re.compile(
    r"\b(?:face[sd]?|facing|could|would|might|maximum|potential|will|scheduled)\b", re.I
)
# A question asking who: "who ...", or the role a person is asked about by, followed by what
# he did or where he is from ("Which Estonian accomplice of ...", "Which Cuban national was
# ..."), not by a noun it describes ("what member countries", "what executive order"); no
# verb before it ("What sentence did the defendant receive?" asks for a sentence)
PERSON_ASKED = re.compile(
    r"^\s*(?:who|whom)\b|^\s*(?:which|what)\s+"
    rf"(?:(?!{AUXILIARY})[\w'-]+\s+){{0,3}}?"
    r"(?:man|woman|person|defendant|national|citizen|resident|official|officer|agent|trader|"
    r"executive|hacker|accomplice|leader|boss|founder|director|member|fugitive|suspect|"
    r"businessman|businesswoman|lawyer|banker|contractor|employee|operator|administrator)\s+"
    r"(?:was|is|were|are|has|had|have|did|does|who|whose|that|from|of|in|at|on|with|to|for|"
    r"behind|\w+ed)\b",
    re.I,
)
# "How many tonnes of cocaine were seized": what is counted, up to the verb or a preposition
HOW_MANY = re.compile(
    r"\bhow many\s+(?!(?:did|were|was|are|is|have|has|had|do|does|will|can|could|would|died|"
    r"remain\w*)\b)((?:[\w'-]+\s+){0,4}?[\w'-]+?)(?:'s?)?\s+"
    r"(?:did|were|was|have|has|had|are|is|do|does|will|can|could|would|of|from|in|at|on|for|by)\b",
    re.I,
)
# people are counted under many names ("how many suspects" -> "1,200 individuals")
PEOPLE = (
    "people persons individuals men women children suspects defendants offenders fugitives "
    "victims members migrants officers"
)

# A name as the question gives it: capitalised words (with initials, "&", "of", "de"
# inside), not the question's first word.
NAME = re.compile(
    r"(?<![\w.])(?:[A-Z][\w'’.-]*|&)(?:\s+(?:(?:of|de|del|la|bin|al|van|von|der)\s+)?"
    r"(?:[A-Z][\w'’.-]*|&))*"
)
_FIRST_WORD = re.compile(r"^\W*\w+")
WHO = re.compile(r"^\s*(?:(?:and|so)\s+)?(?:who|whom|whose)\b|\bwhich\s+\w+\s+(?:was|were)\b", re.I)
_STOP_NAMES = frozenset(
    re.findall(
        r"\w+",
        "i what which who whom whose when where why how is are was were did does do has have "
        "had can could will would the a an and or in on at of for to list name "
        # titles before a name, which a release may leave out ("Drs. Mark Willner")
        "dr drs mr mrs ms messrs prof",
    )
)


def question_names(question: str) -> list[str]:
    """Return the names a question gives ("Kellogg Brown Root", "Abu Dhabi"): its
    capitalised words, a run of them one name; the question's first word, question
    words, months and days left out."""
    body = _FIRST_WORD.sub(" ", question, count=1)
    names = [_name(m.group()) for m in NAME.finditer(body)]
    return list(dict.fromkeys(n for n in names if n))


def _name(run: str) -> str:
    """The name a run of capitalised words gives: its words of two letters or more that are
    capitalised and no question word, month or day."""
    words = [
        w
        for w in re.split(r"[\s/-]+", run)
        if len(w) > 1 and w[0].isupper() and w.lower().rstrip(".") not in _STOP_NAMES | CALENDAR
    ]
    return " ".join(words)


# How names asked about together are joined: "A and B", "A, B and C", each but the first
# after its own description ("... and ISIL-linked hacker Ardit Ferizi").
DESCRIBED = re.compile(r"\s+(?:[\w'’.-]+\s+){0,4}")
JOINT = re.compile(r"(?P<joint>,\s+and\s+|,\s+|\s+and\s+)(?P<described>(?:[\w'’.-]+\s+){0,4})")
# the words a name's description does not reach back over: "did Dreamboard member Brian
# Maweu" is described as "Dreamboard member", "of Peter Romar" as nothing
BOUNDARY = re.compile(
    rf"(?:{WH}|{AUX}|of|for|by|to|from|in|on|at|with|against|between|among|the|a|an|and|or|"
    r"both|that|its|their|his|her|\w+ing|\w+ed)$",
    re.I,
)
# a plural right before the first name describes them all ("Florida dealers Kyle Novitsky and
# Judith Aloe")
SHARED = re.compile(r"(?-i:[a-z][\w-]*[^s]s)$")


def coordination(question: str) -> tuple[list[str], list[str]]:
    """The question asked of each of several people or things it names in one clause, each
    in two words or more and joined by "and" ("What sentences did Dreamboard member Brian
    Maweu and Thomas Lenti receive?" asks "What sentences did Dreamboard member Brian Maweu
    receive?" and "What sentences did Thomas Lenti receive?"), and those names; none if it
    names no such pair. Whether one release tells of them together, so that the question is
    one after all, only the releases say (``Composer``)."""
    first = _FIRST_WORD.match(question)
    runs = [
        m
        for m in NAME.finditer(question, first.end() if first else 0)
        if len(_name(m.group()).split()) >= 2
    ]
    for i in range(len(runs) - 1):
        chain, described, joined = [runs[i]], [""], False
        for run in runs[i + 1 :]:
            gap = JOINT.fullmatch(question, chain[-1].end(), run.start())
            if gap is None or any(BOUNDARY.match(w) for w in gap["described"].split()):
                break
            chain.append(run)
            described.append(gap["described"])
            if "and" in gap["joint"]:
                joined = True
                break
        if not joined:
            continue
        # the name after "and" may be the second of its description's: "and former Toyoda
        # Gosei executive Makoto Horie"
        for run in runs[runs.index(chain[-1]) + 1 :]:
            more = DESCRIBED.fullmatch(question, chain[-1].end(), run.start())
            if more is None or any(BOUNDARY.match(w) for w in more.group().split()):
                break
            described[-1] += question[chain[-1].start() : run.start()]
            chain[-1] = run
        start = _described_from(question, chain[0].start())
        end = chain[-1].end()
        own = [question[start : chain[0].end()]] + [
            question[run.start() - len(d) : run.end()]
            for run, d in zip(chain[1:], described[1:], strict=True)
        ]
        rest = re.sub(r"^\s+each\b", "", question[end:])
        return [question[:start] + o + rest for o in own], [_name(r.group()) for r in chain]
    return [], []


def _described_from(question: str, start: int) -> int:
    """Where the description of the name at ``start`` begins: back over capitalised words
    and up to two others, to a ``BOUNDARY`` word, a plural or a word ending in a comma ("did former
    Bridgestone executive Yusuke Shimasaki"); none if a plural right before it describes the
    names after it too ("did Florida dealers Kyle Novitsky and Judith Aloe")."""
    words = list(re.finditer(r"\S+", question[:start]))
    if words and SHARED.search(words[-1].group()):
        return start
    lower = 0
    for word in reversed(words):
        text = word.group()
        lower += not text[0].isupper()
        if lower > 2 or BOUNDARY.match(text) or SHARED.search(text) or text.endswith(","):
            break
        start = word.start()
    return start


# the opening of an answer a follow-up follows that names its subject: up to its first citation
# or the end of its first sentence
ANSWER_OPENING = re.compile(r"^[^\[]*?(?:\.(?=\s|$)|(?=\[)|$)", re.S)


def subject_words(answer: str) -> frozenset[str]:
    """The words of the names an answer opens with ("Rolls-Royce plc.", "Marubeni entered a
    plea of guilty ..."): what a follow-up of it ("How much did it pay?") is about."""
    opening = ANSWER_OPENING.match(answer.strip())
    text = opening.group() if opening else ""
    names = []
    for m in NAME.finditer(text):
        words = [
            w
            for w in re.split(r"[\s/]+", m.group())
            if len(w) > 1 and w.lower() not in _STOP_NAMES | CALENDAR
        ]
        if words:
            names.append(" ".join(words))
    return name_words(names)


def asks_person(question: str) -> bool:
    """Whether a question asks who: a person or a company is its answer."""
    return bool(WHO.search(question))


@dataclass(frozen=True)
class Question:
    """A question as answers read it. ``context`` holds the words it borrows (the question a
    follow-up follows); a part of a compound question also knows the ``whole`` question and
    the ``setting`` it is asked in (the opening phrase and the other parts)."""

    text: str
    context: str
    whole: str  # the compound question a part belongs to; the text itself otherwise
    setting: str  # for a part: the rest of the whole question, whose words it borrows
    content: str  # the text without the words of its frame (``content``)
    kinds: tuple[str, ...]  # the kinds of answer it asks for (``kinds.expected_types``)
    values: tuple[str, ...]  # of those, the ones a single figure gives (not a series)
    wants_list: bool
    person: bool  # asks for a person (``PERSON_ASKED``)
    who: bool  # asks who, a person or a company (the evidence model's "person" feature)
    prospective: bool  # asks what someone faces or what is to come (``PROSPECTIVE``)
    past: bool  # asks what happened, and not what is to come
    names: tuple[str, ...]  # the names it gives (``question_names``)
    name_words: frozenset[str]
    # for a follow-up, the words of the names the answer it follows opens with
    subject: frozenset[str]
    years: tuple[str, ...]
    outcomes: tuple[tuple[str, re.Pattern[str]], ...]  # court outcomes asked about as done
    title_events: tuple[re.Pattern[str], ...]  # what a release's title announcing it says
    event: str  # a named event asked about as past ("the INTERPOL Americas Regional Conference")
    counted: str  # what "how many" asks a number of
    refers_back: bool  # it speaks of someone or something named before ("he", "the company")
    parts: tuple[Question, ...]  # the questions a compound question is made of
    # asked of several names at once ("What sentences did A and B receive?"), the question
    # asked of each (``coordination``), and the names
    conjuncts: tuple[Question, ...] = ()
    coordinated: tuple[str, ...] = ()

    @property
    def borrowed(self) -> str:
        """The words it borrows: the earlier question's, and for a part its setting's."""
        return f"{self.context} {self.setting}" if self.setting else self.context

    @property
    def wants_list_anywhere(self) -> bool:
        """Whether it, or one of its parts, asks for a list."""
        return self.wants_list or any(p.wants_list for p in self.parts)


def read(text: str, context: str = "", answered: str = "") -> Question:
    """Read a question (made standalone: ``context`` is what a follow-up borrows, ``answered``
    the answer it follows) and the parts of a compound one, each in the setting of the
    others."""
    parts = question_parts(text)
    subject = subject_words(answered) if answered else frozenset()
    whole = _read(text, context, text, "", subject)
    if len(parts) < 2:
        asked, names = coordination(text)
        return replace(
            whole,
            conjuncts=tuple(_read(a, context, text, "", subject) for a in asked),
            coordinated=tuple(names),
        )
    read_parts = [_read(p, context, text, text.replace(p, " "), subject) for p in parts]
    # a year of the setting ("In the 2009 case of ..., how much ..., and where ...?") holds
    # for every part; one a part gives ("the account she opened in 2006") for that part only
    own = {y for part in read_parts for y in part.years}
    shared = tuple(y for y in whole.years if y not in own)
    return replace(
        whole,
        parts=tuple(replace(part, years=part.years + shared) for part in read_parts),
    )


def _read(text: str, context: str, whole: str, setting: str, subject: frozenset[str]) -> Question:
    types = expected_types(text)
    prospective = bool(PROSPECTIVE.search(text))
    names = question_names(text)
    event = EVENT.search(text)
    counted = HOW_MANY.search(text)
    return Question(
        text=text,
        context=context,
        whole=whole,
        setting=setting,
        content=content(text, [name for name, _ in types]),
        kinds=tuple(name for name, _ in types),
        values=tuple(name for name, found in types if isinstance(found, re.Pattern)),
        wants_list=bool(LIST_QUESTION.search(text)),
        person=bool(PERSON_ASKED.search(text)),
        who=asks_person(text),
        prospective=prospective,
        past=bool(PAST.search(text) and not FUTURE.search(text)),
        names=tuple(names),
        name_words=name_words(names),
        subject=subject,
        years=tuple(dict.fromkeys(YEAR.findall(text))),
        outcomes=()
        if prospective
        else tuple((name, reports) for name, asks, reports in OUTCOMES if asks.search(text)),
        title_events=()
        if prospective
        else tuple(title for asks, title in TITLE_EVENTS if asks.search(text)),
        event=event.group(1) if event and not prospective else "",
        counted=counted.group(1) if counted else "",
        refers_back=bool(ANAPHORA.search(text)),
        parts=(),
    )
