"""What an answer adds once its sentences are chosen: a release naming each of two names
asked about (however far below the best it scores), the sentence that names the person asked
about and the sentence that introduces him by full name (each only if it scores close to the
best)."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence

from qa import naming
from qa.candidates import Candidate
from qa.corpus import Release
from qa.naming import name_words
from qa.question import Question

KIND_MARGIN = 0.15  # how far below the best sentence one giving a second kind of answer may be

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


def close_to_best(
    candidates: Sequence[Candidate],
    used: Collection[tuple[str, int]],
    test: Callable[[Candidate], bool],
) -> Candidate | None:
    """The best of ``candidates`` (best first) that scores within ``KIND_MARGIN`` of the best,
    is not ``used`` (by release and start) and passes ``test``: what the checks after the
    selection add (a second kind of answer, a count, a sentence naming the person)."""
    floor = candidates[0].score - KIND_MARGIN
    return next(
        (
            c
            for c in candidates
            if c.score >= floor and (c.release.id, c.unit.start) not in used and test(c)
        ),
        None,
    )


def names_asked(q: Question) -> list[str]:
    """The names of several words a question gives (names of one word are often places):
    asked about two or more, an answer quotes a release naming each (``missing_names``)."""
    return [n for n in q.names if len(n.split()) > 1]


def missing_names(
    q: Question,
    groups: list[list[Candidate]],
    candidates: Sequence[Candidate],
    limit: int,
    release_words: Callable[[Release], naming.Words],
) -> list[list[Candidate]]:
    """Asked about two named people or things at once ("the businesses of Ronald Scriven and
    Jayvon Copeland"), and answered from releases none of which names one of them: the best
    sentence of a release that does, for each such name (names of one word, often places,
    aside). However far below the best it scores: the other case is often told in other words
    (see docs/decisions.md). A full answer (``limit`` groups: a sentence, or a list with its
    lead-in) makes room by giving up its last group of a release an earlier group quotes too,
    never a release's only one; a second kind of answer, which the selection adds last from a
    release already quoted, is the one given up if there is one."""
    names = names_asked(q)
    if len(names) < 2 or not groups:
        return groups
    quoted = {c.release.id: c.release for g in groups for c in g}

    def named(name: str, release: Release) -> bool:
        return naming.share_of(name_words([name]), release_words(release)) == 1.0

    out = list(groups)
    for name in names:
        if any(named(name, r) for r in quoted.values()):
            continue
        extra = next((c for c in candidates if named(name, c.release)), None)
        if extra is None:
            continue
        if len(out) >= limit:
            shorter = _without_a_repeat(out)
            if not shorter:
                break
            out = shorter
        out.append([extra])
        quoted[extra.release.id] = extra.release
    return out


def _without_a_repeat(groups: list[list[Candidate]]) -> list[list[Candidate]]:
    """``groups`` without the last one whose release an earlier one quotes as well, or none
    if each quotes a release of its own."""
    for n in range(len(groups) - 1, 0, -1):
        release = groups[n][0].release.id
        if any(c.release.id == release for g in groups[:n] for c in g):
            return groups[:n] + groups[n + 1 :]
    return []


def name_person(
    q: Question, groups: list[list[Candidate]], candidates: Sequence[Candidate], limit: int
) -> list[list[Candidate]]:
    """Asked who, and answered with sentences that name no one ("A retired officer ... was
    sentenced", "The MOU was signed today"): the best sentence of the first quoted release
    that names a person (``naming.names_person``) follows the first, if it scores within
    ``KIND_MARGIN`` of the best; if the answer is full (``limit``), it takes the last one's
    place."""
    if not groups or not q.person:
        return groups
    if any(naming.names_person(c.text) for g in groups for c in g):
        return groups
    release = groups[0][0].release.id
    person = close_to_best(
        candidates,
        {(c.release.id, c.unit.start) for g in groups for c in g},
        lambda c: c.release.id == release and naming.names_person(c.text),
    )
    if person is None:
        return groups
    kept = groups if len(groups) < limit else groups[:-1]
    return [kept[0], [person], *kept[1:]]


def introduce(
    q: Question, groups: list[list[Candidate]], candidates: Sequence[Candidate], limit: int
) -> list[list[Candidate]]:
    """Asked who, and answered with sentences that name him by surname alone ("Tsai was
    associated with ..."): the sentence of the same release that introduces him by his
    full name ("Hsien Tai Tsai, aka Alex Tsai, 67, of Taiwan, ...") comes first. The
    person is the first one the quoted sentences name by surname whose introduction
    the release has, officials aside ("Judge Roe"); if the answer is full (``limit``), a
    later sentence of the same release makes room, never another release's."""
    if not groups or not q.person:
        return groups
    release = groups[0][0].release
    used = {(c.release.id, c.unit.start) for g in groups for c in g}
    quoted = " ".join(c.text for g in groups for c in g if c.release.id == release.id)
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
        if intro is None or (release.id, intro.unit.start) in used or intro.unit.kind == "bullet":
            return groups
        if len(groups) < limit:
            return [[intro], *groups]
        # full: the last group from the same release makes room, never another release's
        last = max((n for n, g in enumerate(groups) if g[0].release.id == release.id), default=0)
        if last == 0:
            return groups
        return [[intro], *groups[:last], *groups[last + 1 :]]
    return groups
