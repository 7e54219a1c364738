"""Write releases as normalised Markdown files (YAML front matter + body) into a corpus folder."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from qa.corpus import Problem, Release, load_releases


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

    meta = {"id": release.id, "title": release.title}  # front matter is YAML, not Markdown
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


def file_name(release: Release) -> str:
    """Return a safe, stable file name for a release."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", release.id).strip("-.") or "release"
    return f"{stem}.md"


def import_releases(sources: Iterable[str | Path], corpus: Path) -> ImportSummary:
    """Load releases from export files or folders and write each into ``corpus`` as Markdown."""
    loaded = load_releases(sources)
    summary = ImportSummary(skipped=list(loaded.problems))
    corpus.mkdir(parents=True, exist_ok=True)
    for release in loaded.releases:
        path = corpus / file_name(release)
        text = release_markdown(release)
        if path.exists():
            if path.read_text(encoding="utf-8") == text:
                summary.unchanged.append(release.id)
                continue
            summary.updated.append(release.id)
        else:
            summary.added.append(release.id)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)  # never a half-written release file
    return summary
