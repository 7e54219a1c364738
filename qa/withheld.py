"""Names a release withholds: asked "What is the name of the Minnesota company whose modules
...?", the releases may say only "a Minnesota-based company". Quoting that sentence answers
nothing the question asks, so the answer says the releases do not name it.

A question asks for the name of a thing (``asked_thing``): "the name of the <thing> ...", or
"Which/What <thing> did ...?" (which asks for a name only if the fitted reader of the kinds of
answer says so). A text withholds its name (``unnamed``) when it speaks of the thing only as
"a ..." or "an ..." and never names it: no name set beside it ("AW-Tronics, a Miami export
company"; "an attorney in Kentucky, Eric Conn"), none it is called ("a company called FE
Electronic"), none right after the word ("the fishing vessel Lady Samaira"), none said to be
one ("Shortridge worked as an environmental inspector"). This is English grammar, not an
agency's vocabulary."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_VERB = r"(?:did|was|were|is|are|had|has|have|do|does|will|would|could|can|might)"
# the words that end the phrase naming the thing a question asks the name of: a relative or a
# preposition ("the individual in Italy who"), a participle ("the joint venture formed by",
# "the restaurant run by"), an adverb ("the detainee originally from"), a name or the
# question's end
_AFTER_THING = (
    r"(?=\s*(?:[,?]|$)|\s+(?:who|whom|whose|that|which|where|from|in|at|on|with|by|to|for|"
    r"of|behind|he|she|they|it|[A-Z][\w'’.-]*|[a-z]+ed|[a-z]+ing|[a-z]+ly|[a-z]+\s+by)\b)"
)
NAME_OF = re.compile(
    r"(?:\b[Nn]ame of|^\s*[Nn]ame)\s+(?:the|a|an|this|that|his|her|its|their)\s+"
    rf"(?:[\w.'’-]+\s+){{0,4}}?(?P<thing>[a-z][a-z-]+){_AFTER_THING}"
)
# the words between the article and the thing, none of which ends the phrase
_MODIFIERS = (
    r"(?:(?!(?:that|which|who|of|in|on|at|by|for|to|and|or|the|with|from|as)\b)[\w.'’-]+\s+){0,3}?"
)
# "Which U.S. company's web server did ...?" asks which company
WHICH = re.compile(
    rf"^\s*(?:[Ww]hich|[Ww]hat)\s+{_MODIFIERS}(?P<thing>[a-z][a-z-]+)"
    rf"(?:['’]s\s+(?:[\w-]+\s+){{0,2}}?[a-z]+)?\s+{_VERB}\b"
)

# an indefinite phrase ends at the thing: after it comes punctuation, a relative, a
# preposition, a verb or a participle, not another noun ("a campaign staffer" is a staffer)
_ENDS = (
    r"(?=\s*(?:[,.;:()\[\]\"“”]|$)|\s+(?:in|of|that|who|whom|which|whose|from|at|with|to|for|on|"
    r"by|and|or|was|is|were|are|had|has|have|near|under|[a-z]+ed|[a-z]+ing)\b)"
)
# how far before and after the word a naming of it reaches, in characters: a name, an age,
# "which is", the article and three modifiers before; a place and a clause of 60 after
_BEFORE, _AFTER = 240, 120
# a name: a capitalised word (or one in brackets: "(ATMS)"), not a number
_NAME = r"(?:[A-Z][\w&.'’-]*|\([A-Z][\w&.'’-]*\))"


@dataclass(frozen=True)
class Thing:
    """What a question asks the name of (``word``), and whether it says "the name of"
    (``named``) or only "which" (the reader of the kinds of answer decides if a name is asked)."""

    word: str
    named: bool


def asked_thing(question: str) -> Thing | None:
    """Return the thing a question asks the name of, if it asks for one by its kind."""
    if m := NAME_OF.search(question):
        return Thing(m.group("thing"), True)
    if m := WHICH.match(question):
        return Thing(m.group("thing"), False)
    return None


def _indefinite(word: str) -> str:
    plural = "es" if word.endswith(("s", "x", "ch", "sh")) else "s"
    return (
        rf"\b(?:[Aa]n?|[Aa]nother|[Uu]nnamed|[Uu]nidentified)\s+{_MODIFIERS}"
        rf"{re.escape(word)}(?:{plural})?\b{_ENDS}"
    )


def _named(word: str) -> re.Pattern[str]:
    phrase = _indefinite(word)
    return re.compile(
        # a name set before the phrase (an age between: "Mevlid Jasarevic, 23, a citizen of
        # Serbia"), or said to be one: "AW-Tronics, a Miami export company",
        # "Qods Force, which is a special operations unit", "Shortridge worked as an inspector"
        rf"{_NAME}(?:,\s+\d+)?,?\s+(?:(?:which|who)\s+(?:is|was)\s+|(?:\w+\s+){{0,2}}?(?:as|is|was|became)\s+)?"
        rf"{phrase}"
        # a name after it, the phrase's place or a clause between: "a company called FE
        # Electronic", "an attorney in Kentucky, Eric Christopher Conn"
        rf"|{phrase},?\s+(?:called|named|known as|doing business as|d/b/a|under the name)\b"
        rf"|{phrase}[^,.;()]{{0,60}}?(?:,\s+|\s*\()[A-Z]"
        # a name right after the word: "the fishing vessel Lady Samaira"
        rf"|\b{re.escape(word)}\s+[A-Z][\w&'’-]*"
    )


def unnamed(thing: str, texts: Iterable[str], names: Iterable[str] = ()) -> str:
    """Return how ``texts`` speak of ``thing`` ("a Minnesota-based company") if they speak
    of it only without naming it, else "". ``names`` are texts any one of which naming it is
    enough (the rest of their releases)."""
    texts = list(texts)
    indefinite = re.compile(_indefinite(thing))
    found = next((m.group() for t in texts if (m := indefinite.search(t))), "")
    if not found:
        return ""
    named, word = _named(thing), re.compile(rf"\b{re.escape(thing)}")
    for text in [*texts, *names]:
        # every way of naming it holds the word: look only around each time a text says it
        for m in word.finditer(text):
            if named.search(text, max(0, m.start() - _BEFORE), m.end() + _AFTER):
                return ""
    return found


def reason(thing: str, texts: Iterable[str], names: Iterable[str] = ()) -> str:
    """Say that ``texts`` do not name ``thing`` (``unnamed``), or return ""."""
    phrase = unnamed(thing, texts, names)
    return (
        f"The closest releases do not name the {thing}: they say only “{phrase}”." if phrase else ""
    )
