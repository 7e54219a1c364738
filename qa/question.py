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
from qa.evidence import FUTURE
from qa.kinds import AUXILIARY, LIST_QUESTION, expected_types, listed
from qa.naming import CALENDAR, PLACE_BEFORE, name_words
from qa.withheld import Thing, asked_thing

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
    r"\b(?:face[sd]?|facing|could|would|might|maximum|potential|will|scheduled|"
    r"(?:due|set|expected|slated) to be)\b",
    re.I,
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
    capitalised words, a run of them one name (ended by a modifier: "Nevada-based
    Pentagon" is two); the question's first word, question words, months and days left
    out."""
    return _names_in(_FIRST_WORD.sub(" ", question, count=1))


def _names_in(text: str) -> list[str]:
    """The names in ``text`` as ``question_names`` reads them, its first word kept."""
    names = []
    for m in NAME.finditer(text):
        for run in _MODIFIER.split(m.group()):
            words = [
                w
                for w in re.split(r"[\s/-]+", run)
                if len(w) > 1
                and w[0].isupper()
                and w.lower().rstrip(".") not in _STOP_NAMES | CALENDAR
            ]
            if words:
                names.append(" ".join(words))
    return list(dict.fromkeys(names))


# the lower-case tail of a name made a modifier ("a Nevada-based Pentagon contractor", "the
# U.S.-led coalition"): the name ends there, and what follows is another
_MODIFIER = re.compile(r"-[a-z][\w'’-]*")
# two names asked about together: "A and B", "A of Charlotte and B of Bedford, Virginia", "A
# and schoolteacher B" (a place after the first, up to three lower-case words before the second)
TOGETHER = re.compile(
    rf"({NAME.pattern})(?:,?\s+of\s+[A-Z][\w.]*(?:\s+[A-Z][\w.]*)?)?(?:,\s+[A-Z][\w.]*"
    rf"(?:\s+[A-Z][\w.]*)?,?)?\s+(?:and|or)\s+(?:(?!and\b|or\b)[a-z][\w-]*\s+){{0,3}}"
    rf"({NAME.pattern})"
)


def together(question: str) -> tuple[str, ...]:
    """The names a question asks about together ("What did Itochu Corporation and Point Blank
    Solutions each pay?"), if one of them has several words and the first is not given as a
    place ("in Saudi Arabia and ..."): each may be told of in sentences, or releases, of its
    own."""
    body = _FIRST_WORD.sub(" ", question, count=1)
    for m in TOGETHER.finditer(body):
        pair = tuple(name for side in m.groups() for name in _names_in(side)[:1])
        if (
            len(pair) == 2
            and pair[0] != pair[1]
            and any(len(name.split()) > 1 for name in pair)
            and not PLACE_BEFORE.search(body[: m.start()])
        ):
            return pair
    return ()


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
    listed: str  # the plural a list question asks for ("domains"; ``kinds.listed``)
    person: bool  # asks for a person (``PERSON_ASKED``)
    who: bool  # asks who, a person or a company (the evidence model's "person" feature)
    prospective: bool  # asks what someone faces or what is to come (``PROSPECTIVE``)
    past: bool  # asks what happened, and not what is to come
    names: tuple[str, ...]  # the names it gives (``question_names``)
    together: tuple[str, ...]  # two names it asks about together (``together``)
    name_words: frozenset[str]
    # for a follow-up, the words of the names the answer it follows opens with
    subject: frozenset[str]
    years: tuple[str, ...]
    outcomes: tuple[tuple[str, re.Pattern[str]], ...]  # court outcomes asked about as done
    title_events: tuple[re.Pattern[str], ...]  # what a release's title announcing it says
    event: str  # a named event asked about as past ("the INTERPOL Americas Regional Conference")
    counted: str  # what "how many" asks a number of
    thing: Thing | None  # what it asks the name of ("the name of the company ...")
    refers_back: bool  # it speaks of someone or something named before ("he", "the company")
    parts: tuple[Question, ...]  # the questions a compound question is made of

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
        return whole
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
        listed=listed(text),
        person=bool(PERSON_ASKED.search(text)),
        who=asks_person(text),
        prospective=prospective,
        past=bool(PAST.search(text) and not FUTURE.search(text)),
        names=tuple(names),
        together=together(text),
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
        thing=asked_thing(text),
        refers_back=bool(ANAPHORA.search(text)),
        parts=(),
    )
