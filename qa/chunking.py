"""Split a release into retrieval chunks: sentence-aware, list-preserving, sized in model tokens."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.corpus import Release

TokenCounter = Callable[[Sequence[str]], list[int]]
SPECIAL_TOKENS = 2  # [CLS] and [SEP]


@dataclass(frozen=True)
class Unit:
    """The smallest quotable piece of a release: a sentence, a bullet or a heading."""

    kind: str  # "sentence" | "lead" (a sentence introducing a list) | "bullet" | "heading"
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A window of consecutive units of one release, with offsets into the release text."""

    id: str
    release_id: str
    ordinal: int
    start: int
    end: int
    text: str
    units: tuple[Unit, ...]
    tokens: int


@dataclass(frozen=True)
class ChunkingParams:
    """What determines the chunks; recorded in the index manifest."""

    max_tokens: int = 200
    overlap: int = 1
    context: str = "title"


RUN_ON = re.compile(r"(?<=[a-z]{2})[.!?][\"”’)]?(?=[A-Z][a-z]{2,})")


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Return (start, end) spans of the sentences in ``text``, shifted by ``offset``."""
    import blingfire

    if not text.strip():
        return []
    _, spans = blingfire.text_to_sentences_and_offsets(text)
    out = []
    for start, end in spans:
        # Exports often lose the space after a full stop ("...lands!Ferizi admitted"): split
        # there too, after a lower-case word and before a capitalised one (not "U.S.Attorney").
        cuts = [m.end() for m in RUN_ON.finditer(text, start, end)]
        for s, e in zip([start, *cuts], [*cuts, end], strict=True):
            if text[s:e].strip():
                out.append((offset + s, offset + e))
    return out


def release_units(release: Release) -> list[Unit]:
    """Split a release into units; the last sentence before a bullet list is its lead-in."""
    units: list[Unit] = []
    for i, block in enumerate(release.blocks):
        if block.kind == "paragraph":
            spans = split_sentences(release.block_text(block), block.start)
            before_list = i + 1 < len(release.blocks) and release.blocks[i + 1].kind == "bullet"
            for j, (s, e) in enumerate(spans):
                lead = before_list and j == len(spans) - 1
                units.append(Unit("lead" if lead else "sentence", s, e))
        else:
            units.append(Unit(block.kind, block.start, block.end))
    return units


def chunk_context(release: Release, params: ChunkingParams) -> str:
    """Return what the encoder sees before each chunk of a release: its title (and date)."""
    if params.context == "title":
        return release.title
    if params.context == "title+date":
        return f"{release.title} ({release.date})" if release.date else release.title
    return ""


def embed_text(context: str, text: str) -> str:
    """Return the text the encoder sees for a chunk: the release context, then the text."""
    return f"{context}\n{text}" if context else text


def context_length(context: str) -> int:
    """Return how many characters of context ``embed_text`` puts before the chunk text."""
    return len(context) + 1 if context else 0


def chunk_release(release: Release, count: TokenCounter, params: ChunkingParams) -> list[Chunk]:
    """Cut one release into chunks of at most ``params.max_tokens`` tokens, title included."""
    units = release_units(release)
    if not units:
        return []
    context = chunk_context(release, params)
    title_tokens = count([context])[0] if context else 0
    budget = max(32, params.max_tokens - SPECIAL_TOKENS - title_tokens)
    sizes = count([release.text[u.start : u.end] for u in units])
    pieces: list[tuple[Unit, int]] = []
    for unit, size in zip(units, sizes, strict=True):
        pieces.extend(_split_long(release.text, unit, size, budget, count))
    atoms = _atoms(pieces, budget)
    windows = _windows(atoms, budget, params.overlap)
    # The unit sizes estimate a window; the exact count of its embedded text decides, since
    # joins and list markers add tokens. An oversized window is halved until it fits.
    fitted: list[tuple[list[tuple[Unit, int]], int]] = []
    while windows:
        window = windows.pop(0)
        text = release.text[window[0][0].start : window[-1][0].end]
        size = count([embed_text(context, text)])[0] + SPECIAL_TOKENS
        if size > params.max_tokens and len(window) > 1:
            half = len(window) // 2
            windows[:0] = [window[:half], window[half:]]
            continue
        fitted.append((window, size))
    chunks = []
    for n, (window, size) in enumerate(fitted):
        start, end = window[0][0].start, window[-1][0].end
        chunks.append(
            Chunk(
                id=f"{release.id}#{n}",
                release_id=release.id,
                ordinal=n,
                start=start,
                end=end,
                text=release.text[start:end],
                units=tuple(u for u, _ in window),
                tokens=size,
            )
        )
    return chunks


def chunk_hash(model: str, params: ChunkingParams, text: str) -> str:
    """Key an embedding by model, chunking parameters and the exact text embedded."""
    key = f"{model}\x00{params.max_tokens}\x00{params.context}\x00{text}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _split_long(
    text: str, unit: Unit, size: int, budget: int, count: TokenCounter
) -> list[tuple[Unit, int]]:
    """Cut a unit longer than the budget at word boundaries (tables, run-on lines)."""
    if size <= budget:
        return [(unit, size)]
    words = [
        (m.start() + unit.start, m.end() + unit.start)
        for m in re.finditer(r"\S+", text[unit.start : unit.end])
    ]
    word_sizes = count([text[s:e] for s, e in words])
    out: list[tuple[Unit, int]] = []
    first, total = 0, 0
    for i, ws in enumerate(word_sizes):
        if total + ws > budget and i > first:
            out.append((Unit(unit.kind, words[first][0], words[i - 1][1]), total))
            first, total = i, 0
        total += ws
    out.append((Unit(unit.kind, words[first][0], words[-1][1]), min(total, budget)))
    return out


def _atoms(pieces: list[tuple[Unit, int]], budget: int) -> list[list[tuple[Unit, int]]]:
    """Group units that must stay together: a lead-in with its bullets, a heading with the next."""
    atoms: list[list[tuple[Unit, int]]] = []
    i = 0
    while i < len(pieces):
        group = [pieces[i]]
        kind = pieces[i][0].kind
        i += 1
        if kind == "lead":
            while i < len(pieces) and pieces[i][0].kind == "bullet":
                if sum(t for _, t in group) + pieces[i][1] > budget:
                    atoms.append(group)
                    group = []
                group.append(pieces[i])
                i += 1
        atoms.append(group)
    return atoms


def _windows(
    atoms: list[list[tuple[Unit, int]]], budget: int, overlap: int
) -> list[list[tuple[Unit, int]]]:
    windows: list[list[tuple[Unit, int]]] = []
    current: list[tuple[Unit, int]] = []
    fresh = 0  # units in ``current`` not carried over from the previous window
    for atom in atoms:
        size = sum(t for _, t in atom)
        if current and fresh and sum(t for _, t in current) + size > budget:
            carry = _carry(current, overlap)
            # A heading belongs with what follows it, not at the end of a window.
            while len(current) > 1 and current[-1][0].kind == "heading":
                carry = [current.pop()]
            windows.append(current)
            current = carry if sum(t for _, t in carry) + size <= budget else []
            fresh = 0
        current = current + atom
        fresh += len(atom)
    if current and fresh:
        windows.append(current)
    return windows


def _carry(window: list[tuple[Unit, int]], overlap: int) -> list[tuple[Unit, int]]:
    if overlap <= 0 or len(window) <= overlap:
        return []
    tail = window[-overlap:]
    return tail if all(u.kind == "sentence" for u, _ in tail) else []
