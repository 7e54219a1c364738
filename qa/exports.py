"""Write releases as normalised Markdown files (YAML front matter + body) into a corpus folder,
from export files or from pages fetched by address."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qa.corpus import (
    DEFAULT_LIMITS,
    Limits,
    Problem,
    Release,
    Unreadable,
    html_release,
    load_releases,
)
from qa.errors import FetchError
from qa.fetching import HTML_TYPES, Fetcher, Response


@dataclass
class ImportSummary:
    """What an import did, file by file."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)


def _escaped(text: str) -> str:
    """Escape what the Markdown reader would take as markup, so the text reads back as is."""
    text = re.sub(r"([\\`*_\[\]])", r"\\\1", text)
    # A paragraph that starts like a heading or a list item.
    text = re.sub(r"^([#•·▪◦‣●*+–-])", r"\\\1", text)
    return re.sub(r"^(\d{1,2})([.)])", r"\1\\\2", text)


def release_markdown(release: Release) -> str:
    """Render a release as Markdown with front matter that the loader reads back unchanged."""
    import yaml

    # front matter is YAML, not Markdown
    meta: dict[str, Any] = {"id": release.id, "title": release.title}
    for key in ("date", "url", "source"):
        value = getattr(release, key)
        if value:
            meta[key] = value
    if release.tags:
        meta["tags"] = list(release.tags)
    lines: list[str] = []
    previous = ""
    for block in release.blocks:
        text = _escaped(release.block_text(block))
        if block.kind == "bullet":
            lines.append(("" if previous == "bullet" else "\n") + f"- {text}")
        elif block.kind == "heading":
            lines.append(f"\n## {text}")
        else:
            lines.append(f"\n{text}")
        previous = block.kind
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000)
    return f"---\n{front}---\n" + "\n".join(lines).lstrip("\n") + "\n"


def file_name(release_id: str) -> str:
    """Return a safe, stable file name for a release."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", release_id).strip("-.") or "release"
    return f"{stem}.md"


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: never half-written."""
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # as any file of the corpus, not mkstemp's 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_release(release: Release, corpus: Path) -> str:
    """Write one release into ``corpus``; return "added", "updated" or "unchanged"."""
    path = corpus / file_name(release.id)
    text = release_markdown(release)
    if not path.exists():
        status = "added"
    elif path.read_text(encoding="utf-8") == text:
        return "unchanged"
    else:
        status = "updated"
    corpus.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text)
    return status


def is_url(source: str | Path) -> bool:
    """Tell whether an import source is a web address rather than a file."""
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


def import_releases(
    sources: Iterable[str | Path],
    corpus: Path,
    fetcher: Fetcher | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ImportSummary:
    """Load releases from export files, folders or page addresses and write each into ``corpus``.

    Pages are fetched with ``fetcher`` (default limits when none is given).
    """
    sources = list(sources)
    loaded = load_releases([s for s in sources if not is_url(s)], limits)
    summary = ImportSummary(skipped=list(loaded.problems))
    releases = list(loaded.releases)
    fetcher = fetcher or Fetcher()
    for url in filter(is_url, sources):
        try:
            releases.append(page_release(fetcher.get(str(url), HTML_TYPES)))
        except (FetchError, Unreadable) as exc:
            summary.skipped.append(Problem(str(url), str(exc)))
    corpus.mkdir(parents=True, exist_ok=True)
    for release in releases:
        getattr(summary, write_release(release, corpus)).append(release.id)
    return summary


def page_release(page: Response, title: str | None = None, date: str | None = None) -> Release:
    """Read a fetched HTML page as a release (its source: the site's name or host).

    ``title`` and ``date`` are used when the page has none; raise ``Unreadable``.
    """
    from urllib.parse import urlsplit

    release = html_release(page.text(), page.url, url=page.url, title=title, date=date)
    return replace(release, source=release.source or urlsplit(page.url).hostname)
