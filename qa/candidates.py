"""A candidate sentence of an answer (a unit of a release with its evidence score and
features), the topic a question is about, and the memo the readers of sentences and releases
keep what they read in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from qa.chunking import Unit
from qa.corpus import Release
from qa.lexical import lexical_tokens

LIST_UNITS = ("lead", "bullet")  # a list's lead-in and items (bulleted, or after a ':' lead-in)
UNIT_CACHE = 50_000  # entries a memo keeps (a unit's terms and kinds: ~2 KB)

K = TypeVar("K")
V = TypeVar("V")


class Memo(dict[K, V]):
    """A memo that forgets everything once it holds ``limit`` entries."""

    def __init__(self, limit: int = UNIT_CACHE) -> None:
        super().__init__()
        self.limit = limit

    def remember(self, key: K, compute: Callable[[], V]) -> V:
        value = self.get(key)
        if value is None:
            if len(self) >= self.limit:
                self.clear()
            value = self[key] = compute()
        return value


Topic = tuple[str, frozenset[str]]  # the release a question is about, and its key words


@dataclass(slots=True)
class Candidate:
    """A unit of a release that may answer, with its evidence score and lexical terms."""

    release: Release
    unit: Unit
    score: float
    terms: frozenset[str]
    features: tuple[float, ...] = ()  # the evidence model's inputs (``evidence.FEATURES``)
    row: int = -1  # its embedding's row in the index (``Index.unit_vectors``), if scored

    @property
    def text(self) -> str:
        return self.release.text[self.unit.start : self.unit.end]


def kept(candidates: Sequence[Candidate], keep: Callable[[Release], bool]) -> list[Candidate]:
    """The candidates whose release passes ``keep``, asking once per release."""
    verdicts: dict[str, bool] = {}
    out = []
    for c in candidates:
        if c.release.id not in verdicts:
            verdicts[c.release.id] = keep(c.release)
        if verdicts[c.release.id]:
            out.append(c)
    return out


def unit_terms(text: str) -> frozenset[str]:
    """A sentence's lexical terms."""
    return frozenset(lexical_tokens([text])[0])
