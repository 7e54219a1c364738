"""What happened and what is still to come: court outcomes and named events as a question asks
about them and as a release reports or announces them. A question about a sentence handed down
is not answered by the penalty a release says someone faces, nor one about what happened at an
event by a release that announces it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from qa.chunking import split_sentences

if TYPE_CHECKING:
    from qa.corpus import Release

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
# "What was seized during the INTERPOL Americas Regional Conference?", "What did the INTERPOL
# Americas conference adopt?", "What came out of INTERPOL's Americas Regional Conference?" (a
# possessive for "the"): a named event asked about as past, which a release announcing it ("to
# be held in Chile in March") cannot answer
_EVENTS = (
    r"Conference|Summit|Meeting|Forum|Assembly|Congress|Symposium|Games|Olympics|"
    r"Championships?|Cup|Convention|Ceremony"
)
EVENT = re.compile(
    r"\b(?i:was|were|did|had|came)\b.*(?:\bthe|\b[A-Z][\w-]*['’]s)\s+("
    rf"(?:[A-Z][\w'-]*\s+){{1,6}}(?i:{_EVENTS})|(?:{_EVENTS})"
    r")\b"
)
# right after the event's name ("…, to be held in Chile") or right before it ("the upcoming …")
AHEAD_AFTER = re.compile(
    r"^\W*(?:\w+\W+){0,3}?(?:to be held|will|shall|is scheduled|is set|is to)\b", re.I
)
AHEAD_BEFORE = re.compile(r"\b(?:upcoming|forthcoming|next)\W+(?:\w+\W+){0,2}$", re.I)


def only_ahead(event: str, releases: Iterable[Release]) -> bool:
    """Whether the releases name ``event`` and only ever as still to come ("the X, to be held
    in Chile in March, will ..."; "the upcoming X"). Its name may be written in full there:
    "the INTERPOL Americas conference" is "the INTERPOL Americas Regional Conference"."""
    name = re.compile(
        r"\b" + r"\W+(?:[\w'-]+\s+){0,2}?".join(map(re.escape, event.split())) + r"\b", re.I
    )
    mentions = [
        (r.text[max(0, m.start() - 60) : m.start()], r.text[m.end() : m.end() + 60])
        for r in releases
        for m in name.finditer(r.text)
    ]
    return bool(mentions) and all(
        AHEAD_AFTER.search(after) or AHEAD_BEFORE.search(before) for before, after in mentions
    )


def reported(text: str, reports: re.Pattern[str], of: Callable[[str], bool] | None = None) -> bool:
    """Whether ``text`` reports an outcome as done: "was sentenced", not "to be sentenced";
    with ``of`` (whether a passage names whom the question asks about), done to them: in the
    release's opening (its first ``OPENING`` sentences), which tells what happened to whom it
    is about ("A senior paramilitary leader ... was sentenced today"), or in a sentence that
    names them or opens with a pronoun after one that does. "Marsh pleaded guilty and was
    sentenced to probation" further down reports no sentence of Chen, his co-conspirator."""
    sentences: list[tuple[int, int]] | None = None
    for m in reports.finditer(text):
        if NOT_YET.search(re.split(r"[.;]", text[max(0, m.start() - 40) : m.start()])[-1]):
            continue
        if of is None:
            return True
        if sentences is None:
            sentences = split_sentences(text)
        at = next((n for n, (_, end) in enumerate(sentences) if m.start() < end), -1)
        if at < 0:
            continue
        if at < OPENING:
            return True
        sentence = text[slice(*sentences[at])]
        before = text[slice(*sentences[at - 1])] if at > 0 else ""
        if of(sentence) or (PRONOUN.match(sentence) and of(before)):
            return True
    return False


OPENING = 2  # a release's opening, in sentences: what happened to whom it is about
PRONOUN = re.compile(r"\s*(?:he|she|they)\b", re.I)
