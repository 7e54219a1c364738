from __future__ import annotations

from pathlib import Path

from conftest import DOJ, SEED_DIR, SEED_ID, doj_lines

from qa.corpus import load_releases
from qa.exports import import_releases


def _key(r):
    return (
        r.id,
        r.title,
        r.date,
        r.url,
        r.source,
        r.tags,
        r.text,
        tuple((b.kind, b.start, b.end) for b in r.blocks),
    )


def test_importing_the_fixture_gives_the_same_releases_as_the_jsonl(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    summary = import_releases([DOJ, SEED_DIR], corpus)
    assert len(summary.added) == len(doj_lines()) + 1 and summary.skipped == []
    assert len(list(corpus.glob("*.md"))) == len(doj_lines()) + 1
    direct = {r.id: _key(r) for r in load_releases([DOJ, SEED_DIR]).releases}
    imported = {r.id: _key(r) for r in load_releases([corpus]).releases}
    assert imported == direct
    assert SEED_ID in imported


def test_importing_again_is_idempotent_and_updates_changed_releases(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    source = tmp_path / "export.jsonl"
    source.write_text('{"id": 1, "title": "One", "body": "First text."}\n{"id": 2}\n')
    first = import_releases([source], corpus)
    assert first.added == ["1"] and len(first.skipped) == 1
    assert import_releases([source], corpus).unchanged == ["1"]
    source.write_text('{"id": 1, "title": "One", "body": "Changed text."}\n')
    assert import_releases([source], corpus).updated == ["1"]
    (release,) = load_releases([corpus]).releases
    assert release.text == "Changed text."


def test_markup_like_text_reads_back_unchanged(tmp_path: Path) -> None:
    from qa.corpus import Block, Release
    from qa.exports import release_markdown

    paragraphs = [
        "# # #",
        "- not a bullet",
        "12. Not a list item",
        "**bold** and `code`",
        "[a](b) link_like *stars* \\ backslash",
        "• dot",
    ]
    text, blocks, pos = "", [], 0
    for p in paragraphs:
        if text:
            text += "\n\n"
            pos += 2
        blocks.append(Block("paragraph", pos, pos + len(p)))
        text += p
        pos += len(p)
    release = Release(id="r", title="T *x*", text=text, blocks=tuple(blocks))
    (tmp_path / "r.md").write_text(release_markdown(release))
    (back,) = load_releases([tmp_path]).releases
    assert back.title == "T *x*"
    assert [back.block_text(b) for b in back.blocks] == paragraphs
    assert {b.kind for b in back.blocks} == {"paragraph"}


def test_imported_files_read_like_the_rest_and_importing_nothing_fails(tmp_path: Path) -> None:
    import stat

    from conftest import run_qa

    corpus = tmp_path / "corpus"
    source = tmp_path / "export.jsonl"
    source.write_text('{"id": 1, "title": "One", "body": "First text."}\n')
    imported = run_qa("import", str(source), "--corpus", str(corpus))
    assert imported.returncode == 0, imported.stderr
    (written,) = corpus.glob("*.md")
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
    broken = tmp_path / "broken.json"
    broken.write_text("{oops")
    nothing = run_qa("import", str(broken), "--corpus", str(corpus))
    assert nothing.returncode == 1 and "skipped" in nothing.stderr
    assert "0 added" in nothing.stdout
