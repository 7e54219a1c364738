"""A release (its text, the blocks that structure it, where and when it was issued) and
how its text is assembled from the pieces a file format gives: paragraphs, bullets, lists
written without bullets, headings, the dateline and the date."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date as Date
from typing import Any

MD_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
BULLET = re.compile(r"^\s*(?:[•·▪◦‣●*–-]|\d{1,2}[.)])\s+")
# "ABU DHABI, United Arab Emirates –" or "WASHINGTON —": a place before a dash at the start.
DATELINE = re.compile(
    r"^([A-Z][A-Z.'’ -]{1,40}[A-Z.](?:,\s*[A-Z][\w.'’ -]{1,40})*)\s*[–—-]{1,2}\s+"
)
# "WASHINGTON Kellogg Brown & Root ..." (DOJ bodies lost the dash on export).
DATELINE_BARE = re.compile(
    r"^([A-Z]{5,}(?: [A-Z]{2,})*(?:, [A-Z]{2,}(?: [A-Z]{2,})*)?) (?=[A-Z][a-z])"
)


@dataclass(frozen=True)
class Block:
    """A structural piece of a release's text: a paragraph, a bullet or a heading."""

    kind: str  # "paragraph" | "bullet" | "heading"
    start: int
    end: int


@dataclass(frozen=True)
class Release:
    """One press release, with its text and the blocks that structure it."""

    id: str
    title: str
    text: str
    blocks: tuple[Block, ...]
    date: str | None = None  # ISO YYYY-MM-DD
    url: str | None = None
    source: str | None = None
    place: str | None = None
    tags: tuple[str, ...] = ()
    origin: str = ""

    def block_text(self, block: Block) -> str:
        """Return the text of one block."""
        return self.text[block.start : block.end]


@dataclass(frozen=True)
class Problem:
    """A file (or one record in it) that could not be read, and why."""

    path: str
    reason: str


@dataclass
class LoadResult:
    """What loading a corpus gave: the releases, the problems, and how many files were read."""

    releases: list[Release] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0


class Unreadable(Exception):
    """A file, record or page that is skipped, with the reason to report."""


@dataclass(frozen=True)
class Limits:
    """How much one release and one file may hold; what is larger is skipped with the reason.

    They bound what reading a corpus holds at once: JSON Lines are read a line at a time, other
    files whole (after decompression, which stops at the limit).
    """

    release_chars: int = 1_000_000  # QA_MAX_RELEASE_CHARS
    file_bytes: int = 256 * 1024 * 1024  # QA_MAX_FILE_MB

    @property
    def line_bytes(self) -> int:
        """Longest JSON line read: a record of the longest release in UTF-8, with its fields."""
        return self.release_chars * 4 + 64 * 1024


DEFAULT_LIMITS = Limits()


# --- building text and blocks -------------------------------------------------------------


def _assemble(pieces: Iterable[tuple[str, str]]) -> tuple[str, tuple[Block, ...]]:
    """Join (kind, text) pieces into one text with blocks pointing into it."""
    parts: list[str] = []
    blocks: list[Block] = []
    pos = 0
    prev_kind = ""
    for kind, raw in pieces:
        content = " ".join(raw.split())
        if not content:
            continue
        if parts:
            sep = "\n" if kind == "bullet" and prev_kind == "bullet" else "\n\n"
            parts.append(sep)
            pos += len(sep)
        prefix = "• " if kind == "bullet" else ""
        parts.append(prefix + content)
        blocks.append(Block(kind, pos + len(prefix), pos + len(prefix) + len(content)))
        pos += len(prefix) + len(content)
        prev_kind = kind
    return "".join(parts), tuple(blocks)


def _is_heading(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= 10 and len(line) <= 80 and not re.search(r"[.!?:;,\"”’)]$", line)


def paragraph_pieces(
    body: str, headings: bool = True, markdown: bool = False
) -> list[tuple[str, str]]:
    """Split plain text into paragraph, bullet and heading pieces.

    Plain text guesses its headings; Markdown marks them with "#".
    """
    pieces: list[tuple[str, str]] = []
    for group in re.split(r"\n\s*\n", body):
        current: list[str] = []
        kind = "paragraph"
        for line in group.split("\n"):
            if not line.strip():
                continue
            if BULLET.match(line):
                if current:
                    pieces.append((kind, " ".join(current)))
                kind, current = "bullet", [BULLET.sub("", line, count=1)]
            else:
                current.append(line.strip())
        if current:
            pieces.append((kind, " ".join(current)))
    if markdown:
        pieces = [
            ("heading", m.group(1))
            if kind == "paragraph" and (m := MD_HEADING.match(text))
            else (kind, text)
            for kind, text in pieces
        ]
    elif headings:
        pieces = _mark_headings(pieces)
    return _mark_implicit_lists(pieces)


def _mark_implicit_lists(pieces: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Treat short paragraphs after a lead-in ending in ':' as a list (exports lose bullets)."""
    marked = list(pieces)
    for i, (kind, text) in enumerate(pieces):
        if kind != "paragraph" or not text.rstrip().endswith(":"):
            continue
        items: list[int] = []
        j = i + 1
        while j < len(pieces) and pieces[j][0] == "paragraph":
            if not _continues_list(pieces[j][1], [pieces[k][1] for k in items]):
                break
            items.append(j)
            j += 1
        if items and j < len(pieces) and _closes_list(pieces[j], [pieces[k][1] for k in items]):
            items.append(j)
        if len(items) >= 2:
            for j in items:
                marked[j] = ("bullet", pieces[j][1])
    return marked


def _continues_list(text: str, items: list[str]) -> bool:
    """Tell whether a paragraph reads as the next item of a list (not the prose after it)."""
    text = text.strip()
    sentences = len(re.findall(r"[.!?](?:\s|$)", text))
    if text.endswith(":"):
        return False
    if len(text) > 400 or sentences > 2:
        # A long item still continues a list built in parallel: "In Thailand, ...",
        # "In Brazil, ...", "In Kazakhstan, ..." (the same word, then a name).
        return bool(items) and len(text) <= 1000 and sentences <= 4 and _parallel(text, items)
    if not text.endswith((".", "!", "?")):
        return True  # items ending in ",", ";", "and" or nothing
    labelled = re.match(r"^[^.:]{2,60}:\s", text) is not None
    if not items:
        return True
    first = text.split()[0].lower()
    firsts = [item.split()[0].lower() for item in items]
    same_start = first in firsts or (
        first.endswith("ing") and all(f.endswith("ing") for f in firsts)
    )
    return same_start or (labelled and all(re.match(r"^[^.:]{2,60}:\s", i) for i in items))


def _parallel(text: str, items: list[str]) -> bool:
    """Whether a paragraph opens like every item before it: the same first word, then a
    capitalised one."""

    def opening(t: str) -> tuple[str, bool]:
        words = t.split()
        return words[0].lower(), len(words) > 1 and words[1][:1].isupper()

    first, named = opening(text)
    return named and all(opening(item) == (first, True) for item in items)


def _closes_list(piece: tuple[str, str], items: list[str]) -> bool:
    """Tell whether a one-sentence paragraph ending in '.' is the last of items ending in ';'."""
    kind, text = piece
    text = text.strip()
    return (
        kind == "paragraph"
        and all(re.search(r";(?:\s+(?:and|or))?$", item.strip()) for item in items)
        and text.endswith(".")
        and len(text) <= 400
        and len(re.findall(r"[.!?](?:\s|$)", text)) == 1
    )


def _mark_headings(pieces: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Call a short unpunctuated line a heading when body text follows it, not a table cell."""
    marked = list(pieces)
    for i, (kind, text) in enumerate(pieces):
        if kind != "paragraph" or not _is_heading(text) or i + 1 >= len(pieces):
            continue
        next_kind, next_text = pieces[i + 1]
        prev_short = i > 0 and pieces[i - 1][0] == "paragraph" and _is_heading(pieces[i - 1][1])
        if not prev_short and (next_kind == "bullet" or len(next_text) >= 80):
            marked[i] = ("heading", text)
    return marked


def _dateline(text: str) -> str | None:
    m = DATELINE.match(text) or DATELINE_BARE.match(text)
    return m.group(1).strip(" ,") if m else None


def iso_date_of(value: Any, where: str) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, Date):
        return value.isoformat()
    if not isinstance(value, str):
        raise Unreadable(f"{where}: date {value!r} is not a string")
    from dateutil import parser

    text = value.strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}", text):  # ISO: keep the date as written, ignore the zone
        text = text[:10]
    try:
        return parser.parse(text, dayfirst=False, fuzzy=False).date().isoformat()
    except (ValueError, OverflowError) as exc:
        raise Unreadable(f"{where}: cannot read date {value!r}") from exc


def iso_date(value: str | None) -> str | None:
    """Return a written date as ISO YYYY-MM-DD, or None when it is missing or unreadable."""
    try:
        return iso_date_of(value, "date")
    except Unreadable:
        return None


# Control characters that are no text (NUL and the like; tabs and newlines stay) and the bidi
# embeddings, overrides and isolates that reorder how text is shown ("account \u202egnp.exe"
# reads "account exe.png")
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def _printable(text: str) -> str:
    """Drop the characters of ``text`` that are not shown as text or reorder what is."""
    return _UNPRINTABLE.sub("", text)


def make_release(
    *,
    id: str,
    title: str,
    pieces: list[tuple[str, str]],
    origin: str,
    date: str | None = None,
    url: str | None = None,
    source: str | None = None,
    tags: Iterable[str] = (),
) -> Release:
    title = " ".join(_printable(title).split())
    text, blocks = _assemble([(kind, _printable(piece)) for kind, piece in pieces])
    if not title:
        raise Unreadable("no title")
    if not blocks:
        raise Unreadable("no body text")
    paragraphs = [text[b.start : b.end] for b in blocks if b.kind == "paragraph"][:2]
    place = next((p for p in map(_dateline, paragraphs) if p), None)
    clean_tags = tuple(dict.fromkeys(str(t).strip() for t in tags if str(t).strip()))
    return Release(
        id=id,
        title=title,
        text=text,
        blocks=blocks,
        date=date,
        url=url or None,
        source=source or None,
        place=place,
        tags=clean_tags,
        origin=origin,
    )
