"""Turn release files into ``Release`` objects; every unreadable file is reported, never fatal."""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date as Date
from pathlib import Path
from typing import IO, Any

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
CSV_SUFFIXES = {".csv"}
SUPPORTED = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | CSV_SUFFIXES
# A CSV export keeps a whole release body in one cell; the csv module's default limit is 128 KiB.
CSV_FIELD_LIMIT = 16 * 1024 * 1024
IGNORED_NAMES = {"readme.md", "readme.txt", "license", "license.txt", "license.md"}

MD_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
MD_ESCAPE = re.compile(r"\\([\\`*_\[\]()#+\-.!•·▪◦‣●–])")
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
# A JSON Lines file whose first this many lines are all unreadable is not read further.
MAX_LINE_PROBLEMS = 100


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
        releases = _json_line_releases(path, raw, limits, path_id, problems)
    else:
        text = _read_text(path, raw, limits)
        if kind in JSON_SUFFIXES:
            releases = _json_releases(text, path_id, origin, kind, problems)
        elif kind in CSV_SUFFIXES:
            releases = _csv_releases(text, path_id, origin, problems)
        elif kind in MARKDOWN_SUFFIXES:
            releases = [_markdown_release(text, path_id, origin)]
        elif kind in HTML_SUFFIXES:
            releases = [html_release(text, origin, id=path_id)]
        else:
            releases = [_text_release(text, path_id, origin)]
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


@contextlib.contextmanager
def _open(path: Path, raw: bytes | None) -> Iterator[IO[bytes]]:
    """The file's bytes as a stream, decompressed as they are read when it is gzipped."""
    with io.BytesIO(raw) if raw is not None else open(path, "rb") as fh:
        if path.suffix.lower() == ".gz":
            with gzip.GzipFile(fileobj=fh) as unzipped:
                yield unzipped  # type: ignore[misc]
        else:
            yield fh


# What reading a damaged file (or gzip stream) raises.
READ_ERRORS = (OSError, EOFError, gzip.BadGzipFile, zlib.error)


def _read_text(path: Path, raw: bytes | None = None, limits: Limits = DEFAULT_LIMITS) -> str:
    gz = path.suffix.lower() == ".gz"
    too_big = Unreadable(
        f"larger than {limits.file_bytes / 2**20:,.0f} MB{' once decompressed' if gz else ''} "
        "(QA_MAX_FILE_MB); split it or raise the limit"
    )
    try:
        if raw is None and not gz and path.stat().st_size > limits.file_bytes:
            raise too_big
        with _open(path, raw) as fh:
            data = fh.read(limits.file_bytes + 1)
    except READ_ERRORS as exc:
        raise Unreadable(f"cannot read: {exc}") from exc
    if len(data) > limits.file_bytes:
        raise too_big
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8 text (byte {exc.start}): re-save it as UTF-8") from exc
    if not text.strip():
        raise Unreadable("empty file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


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


def _paragraph_pieces(
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


def _iso_date(value: Any, where: str) -> str | None:
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
        return _iso_date(value, "date")
    except Unreadable:
        return None


def _looks_like_date(line: str) -> str | None:
    if len(line) > 40 or not re.search(r"\d", line):
        return None
    try:
        return _iso_date(line, "date line")
    except Unreadable:
        return None


# Control characters that are no text (NUL and the like; tabs and newlines stay) and the bidi
# embeddings, overrides and isolates that reorder how text is shown ("account \u202egnp.exe"
# reads "account exe.png")
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def _printable(text: str) -> str:
    """Drop the characters of ``text`` that are not shown as text or reorder what is."""
    return _UNPRINTABLE.sub("", text)


def _make(
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


# --- formats --------------------------------------------------------------------------------


def _text_release(text: str, path_id: str, origin: str) -> Release:
    """Plain text: title line, date line, optional standfirst, then paragraphs and bullets."""
    lines = text.split("\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i == len(lines):
        raise Unreadable("empty file")
    title = lines[i].strip()
    i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    date = _looks_like_date(lines[i].strip()) if i < len(lines) else None
    if date:
        i += 1
    pieces = _paragraph_pieces("\n".join(lines[i:]))
    return _make(id=path_id, title=title, pieces=pieces, origin=origin, date=date)


def _markdown_release(text: str, path_id: str, origin: str) -> Release:
    """Markdown with YAML front matter (title, date, url, source, tags, optional id)."""
    import frontmatter
    import yaml

    try:
        post = frontmatter.loads(text)
    except (yaml.YAMLError, ValueError) as exc:
        raise Unreadable(f"broken front matter: {' '.join(str(exc).split())[:200]}") from exc
    meta = post.metadata
    if not isinstance(meta, dict):
        raise Unreadable("front matter is not a mapping")
    pieces: list[tuple[str, str]] = []
    title = str(meta.get("title") or "")
    for kind, content in _paragraph_pieces(_markdown_lines(post.content), markdown=True):
        if kind == "heading" and not title:
            title = _strip_inline_markdown(content)
            continue
        pieces.append((kind, _strip_inline_markdown(content)))
    raw_tags: Any = meta.get("tags") or []
    tags = re.split(r"[,;]", raw_tags) if isinstance(raw_tags, str) else list(raw_tags)
    return _make(
        id=str(meta.get("id") or path_id),
        title=title,
        pieces=pieces,
        origin=origin,
        date=_iso_date(meta.get("date"), "front matter"),
        url=_str_or_none(meta.get("url")),
        source=_str_or_none(meta.get("source")),
        tags=tags,
    )


def _markdown_lines(body: str) -> str:
    # A heading line is its own paragraph even without blank lines around it.
    return re.sub(r"^(#{1,6}\s+.*)$", r"\n\1\n", body, flags=re.M)


def _strip_inline_markdown(text: str) -> str:
    """Drop emphasis, code marks and link targets; a backslash-escaped character stays as is."""
    kept: list[str] = []

    def keep(m: re.Match[str]) -> str:
        kept.append(m.group(1))
        return f"\x00{len(kept) - 1}\x00"

    text = MD_ESCAPE.sub(keep, text)
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__|`)", "", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)


def _str_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _json_releases(
    text: str, path_id: str, origin: str, kind: str, problems: list[Problem]
) -> Iterator[Release]:
    """JSON: an object or a list of them (JSON Lines: ``_json_line_releases``)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Unreadable(f"broken JSON: {exc}") from exc
    except RecursionError as exc:
        raise Unreadable("JSON nested too deeply to read") from exc
    items = data if isinstance(data, list) else [data]
    if not items:
        raise Unreadable("no records")
    for n, record in enumerate(items, 1):
        try:
            yield _record_release(record, f"{path_id}:{n}", origin)
        except Unreadable as exc:
            problems.append(Problem(f"{origin} (record {n})", str(exc)))


def _json_line_releases(
    path: Path, raw: bytes | None, limits: Limits, path_id: str, problems: list[Problem]
) -> Iterator[Release]:
    """JSON Lines, read a line at a time: what is held is one record, whatever the file's size."""
    origin = str(path)
    lines = records = 0
    first_problem = len(problems)
    try:
        with _open(path, raw) as fh:
            for n, line in enumerate(iter(lambda: fh.readline(limits.line_bytes + 1), b""), 1):
                if len(problems) - first_problem >= MAX_LINE_PROBLEMS and not records:
                    last = problems[-1].reason
                    del problems[first_problem:]  # one problem for the file, not a hundred
                    raise Unreadable(
                        f"the first {MAX_LINE_PROBLEMS} lines are all unreadable "
                        f"(line {n - 1}: {last}): is this JSON Lines?"
                    )
                if not line.endswith(b"\n") and len(line) > limits.line_bytes:
                    while line and not line.endswith(b"\n"):  # skip the rest of it
                        line = fh.readline(1 << 20)
                    lines += 1
                    problems.append(
                        Problem(
                            f"{origin}:{n}",
                            f"a line longer than {limits.line_bytes / 2**20:,.0f} MB, more than a "
                            f"release of {limits.release_chars:,} characters "
                            "(QA_MAX_RELEASE_CHARS) needs; skipped",
                        )
                    )
                    continue
                try:
                    text = line.decode("utf-8-sig" if n == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    problems.append(
                        Problem(f"{origin}:{n}", f"not UTF-8 text (byte {exc.start}); skipped")
                    )
                    lines += 1
                    continue
                if not text.strip():
                    continue
                lines += 1
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as exc:
                    problems.append(Problem(f"{origin}:{n}", f"broken JSON line: {exc}"))
                    continue
                except RecursionError:
                    problems.append(Problem(f"{origin}:{n}", "JSON line nested too deeply to read"))
                    continue
                records += 1
                try:
                    yield _record_release(record, f"{path_id}:{n}", origin)
                except Unreadable as exc:
                    problems.append(Problem(f"{origin} (line {n})", str(exc)))
    except READ_ERRORS as exc:
        raise Unreadable(f"cannot read: {exc}") from exc
    if not lines:
        raise Unreadable("empty file")
    if not records and len(problems) == first_problem:
        raise Unreadable("no records")  # (else the problems of its lines say why)


def _record_release(record: Any, fallback_id: str, origin: str) -> Release:
    if not isinstance(record, dict):
        raise Unreadable("record is not a JSON object")
    body = next((record[k] for k in ("body", "text", "content") if record.get(k)), None)
    if not isinstance(body, str):
        raise Unreadable("no body, text or content field with text")
    rid = record.get("id", record.get("_id"))
    tags = [*_as_list(record.get("topics")), *_as_list(record.get("tags"))]
    return _make(
        id=str(rid) if rid not in (None, "") else fallback_id,
        title=str(record.get("title") or ""),
        pieces=_paragraph_pieces(body),
        origin=origin,
        date=_iso_date(record.get("date"), "date field"),
        url=_str_or_none(record.get("url")),
        source=_str_or_none(record.get("source")),
        tags=tags,
    )


def _as_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _csv_releases(
    text: str, path_id: str, origin: str, problems: list[Problem]
) -> Iterator[Release]:
    """CSV with a header row naming a JSON record's fields; ``tags`` are ";" or "," separated.

    A row with more cells than the header is reported and skipped (not indexed with cells
    dropped). A row that runs over several lines yet has too few cells is a quote left open:
    it is reported and reading starts again on its next line, so the rows it swallowed are
    still read.
    """
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    lines = text.split("\n")
    rows = _csv_rows(lines, 0, dialect)
    header: list[str] = []
    for _, _, cells in rows:
        if any(c.strip() for c in cells):
            header = [c.strip().lower() for c in cells]
            break
    if not any(f in ("body", "text", "content") for f in header):
        raise Unreadable("no body, text or content column in the header row")
    count = 0
    while True:
        restart = None
        try:
            for first, last, cells in rows:
                if not any(c.strip() for c in cells):
                    continue
                count += 1
                where = f"{origin} (row {count}, line {first})"
                if len(cells) < len(header) and last > first:
                    problems.append(
                        Problem(
                            where,
                            f"{len(cells)} of {len(header)} cells in a row running over lines "
                            f"{first}-{last}: a quote left open? Skipped; reading goes on at "
                            f"line {first + 1}",
                        )
                    )
                    restart = first  # the index of line first + 1
                    break
                if len(cells) > len(header):
                    problems.append(
                        Problem(
                            where,
                            f"{len(cells)} cells where the header has {len(header)}: a "
                            "delimiter or quote out of place? Skipped",
                        )
                    )
                    continue
                record: dict[str, Any] = dict(zip(header, cells, strict=False))
                for key in ("tags", "topics"):
                    if isinstance(record.get(key), str):
                        record[key] = re.split(r"[;,]", record[key])
                try:
                    yield _record_release(record, f"{path_id}:{count}", origin)
                except Unreadable as exc:
                    problems.append(Problem(f"{origin} (row {count})", str(exc)))
        except csv.Error as exc:
            problems.append(Problem(origin, f"broken CSV: {exc}; the rest of the file skipped"))
        if restart is None:
            break
        rows = _csv_rows(lines, restart, dialect)
    if not count:
        raise Unreadable("no records")


def _csv_rows(lines: list[str], start: int, dialect: Any) -> Iterator[tuple[int, int, list[str]]]:
    """The rows of ``lines[start:]``, each with the numbers of its first and last line."""
    reader = csv.reader(io.StringIO("\n".join(lines[start:])), dialect=dialect)
    done = 0
    for cells in reader:
        yield start + done + 1, start + reader.line_num, cells
        done = reader.line_num


def url_id(url: str) -> str:
    """Return a stable release id for a page: a slug of its address and a short hash of it."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    normal = urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )
    segments = [s for s in parts.path.split("/") if s]
    stem = re.sub(
        r"\.(?:s?html?|php|aspx?)$", "", segments[-1] if segments else parts.hostname or ""
    )
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:60].rstrip("-") or "page"
    return f"{slug}-{hashlib.sha256(normal.encode()).hexdigest()[:10]}"


def html_release(
    html: str | bytes,
    origin: str,
    *,
    id: str | None = None,
    url: str | None = None,
    title: str | None = None,
    date: str | None = None,
) -> Release:
    """Read a release from an HTML page: main text (trafilatura) and metadata.

    ``url`` is where the page was fetched: the page's canonical link wins when it is on the same
    host. ``title`` and ``date`` are used when the page has none. Without ``id`` (or a
    ``release-id`` meta tag) the id comes from the canonical address.
    """
    from urllib.parse import urljoin, urlsplit

    import trafilatura

    tree = trafilatura.load_html(html)
    if tree is None:
        raise Unreadable("not an HTML page")

    def first(*xpaths: str) -> str | None:
        for xpath in xpaths:
            values = [str(v).strip() for v in tree.xpath(xpath) if str(v).strip()]
            if values:
                return values[0]
        return None

    canonical = first("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content")
    if canonical:
        canonical = urljoin(url or "", canonical).split("#")[0]
        where = urlsplit(canonical)
        if where.scheme not in ("http", "https") or (
            url and _host(where.hostname) != _host(urlsplit(url).hostname)
        ):
            canonical = None  # a page may not claim another site's release
    site = first("//meta[@property='og:site_name']/@content")
    own_id = first("//meta[@name='release-id']/@content")
    doc: Any = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        # Dates from the page's markup only: a date guessed from the text is often another one.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None:
        raise Unreadable("no body text")
    page_url = canonical or (url.split("#")[0] if url else None)
    page_title = doc.title or title or ""
    release_id = own_id or id or (url_id(page_url) if page_url else None)
    if not release_id:
        raise Unreadable("no release id and no address to make one from")
    return _make(
        id=release_id,
        title=page_title,
        pieces=_extracted_pieces(doc.body, page_title),
        origin=origin,
        date=_iso_date(doc.date or date, "page date"),
        url=page_url,
        source=site,
    )


def _host(name: str | None) -> str:
    name = (name or "").lower()
    return name[4:] if name.startswith("www.") else name


def _extracted_pieces(body: Any, title: str) -> list[tuple[str, str]]:
    """Turn trafilatura's XML body (head, p, list/item, quote, table) into pieces."""
    pieces: list[tuple[str, str]] = []

    def text(el: Any) -> str:
        return " ".join("".join(el.itertext()).split())

    for el in body:
        if el.tag == "head":
            pieces.append(("heading", text(el)))
        elif el.tag == "list":
            pieces.extend(("bullet", text(item)) for item in el.iter("item") if text(item))
        elif el.tag == "table":
            pieces.extend(
                ("paragraph", " | ".join(text(cell) for cell in row)) for row in el.iter("row")
            )
        else:
            pieces.append(("paragraph", text(el)))
    if pieces and pieces[0][0] == "heading" and pieces[0][1] == " ".join(title.split()):
        pieces = pieces[1:]  # the page's <h1> is the title
    return pieces
