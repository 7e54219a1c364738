"""Turn release files into ``Release`` objects; every unreadable file is reported, never fatal.

The release and how its text is assembled are ``qa.release``'s; each format's reader is in
``qa.formats`` (HTML pages in ``qa.pages``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from qa.formats import (
    csv_releases,
    json_line_releases,
    json_releases,
    markdown_release,
    read_text,
    text_release,
)
from qa.pages import html_release, url_id
from qa.release import (
    DEFAULT_LIMITS,
    Block,
    Limits,
    LoadResult,
    Problem,
    Release,
    Unreadable,
    iso_date,
)

# what the rest of the package takes from here: the release, loading, and a format's readers
__all__ = [
    "DEFAULT_LIMITS",
    "SUPPORTED",
    "Block",
    "Limits",
    "LoadResult",
    "Problem",
    "Release",
    "Unreadable",
    "corpus_files",
    "duplicate",
    "file_releases",
    "html_release",
    "iso_date",
    "load_releases",
    "merge_files",
    "read_file",
    "url_id",
]


TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
CSV_SUFFIXES = {".csv"}
SUPPORTED = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | CSV_SUFFIXES
IGNORED_NAMES = {"readme.md", "readme.txt", "license", "license.txt", "license.md"}


def load_releases(paths: Iterable[str | Path], limits: Limits = DEFAULT_LIMITS) -> LoadResult:
    """Load every supported release file under ``paths`` (folders are walked recursively)."""
    files, missing = corpus_files(paths)
    return merge_files([read_file(path, base, limits=limits) for path, base in files], missing)


def corpus_files(paths: Iterable[str | Path]) -> tuple[list[tuple[Path, Path]], list[Problem]]:
    """List the release files under ``paths``, each with the folder its id is relative to.

    Also returns a problem for each path that does not exist.
    """
    files: list[tuple[Path, Path]] = []
    missing: list[Problem] = []
    for root in paths:
        root = Path(root)
        if not root.exists():
            missing.append(Problem(str(root), "no such file or folder"))
            continue
        files.extend(_files(root))
    return files, missing


def read_file(
    path: Path, base: Path, raw: bytes | None = None, limits: Limits = DEFAULT_LIMITS
) -> LoadResult:
    """Read the releases of one file (from ``raw``, its bytes, when given), with its problems."""
    result = LoadResult(files=1)
    try:
        result.releases.extend(file_releases(path, base, result.problems, raw, limits))
    except Unreadable as exc:
        result.releases = []
        result.problems.append(Problem(str(path), str(exc)))
    return result


def file_releases(
    path: Path,
    base: Path,
    problems: list[Problem],
    raw: bytes | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[Release]:
    """Yield the releases of one file as they are read, reporting what is skipped in
    ``problems``; raises ``Unreadable`` when the file as a whole cannot be read."""
    kind = _format_suffix(path)
    path_id = _path_id(path, base)
    origin = str(path)
    releases: Iterable[Release]
    if kind in (".jsonl", ".ndjson"):
        releases = json_line_releases(path, raw, limits, path_id, problems)
    else:
        text = read_text(path, raw, limits)
        if kind in JSON_SUFFIXES:
            releases = json_releases(text, path_id, origin, kind, problems)
        elif kind in CSV_SUFFIXES:
            releases = csv_releases(text, path_id, origin, problems)
        elif kind in MARKDOWN_SUFFIXES:
            releases = [markdown_release(text, path_id, origin)]
        elif kind in HTML_SUFFIXES:
            releases = [html_release(text, origin, id=path_id)]
        else:
            releases = [text_release(text, path_id, origin)]
    for release in releases:
        if len(release.text) > limits.release_chars:
            problems.append(
                Problem(
                    f"{release.origin} ({release.id})",
                    f"{len(release.text):,} characters, more than the "
                    f"{limits.release_chars:,} a release may have (QA_MAX_RELEASE_CHARS); "
                    "skipped",
                )
            )
            continue
        yield release


def merge_files(results: Iterable[LoadResult], problems: Iterable[Problem] = ()) -> LoadResult:
    """Join what files gave, in order; a release whose id came earlier is reported and skipped."""
    merged = LoadResult(problems=list(problems))
    seen: dict[str, str] = {}
    for result in results:
        merged.files += result.files
        merged.problems.extend(result.problems)
        for release in result.releases:
            if release.id in seen:
                merged.problems.append(duplicate(release.id, release.origin, seen[release.id]))
                continue
            seen[release.id] = release.origin
            merged.releases.append(release)
    return merged


def duplicate(release_id: str, origin: str, first: str) -> Problem:
    """The problem of a release read from ``origin`` whose id an earlier release (read from
    ``first``) has."""
    return Problem(origin, f"duplicate release id {release_id!r} (first seen in {first}); skipped")


def _files(root: Path) -> Iterator[tuple[Path, Path]]:
    if root.is_file():
        yield root, root.parent
        return
    for path in sorted(root.rglob("*")):
        if not path.is_file() or any(p.startswith(".") for p in path.relative_to(root).parts):
            continue
        if path.name.lower() in IGNORED_NAMES:
            continue
        if _format_suffix(path) in SUPPORTED:
            yield path, root


def _format_suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _path_id(path: Path, base: Path) -> str:
    rel = path.relative_to(base).as_posix()
    name = rel
    for _ in range(2):  # strip ".jsonl.gz", ".txt"
        stem, dot, suffix = name.rpartition(".")
        if dot and "." + suffix.lower() in SUPPORTED | {".gz"}:
            name = stem
    return name
