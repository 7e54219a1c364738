"""Release files by format: plain text, Markdown with front matter, JSON and JSON Lines, CSV
(HTML pages are ``qa.pages``'s); each read into ``Release`` objects, what cannot be read
reported."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from qa.release import (
    DEFAULT_LIMITS,
    Limits,
    Problem,
    Release,
    Unreadable,
    iso_date_of,
    make_release,
    paragraph_pieces,
)

# A CSV export keeps a whole release body in one cell; the csv module's default limit is 128 KiB.
CSV_FIELD_LIMIT = 16 * 1024 * 1024
MD_ESCAPE = re.compile(r"\\([\\`*_\[\]()#+\-.!•·▪◦‣●–])")
# A JSON Lines file whose first this many lines are all unreadable is not read further.
MAX_LINE_PROBLEMS = 100


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


def read_text(path: Path, raw: bytes | None = None, limits: Limits = DEFAULT_LIMITS) -> str:
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


def _date_line(line: str) -> str | None:
    """The date the line after a plain-text release's title gives, if it is a short date."""
    if len(line) > 40 or not re.search(r"\d", line):
        return None
    try:
        return iso_date_of(line, "date line")
    except Unreadable:
        return None


def text_release(text: str, path_id: str, origin: str) -> Release:
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
    date = _date_line(lines[i].strip()) if i < len(lines) else None
    if date:
        i += 1
    pieces = paragraph_pieces("\n".join(lines[i:]))
    return make_release(id=path_id, title=title, pieces=pieces, origin=origin, date=date)


def markdown_release(text: str, path_id: str, origin: str) -> Release:
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
    for kind, content in paragraph_pieces(_markdown_lines(post.content), markdown=True):
        if kind == "heading" and not title:
            title = _strip_inline_markdown(content)
            continue
        pieces.append((kind, _strip_inline_markdown(content)))
    raw_tags: Any = meta.get("tags") or []
    tags = re.split(r"[,;]", raw_tags) if isinstance(raw_tags, str) else list(raw_tags)
    return make_release(
        id=str(meta.get("id") or path_id),
        title=title,
        pieces=pieces,
        origin=origin,
        date=iso_date_of(meta.get("date"), "front matter"),
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


def json_releases(
    text: str, path_id: str, origin: str, kind: str, problems: list[Problem]
) -> Iterator[Release]:
    """JSON: an object or a list of them (JSON Lines: ``json_line_releases``)."""
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


def json_line_releases(
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
    return make_release(
        id=str(rid) if rid not in (None, "") else fallback_id,
        title=str(record.get("title") or ""),
        pieces=paragraph_pieces(body),
        origin=origin,
        date=iso_date_of(record.get("date"), "date field"),
        url=_str_or_none(record.get("url")),
        source=_str_or_none(record.get("source")),
        tags=tags,
    )


def _as_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def csv_releases(
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
