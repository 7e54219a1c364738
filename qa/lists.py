"""Lists in releases: the whole of a bulleted list a sentence belongs to, and a list written
inline (names, or short phrases, one after another)."""

from __future__ import annotations

import re

from qa.candidates import Candidate
from qa.chunking import Unit, split_sentences
from qa.completion import TITLES
from qa.lexical import lexical_tokens

MAX_LIST_ITEMS = 15
# a list written inline: names, or short phrases, one after another ("the Janet R, Amanda
# Laurnen, Miss Lill, Crab Daddy and Conch Emperor"; "one bus, eight trucks, 19 generators,
# five trailers and several other items")
_CAPITAL = r"[A-Z][\w'’&.-]*"
_JOINER = r"of|de|&|for|and\s+(?=[A-Z][a-z]+\b(?!,))"  # "Our Lady of Fatima Church and School"
ITEM = re.compile(rf"(?:the\s+)?{_CAPITAL}(?:\s+(?:{_JOINER})?\s*(?:{_CAPITAL}|\d\b))*")
SEPARATOR = re.compile(r"[,;]?\s+(?:and|or)\s+|[,;]\s+|:\s*")
# what follows a name and is no item of its own: "Inc.", "LLC", "Jr.", a state ("Calif.",
# "N.J."), an age
NOT_ITEM = re.compile(
    r"^(?:Inc|LLC|L\.L\.C|Ltd|Corp|Co|Jr|Sr|II|III|IV|P\.?C|LLP|L\.P|N\.A|S\.A|[A-Z]\.[A-Z]|"
    r"[A-Z]{2})\.?$|^[A-Z][a-z]{1,4}\.$|^\d+$"
)


def whole_list(cand: Candidate) -> list[Candidate]:
    """Return the lead-in and every bullet of the list ``cand`` belongs to."""
    release = cand.release
    units = list_units(cand)
    terms = lexical_tokens([release.text[u.start : u.end] for u in units])
    return [
        Candidate(release, u, cand.score, frozenset(t)) for u, t in zip(units, terms, strict=True)
    ]


def list_units(cand: Candidate) -> list[Unit]:
    """The units of the list ``cand`` belongs to, its lead-in (if it has one) first: where
    ``whole_list`` reads them from, and what names a list without reading every item."""
    release = cand.release
    blocks = release.blocks
    idx = next((i for i, b in enumerate(blocks) if b.start <= cand.unit.start < b.end + 1), None)
    if idx is None:
        return [cand.unit]
    if blocks[idx].kind == "paragraph":  # the lead-in: the list follows it
        first_bullet = idx + 1
        lead = cand.unit
    else:
        first_bullet = idx
        while first_bullet > 0 and blocks[first_bullet - 1].kind == "bullet":
            first_bullet -= 1
        lead = None
        if first_bullet > 0 and blocks[first_bullet - 1].kind == "paragraph":
            para = blocks[first_bullet - 1]
            spans = split_sentences(release.block_text(para), para.start)
            if spans:
                lead = Unit("lead", *spans[-1])
    units = [lead] if lead else []
    j = first_bullet
    while j < len(blocks) and blocks[j].kind == "bullet" and j - first_bullet < MAX_LIST_ITEMS:
        units.append(Unit("bullet", blocks[j].start, blocks[j].end))
        j += 1
    return units


def inline_list(text: str, known: frozenset[str] = frozenset()) -> bool:
    """Whether a sentence lists items inline: four or more short phrases in a series, or three
    or more names one after another, not the question's own (``known``, its names' words) and
    not officials ("Judge Roe"). Both read the sentence's pieces between commas once: a
    regular expression for a series backtracks quadratically on long comma-laden sentences."""
    return _phrases_in_a_row(text) or names_in_a_row(text, known)


def series_after(text: str, stems: frozenset[str]) -> bool:
    """Whether three or more short phrases in a series follow, within three words, a word of
    ``stems`` (the plural a question asks for: "the three seized domain names applanet.net,
    appbucket.net and snappzmarket.com"); a series further on ("two members for their roles
    in murders, attempted murders and robberies") lists something else."""
    words = list(_TOKEN.finditer(text))
    for m, stemmed in zip(words, lexical_tokens([w.group() for w in words]), strict=True):
        if stems.intersection(stemmed):
            rest = text[m.end() :]
            near = "," in rest and len(rest.split(",", 1)[0].split()) <= 3
            if near and _phrases_in_a_row(rest, 3):
                return True
    return False


_TOKEN = re.compile(r"[\w'’-]+")


# a word of a phrase in a series, dots only inside it ("applanet.net"): no "Colo.", no "(Model"
_PLAIN = re.compile(r"[\w'’$-]+(?:\.[\w'’$-]+)*")


def _phrases_in_a_row(text: str, least: int = 4) -> bool:
    """``least`` (at least three) or more phrases of at most three words in a series, the
    last after "and"/"or" ("one bus, eight trucks, 19 generators, five trailers and several
    other items"); the first may end a longer piece ("... admitted to stealing one bus")."""
    for clause in re.split(r"[;:]", text):
        run = 0  # phrases in a row so far
        for piece in clause.split(", "):
            words = piece.split()
            if not words:
                run = 0
                continue
            joined = next((n for n, w in enumerate(words[:4]) if w in ("and", "or")), None)
            plain = all(_PLAIN.fullmatch(w) for w in words[: joined or 3])
            # "..., and several other items" after three, or "..., five trailers and several"
            # after two
            if plain and (
                (joined == 0 and run >= least - 1 and len(words) > 1)
                or (joined and run >= least - 2)
            ):
                return True
            short = len(words) <= 3 and joined is None and plain
            run = run + 1 if short and run else 1
    return False


def names_in_a_row(text: str, known: frozenset[str] = frozenset()) -> bool:
    """Three or more names one after another, joined by commas, semicolons, "and" or "or"
    ("the Janet R, Amanda Laurnen, Miss Lill, Crab Daddy and Conch Emperor"); the first may
    end a longer piece, the last begin one; "Inc.", a state ("Calif."), an age in between
    are no names of their own; officials and the question's own names do not count."""

    own = known | {"the"}

    def counts(name: str) -> int:
        words = name.split()
        return int(
            not TITLES.intersection(words) and not {w.lower().strip(".,") for w in words} <= own
        )

    def tail(piece: str) -> str:
        words = piece.split()
        for n in range(min(len(words), 8), 0, -1):
            if ITEM.fullmatch(end := " ".join(words[-n:])):
                return end
        return ""

    run = 0  # names in a row so far
    for piece in SEPARATOR.split(text):
        piece = piece.strip()
        if NOT_ITEM.match(piece):
            continue
        if ITEM.fullmatch(piece):
            run += counts(piece)
        else:
            head = ITEM.match(piece)
            if run and head:
                run += counts(head.group())
            if run >= 3:
                return True
            last = tail(piece)
            run = counts(last) if last else 0
        if run >= 3:
            return True
    return False
