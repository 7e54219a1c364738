"""A corpus read twice for a build: surveyed first, then streamed a release at a time.

The survey reads every file once and keeps only what a build must know before it writes
anything: each release's hash (to tell an unchanged corpus, and what changed), the problems,
which files are readable as a whole and which of their releases are duplicates. Then
``Survey.releases`` reads the readable files again and yields the releases to index, so that
the build holds one batch of releases at a time, not the corpus.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qa import store
from qa.corpus import (
    DEFAULT_LIMITS,
    Limits,
    Problem,
    Release,
    Unreadable,
    corpus_files,
    duplicate,
    file_releases,
)
from qa.errors import BuildFailed


@dataclass(frozen=True)
class Shard:
    """Shard ``number`` of ``count`` (from 1): the releases whose id hashes to it.

    The id's hash, not its position, decides, so a release stays in its shard as the corpus
    grows and every host finds the same split.
    """

    number: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard | None:
        """Read ``K/N`` (empty: no sharding); raise ``ValueError`` saying what is wrong."""
        if not text:
            return None
        number, slash, count = text.partition("/")
        if not (slash and number.isdigit() and count.isdigit()):
            raise ValueError(f"shard {text!r}: write it K/N, e.g. 2/4 for the second of four")
        shard = cls(int(number), int(count))
        if not 1 <= shard.number <= shard.count:
            raise ValueError(f"shard {text!r}: K must be from 1 to N")
        return shard

    def holds(self, release_id: str) -> bool:
        """Whether the release with this id belongs to this shard."""
        digest = hashlib.sha256(release_id.encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.number - 1


@dataclass
class Survey:
    """What reading a corpus once found, without keeping its releases."""

    files: int = 0  # files read, readable or not
    problems: list[Problem] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)  # id -> release hash, in corpus order
    # each readable file, the folder its ids are relative to, and which releases it gives (in
    # the order read) are indexed: not those whose id came earlier
    readable: list[tuple[Path, Path, list[bool]]] = field(default_factory=list)
    limits: Limits = DEFAULT_LIMITS

    def releases(self) -> Iterator[Release]:
        """Read the readable files again and yield the releases to index, in corpus order.

        Raises ``BuildFailed`` when a file no longer gives what the survey read (it changed
        while the build ran): a build indexes one state of the corpus or none.
        """
        for path, base, indexed in self.readable:
            read = 0
            try:
                for release in file_releases(path, base, [], limits=self.limits):
                    if read >= len(indexed):
                        raise _changed(path)
                    if indexed[read]:
                        if self.hashes.get(release.id) != store.release_hash(release):
                            raise _changed(path)
                        yield release
                    read += 1
            except Unreadable:
                raise _changed(path) from None
            if read != len(indexed):
                raise _changed(path)


def survey_corpus(
    paths: Iterable[str | Path], limits: Limits = DEFAULT_LIMITS, shard: Shard | None = None
) -> Survey:
    """Read every release file under ``paths`` once, keeping hashes and problems only.

    The problems and the releases indexed are those of ``load_releases``: a file unreadable
    as a whole gives none, a release whose id came earlier is skipped. With ``shard``, only
    the releases it holds are indexed (the others are left out without a word).
    """
    files, missing = corpus_files(paths)
    survey = Survey(files=len(files), problems=list(missing), limits=limits)
    first: dict[str, str] = {}  # release id -> where it was first read
    for path, base in files:
        found: list[tuple[str, str, str]] = []  # id, where read, hash: not the release
        problems: list[Problem] = []
        try:
            for release in file_releases(path, base, problems, limits=limits):
                found.append((release.id, release.origin, store.release_hash(release)))
        except Unreadable as exc:
            survey.problems.extend(problems)
            survey.problems.append(Problem(str(path), str(exc)))
            continue
        survey.problems.extend(problems)
        indexed = []
        for release_id, origin, digest in found:
            if shard is not None and not shard.holds(release_id):
                indexed.append(False)
                continue
            if release_id in first:
                survey.problems.append(duplicate(release_id, origin, first[release_id]))
                indexed.append(False)
                continue
            first[release_id] = origin
            survey.hashes[release_id] = digest
            indexed.append(True)
        survey.readable.append((path, base, indexed))
    return survey


def _changed(path: Path) -> BuildFailed:
    return BuildFailed(
        f"{path} changed while the index was being built; the live index is unchanged: run "
        "`qa rebuild-index` again once the corpus is settled"
    )
