from __future__ import annotations

import gzip
import json
from pathlib import Path

from conftest import DOJ, SEED_DIR, SEED_ID, SEED_TITLE, doj_lines

from qa.corpus import load_releases


def test_seed_text_release_has_title_date_place_and_bullets() -> None:
    result = load_releases([SEED_DIR])
    assert result.problems == []
    (release,) = result.releases
    assert release.id == SEED_ID
    assert release.title == SEED_TITLE
    assert release.date == "2023-02-09"
    assert release.place == "ABU DHABI, United Arab Emirates"
    bullets = [release.block_text(b) for b in release.blocks if b.kind == "bullet"]
    assert len(bullets) == 3
    assert bullets[1].startswith("Increasing systematic inclusion of biometrics")
    headings = [release.block_text(b) for b in release.blocks if b.kind == "heading"]
    assert headings == ["Stronger global coalition"]
    # Blocks point into the text exactly.
    for block in release.blocks:
        assert release.text[block.start : block.end] == release.block_text(block)
        assert release.block_text(block).strip() == release.block_text(block)


def test_markdown_with_front_matter(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(
        "---\ntitle: Ports agree on data sharing\ndate: 2021-06-03\nurl: https://x.org/a\n"
        "source: Port Authority\ntags: [ports, data]\n---\n# Heading ignored as title\n\n"
        "The ports signed a **memorandum** on [data](https://x.org) sharing.\n\n"
        "The measures are:\n- joint patrols\n- shared manifests\n"
    )
    (release,) = load_releases([tmp_path]).releases
    assert (release.id, release.title, release.date) == (
        "a",
        "Ports agree on data sharing",
        "2021-06-03",
    )
    assert release.url == "https://x.org/a" and release.source == "Port Authority"
    assert release.tags == ("ports", "data")
    kinds = [(b.kind, release.block_text(b)) for b in release.blocks]
    assert ("heading", "Heading ignored as title") in kinds
    assert ("paragraph", "The ports signed a memorandum on data sharing.") in kinds
    assert [t for k, t in kinds if k == "bullet"] == ["joint patrols", "shared manifests"]


def test_json_jsonl_and_gzip_records(tmp_path: Path) -> None:
    records = [
        {"_id": "x1", "title": "T1", "date": "2016-03-01", "text": "Body one."},
        {"title": "T2", "content": "Body two.", "topics": ["Fraud"]},
    ]
    (tmp_path / "list.json").write_text(json.dumps(records))
    with gzip.open(tmp_path / "recs.jsonl.gz", "wt") as fh:
        fh.write(json.dumps({"id": 7, "title": "T7", "body": "Seven.", "date": "May 4, 2015"}))
    result = load_releases([tmp_path])
    assert result.problems == []
    by_id = {r.id: r for r in result.releases}
    assert set(by_id) == {"x1", "list:2", "7"}
    assert by_id["7"].date == "2015-05-04"
    assert by_id["list:2"].tags == ("Fraud",)
    assert by_id["x1"].text == "Body one."


def test_html_page(tmp_path: Path) -> None:
    (tmp_path / "p.html").write_text(
        "<html><head><title>Site | Release</title>"
        "<meta property='og:title' content='Agencies dismantle botnet'>"
        "<link rel='canonical' href='https://agency.example/botnet'></head>"
        "<body><nav>Home | News</nav><article><h1>Agencies dismantle botnet</h1>"
        "<time datetime='2019-11-05'>5 November 2019</time>"
        "<p>Police in six countries took down a botnet.</p><ul><li>Servers seized</li>"
        "<li>Two arrests</li></ul><script>alert(1)</script></article>"
        "<footer>Contact us</footer></body></html>"
    )
    (release,) = load_releases([tmp_path]).releases
    assert release.title == "Agencies dismantle botnet"
    assert release.date == "2019-11-05"
    assert release.url == "https://agency.example/botnet"
    assert "Police in six countries took down a botnet." in release.text
    assert "alert" not in release.text and "Home" not in release.text
    assert [release.block_text(b) for b in release.blocks if b.kind == "bullet"] == [
        "Servers seized",
        "Two arrests",
    ]


def test_csv_export_with_quoted_bodies_tags_and_bad_rows(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text(
        "\ufeffID,Title,Date,URL,Tags,Body\n"
        '9,Ship seized,2020-07-01,https://x.org/9,"ports; drugs","WASHINGTON — A ship was '
        'seized.\n\nThe crew, all 12 of them, were arrested:\n- the captain\n- the mate"\n'
        ",No body,2020-07-02,,,\n"
        ",Second,May 4 2015,,,Text of the second.\n",
        encoding="utf-8",
    )
    result = load_releases([tmp_path])
    by_id = {r.id: r for r in result.releases}
    assert set(by_id) == {"9", "export:3"}
    ship = by_id["9"]
    assert (ship.title, ship.date, ship.url, ship.tags) == (
        "Ship seized",
        "2020-07-01",
        "https://x.org/9",
        ("ports", "drugs"),
    )
    assert ship.place == "WASHINGTON"
    assert [ship.block_text(b) for b in ship.blocks if b.kind == "bullet"] == [
        "the captain",
        "the mate",
    ]
    assert by_id["export:3"].date == "2015-05-04"
    (problem,) = result.problems
    assert "(row 2)" in problem.path and "no body" in problem.reason


def test_malformed_files_are_reported_and_skipped(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Good title\n\n1 March 2020\n\nA good body sentence.\n")
    (tmp_path / "latin1.txt").write_bytes("Titre\n\nCaf\xe9 cr\xe8me".encode("latin-1"))
    (tmp_path / "empty.md").write_text("   \n")
    (tmp_path / "broken.json").write_text('{"title": "x", ')
    (tmp_path / "front.md").write_text("---\ntitle: [unclosed\n---\nBody\n")
    (tmp_path / "lines.jsonl").write_text(
        '{"id": 1, "title": "One", "body": "Fine."}\nnot json\n{"id": 2, "title": "No body"}\n'
    )
    (tmp_path / "bad.jsonl.gz").write_bytes(b"not gzip at all")
    (tmp_path / "notes.csv").write_text("ignored,format\n")
    (tmp_path / "page.html").write_text("<html><head><title>Only a title</title></head></html>")
    result = load_releases([tmp_path, tmp_path / "missing"])
    assert sorted(r.id for r in result.releases) == ["1", "good"]
    reasons = {Path(p.path.split(" (")[0].split(":")[0]).name: p.reason for p in result.problems}
    assert "not UTF-8" in reasons["latin1.txt"]
    assert reasons["empty.md"] == "empty file"
    assert "broken JSON" in reasons["broken.json"]
    assert "front matter" in reasons["front.md"]
    assert "cannot read" in reasons["bad.jsonl.gz"]
    assert "no such file" in reasons["missing"]
    assert reasons["page.html"] == "no body text"
    assert "no body, text or content column" in reasons["notes.csv"]
    jsonl = [p.reason for p in result.problems if "lines.jsonl" in p.path]
    assert any("broken JSON line" in r for r in jsonl)
    assert any("no body" in r for r in jsonl)
    assert len(result.problems) == 10


def test_duplicate_ids_keep_the_first(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": 5, "title": "A", "body": "First."}\n')
    (tmp_path / "b.jsonl").write_text('{"id": 5, "title": "B", "body": "Second."}\n')
    result = load_releases([tmp_path])
    assert [r.title for r in result.releases] == ["A"]
    assert "duplicate release id '5'" in result.problems[0].reason


def test_doj_corpus_loads_with_record_ids() -> None:
    result = load_releases([DOJ])
    assert result.problems == []
    assert len(result.releases) == len(doj_lines())
    ids = {json.loads(line)["id"] for line in doj_lines()}
    assert {r.id for r in result.releases} == {str(i) for i in ids}
    assert all(r.date and r.title and r.text for r in result.releases)


def test_a_list_that_lost_its_bullets_keeps_its_last_item(tmp_path: Path) -> None:
    body = (
        "Examples of the schemes prosecuted include:\n\n"
        "Lottery phone scams, in which callers ask for a fee;\n\n"
        "Romance scams, which invent an online paramour;\n\n"
        "Guardianship schemes, which siphon savings to relatives.\n\n"
        "Many of these cases show how savings are lost. Prosecuting them is a priority."
    )
    record = {"id": "x", "title": "Sweep", "date": "2018-02-22", "body": body}
    (tmp_path / "r.jsonl").write_text(json.dumps(record) + "\n")
    (release,) = load_releases([tmp_path]).releases
    kinds = [(b.kind, release.block_text(b).split()[0]) for b in release.blocks]
    assert kinds == [
        ("paragraph", "Examples"),
        ("bullet", "Lottery"),
        ("bullet", "Romance"),
        ("bullet", "Guardianship"),  # the item that ends the list with a full stop
        ("paragraph", "Many"),
    ]


def test_a_list_of_long_parallel_paragraphs_is_one_list(tmp_path: Path) -> None:
    long_tail = " The payments went through agents and consultants over many years" * 6
    body = (
        "According to the plea, the company paid bribes in several countries:\n\n"
        "In Thailand, the company paid $11 million to officials.\n\n"
        "In Brazil, the company paid $9.3 million to officials.\n\n"
        f"In Kazakhstan, the company paid $5.4 million to advisors.{long_tail}.\n\n"
        "The company agreed to pay a criminal penalty. The plea was entered today.\n\n"
        "In related proceedings, the company settled with other authorities."
    )
    record = {"id": "x", "title": "Plea", "date": "2017-01-17", "body": body}
    (tmp_path / "r.jsonl").write_text(json.dumps(record) + "\n")
    (release,) = load_releases([tmp_path]).releases
    kinds = [(b.kind, release.block_text(b).split()[1]) for b in release.blocks]
    assert kinds == [
        ("paragraph", "to"),
        ("bullet", "Thailand,"),
        ("bullet", "Brazil,"),
        ("bullet", "Kazakhstan,"),  # long, but it opens like the items before it
        ("paragraph", "company"),
        ("paragraph", "related"),
    ]


def test_json_nested_too_deeply_is_skipped_with_a_reason_and_the_rest_loads(
    tmp_path: Path,
) -> None:
    deep = "[" * 5000 + "]" * 5000
    (tmp_path / "deep.json").write_text(deep)
    (tmp_path / "lines.jsonl").write_text(
        deep + "\n" + json.dumps({"id": 1, "title": "Kept", "body": "Text."}) + "\n"
    )
    result = load_releases([tmp_path])
    assert [r.title for r in result.releases] == ["Kept"]
    reasons = {Path(p.path).name.split(":")[0]: p.reason for p in result.problems}
    assert "nested too deeply" in reasons["deep.json"]
    assert "nested too deeply" in reasons["lines.jsonl"]


def test_control_and_bidi_characters_are_dropped_from_titles_and_text(tmp_path: Path) -> None:
    record = {
        "id": 1,
        "title": "Invoice \u202egnp.exe\u202c scam",
        "body": "The attachment was account\u202egnp.exe.\x00 Victims lost \u2066$5\u2069.",
    }
    (tmp_path / "r.jsonl").write_text(json.dumps(record) + "\n")
    (release,) = load_releases([tmp_path]).releases
    assert release.title == "Invoice gnp.exe scam"
    assert release.text == "The attachment was accountgnp.exe. Victims lost $5."


def test_csv_rows_with_an_open_quote_or_extra_cells_are_reported(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text(
        "id,title,body\n"
        '1,First,"Body one\ncontinues here."\n'
        '2,"Unclosed title,Body two.\n'
        "3,Third,Body three.\n"
        "4,Fourth,Body four.,extra,cells\n"
        "5,Fifth,Body five.\n",
        encoding="utf-8",
    )
    result = load_releases([tmp_path])
    assert [r.id for r in result.releases] == ["1", "3", "5"]
    assert result.releases[0].text == "Body one continues here."
    open_quote, extra = result.problems
    assert "line 4" in open_quote.path and "a quote left open" in open_quote.reason
    assert "lines 4-7" in open_quote.reason and "reading goes on at line 5" in open_quote.reason
    assert "line 6" in extra.path and "5 cells where the header has 3" in extra.reason


def test_oversized_releases_and_files_are_skipped_with_the_limit(tmp_path: Path) -> None:
    from qa.corpus import Limits

    limits = Limits(release_chars=10_000, file_bytes=200_000)
    (tmp_path / "big-body.jsonl").write_text(
        json.dumps({"id": "huge", "title": "Huge", "body": "word " * 1_000_000})
        + "\n"
        + json.dumps({"id": "long", "title": "Long", "body": "word " * 3_000})
        + "\n"
        + json.dumps({"id": "ok", "title": "Fine", "body": "A normal release."})
        + "\n"
    )
    (tmp_path / "bomb.json.gz").write_bytes(gzip.compress(b"[" + b" " * 50_000_000 + b"]"))
    (tmp_path / "lines.jsonl.gz").write_bytes(gzip.compress(b"x\n" * 5_000_000))
    (tmp_path / "big.txt").write_text("Title\n\n" + "Some text. " * 30_000)
    result = load_releases([tmp_path], limits)
    assert [r.id for r in result.releases] == ["ok"]
    reasons = {p.path.replace(str(tmp_path) + "/", ""): p.reason for p in result.problems}
    assert "a line longer than" in reasons["big-body.jsonl:1"]
    assert "QA_MAX_RELEASE_CHARS" in reasons["big-body.jsonl:1"]
    assert reasons["big-body.jsonl (long)"].startswith("14,999 characters, more than the 10,000")
    assert "larger than 0 MB once decompressed (QA_MAX_FILE_MB)" in reasons["bomb.json.gz"]
    assert "the first 100 lines are all unreadable" in reasons["lines.jsonl.gz"]
    assert "larger than 0 MB (QA_MAX_FILE_MB)" in reasons["big.txt"]
    assert len(result.problems) == 5
