"""Read the dates a question implies ("in 2016", "since March 2014", "latest") as filters."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace

from qa.retrieval import Filters

MONTH_NAMES = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTH_NAMES.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
MONTH = r"(?:" + "|".join(sorted(MONTH_NAMES, key=len, reverse=True)) + r")\.?"
PERIOD = rf"(?:(?P<month>{MONTH})\s+)?(?P<year>(?:19|20)\d\d)"
RANGE = re.compile(
    r"\bbetween\s+(?P<a>(?:19|20)\d\d)\s+and\s+(?P<b>(?:19|20)\d\d)\b", re.IGNORECASE
)
SINCE = re.compile(rf"\b(?P<word>since|after|from)\s+{PERIOD}\b", re.IGNORECASE)
BEFORE = re.compile(rf"\b(?P<word>before|until|till|prior to|up to)\s+{PERIOD}\b", re.IGNORECASE)
# "By March 2015, how much had been recovered?", "as of 2016": the state of things then, which
# the latest release up to then reports; not a target to be met ("will ... by 2030")
# (the period ends a clause: "paid by 2015 standards" is no date)
AS_OF = re.compile(
    rf"\b(?P<word>by|as of)\s+(?:the end of\s+)?{PERIOD}(?=\s*(?:[,;:.?!]|$))", re.IGNORECASE
)
AHEAD = re.compile(
    r"\b(?:will|would|should|must|plans?|aims?|goals?|targets?|deadline|pledged?|promised?|"
    r"committed|expected|intends?)\b",
    re.I,
)
DURING = re.compile(rf"\b(?:in|during|throughout)\s+{PERIOD}\b", re.IGNORECASE)
ANY_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
RECENT = re.compile(r"\b(?:latest|most recent(?:ly)?|newest|last (?:time|release))\b", re.I)
# a follow-up asking for the other end ("And the earliest?") does not inherit "the latest"
EARLIEST = re.compile(r"\b(?:first|earliest|oldest|previous|initial|original)\b", re.I)


@dataclass(frozen=True)
class DateReading:
    """What a question said about time: date filters and whether it wants the newest release."""

    filters: Filters
    recent: bool = False
    phrase: str = ""  # the words that were read, e.g. "since March 2014"
    # "since", "before", "between" scope the releases; "in 2011" may be when the events
    # happened, reported later, so it only ranks releases of that period first.
    strict: bool = True


def read_dates(question: str, context: str = "") -> DateReading:
    """Return the date filters and recency preference a question expresses.

    Only one unambiguous expression is read: a question naming several years ("in July 2016
    and in June 2017") is about several periods and gets no filter. A follow-up (``context``
    is the question it follows) that names no date asks for the latest if that question
    said so ("Which cartel did he lead?" after "What is the latest extradition from
    Mexico?"), unless it asks for the other end ("And the earliest?"). The period that
    question names is not carried over: "charged in 2013" says when the charges came, not
    when "what sentence did he get?" was reported (dev MRR@10 0.978 -> 0.973 carrying it);
    nor is the latest of "By March 2016, ...?", which would come without its period.
    """
    reading = _reading(question)
    if context and not (reading.phrase or reading.recent) and not EARLIEST.search(question):
        said = recency_phrase(context)  # the words, for the reply
        return replace(reading, recent=True, phrase=said) if said else reading
    return reading


def _reading(question: str) -> DateReading:
    said = recency_phrase(question)
    recent = bool(said)
    if len(ANY_YEAR.findall(question)) > (2 if RANGE.search(question) else 1):
        return DateReading(Filters(), recent)
    if m := RANGE.search(question):
        first, last = sorted((m["a"], m["b"]))  # "between 2019 and 2015" means the same years
        return DateReading(
            Filters(date_from=f"{first}-01-01", date_to=f"{last}-12-31"), recent, m.group(0)
        )
    if m := SINCE.search(question):
        start, end = _period(m)
        first = start if m["word"].lower() in ("since", "from") else _next_day(end)
        return DateReading(Filters(date_from=first), recent, m.group(0))
    if m := BEFORE.search(question):
        start, end = _period(m)
        last = _previous_day(start) if m["word"].lower() != "until" else end
        return DateReading(Filters(date_to=last), recent, m.group(0))
    if (m := AS_OF.search(question)) and not AHEAD.search(question):
        return DateReading(Filters(date_to=_period(m)[1]), True, m.group(0))
    if m := DURING.search(question):
        start, end = _period(m)
        return DateReading(Filters(date_from=start, date_to=end), recent, m.group(0), strict=False)
    return DateReading(Filters(), recent, said)


def recency_phrase(question: str) -> str:
    """The words of ``question`` that ask for the latest ("most recent"), or ""."""
    m = RECENT.search(question)
    return m.group(0) if m else ""


def without_when(question: str, phrase: str = "") -> str:
    """The question without the words that ask for the latest ("What is the latest news
    about X?" -> "What is the news about X?") and without ``phrase``, the words of a date
    filter already applied ("By March 2015, how much ...?" -> "how much ...?"): they say
    when, not what, and searched for as words they find releases that say "most recently"
    or "2015" about something else. The question itself if no word would be left."""
    text = question.replace(phrase, " ") if phrase else question
    text = re.sub(r"\s{2,}", " ", RECENT.sub(" ", text)).strip()
    text = re.sub(r"\s+([?.!,;:])", r"\1", text)
    text = re.sub(r"([,;:])[,;:]+", r"\1", text)  # "case,, how" -> "case, how"
    text = re.sub(r"[,;:]+([?.!])", r"\1", text)  # "case,?" -> "case?"
    text = re.sub(r"^[,;:]\s*", "", text)
    return text if re.search(r"\w", text) else question


def merge(user: Filters, read: Filters) -> Filters:
    """Combine the filters a user set with those read from the question (the user's win)."""
    return replace(
        read,
        date_from=user.date_from or read.date_from,
        date_to=user.date_to or read.date_to,
        source=user.source or read.source,
    )


def _period(m: re.Match[str]) -> tuple[str, str]:
    year = int(m["year"])
    if m["month"]:
        month = MONTH_NAMES[m["month"].rstrip(".").lower()]
        last = calendar.monthrange(year, month)[1]
        return f"{year}-{month:02d}-01", f"{year}-{month:02d}-{last:02d}"
    return f"{year}-01-01", f"{year}-12-31"


def _next_day(iso: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(iso) + timedelta(days=1)).isoformat()


def _previous_day(iso: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(iso) - timedelta(days=1)).isoformat()
