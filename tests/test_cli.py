from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SEED_FILE, SEED_ID, SEED_TITLE
from conftest import run_qa as _qa


def test_import_and_help_load_no_model() -> None:
    code = (
        "import sys, qa, qa.cli, qa.web, qa.engine\n"
        "from click.testing import CliRunner\n"
        "r = CliRunner().invoke(qa.cli.main, ['--help'])\n"
        "assert r.exit_code == 0 and 'rebuild-index' in r.output, r.output\n"
        "heavy = {'torch', 'sentence_transformers', 'transformers', 'faiss', 'bm25s'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_help_lists_commands_and_points_to_the_settings() -> None:
    out = _qa("--help")
    assert out.returncode == 0
    for word in ("rebuild-index", "ask", "serve", "settings", "`qa settings` lists"):
        assert word in out.stdout


@pytest.mark.parametrize("columns", ["60", "200"])
def test_settings_are_a_table_with_values_and_sources(columns: str) -> None:
    from qa.config import describe

    out = _qa("settings", env={"QA_TOP_K": "5", "COLUMNS": columns})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["variable", "value", "source", "help"]
    starts = [line.split()[0] for line in lines[1:] if line.startswith("QA_")]
    assert starts == [r.variable for r in describe({})]  # one row each, in order, none reflowed
    top_k = next(line for line in lines if line.startswith("QA_TOP_K "))
    assert top_k.split()[1:3] == ["5", "environment"]
    max_k = next(line for line in lines if line.startswith("QA_MAX_K "))
    assert max_k.split()[1:3] == ["50", "default"]


def test_settings_as_json_and_bad_values_refused() -> None:
    rows = json.loads(_qa("settings", "--json", env={"QA_PORT": "9001"}).stdout)
    port = next(r for r in rows if r["variable"] == "QA_PORT")
    assert (port["value"], port["source"]) == ("9001", "environment")
    bad = _qa("settings", env={"QA_PORT": "eighty"})
    assert bad.returncode == 1 and "QA_PORT='eighty' is not a valid int" in bad.stderr


def test_ask_without_index_says_what_to_run(tmp_path: Path) -> None:
    out = _qa("ask", "anything?", "--index", str(tmp_path / "none"))
    assert out.returncode == 1
    assert "qa rebuild-index" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.model
def test_rebuild_and_ask_end_to_end_with_the_real_model(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / f"{SEED_ID}.txt").write_text((SEED_FILE).read_text())
    (corpus / "broken.json").write_text("{oops")
    index = tmp_path / "index"
    built = _qa("rebuild-index", "--corpus", str(corpus), "--index", str(index))
    assert built.returncode == 0, built.stderr
    assert "Indexed 1 releases from 2 files" in built.stdout
    assert "skipped" in built.stderr and "broken.json" in built.stderr

    out = _qa("ask", "Which measures target terrorism?", "--index", str(index))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    bullets = [line for line in lines if line.startswith("• ")]
    assert len(bullets) == 3
    for bullet, phrase in zip(
        bullets,
        ("intelligence sharing", "biometrics", "intelligence-led screening operations"),
        strict=True,
    ):
        assert phrase in bullet and bullet.endswith("[1]")
    assert f"[1] {SEED_TITLE} (2023-02-09)" in out.stdout

    as_json = _qa("ask", "Which measures target terrorism?", "--index", str(index), "--json")
    data = json.loads(as_json.stdout)
    assert data["sources"][0]["date"] == "2023-02-09"
    assert [s["kind"] for s in data["sentences"]].count("bullet") == 3
    assert data["answer"] in out.stdout

    chat = subprocess.run(
        [sys.executable, "-m", "qa", "chat", "--index", str(index)],
        input="/help\nWhich measures target terrorism?\n/new\n/nonsense\n"
        "Who is the Secretary General?\n",
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert chat.returncode == 0, chat.stderr
    assert chat.stdout.count("• ") == 3 and "(new conversation)" in chat.stdout
    assert "Jürgen Stock" in chat.stdout
    intro, *_ = chat.stdout.splitlines()
    assert intro.startswith(f"Ask about the 1 releases in {index}/.") and "/help" in intro
    # "/help" and an unknown command print the commands instead of being asked as questions
    assert chat.stdout.count("Commands: /new") == 3 and "(unknown command /nonsense)" in chat.stdout
    # stderr is not a terminal here: no loading notice
    assert "Loading" not in chat.stderr

    # the join model cannot be fitted on one release: a clear error, the shipped one kept
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        json.dumps(
            {
                "id": "t1",
                "question": "Which measures target terrorism?",
                "release_ids": [SEED_ID],
                "answer_contains": ["biometrics"],
            }
        )
        + "\n"
    )
    joins = tmp_path / "joins.json"
    trained = _qa(
        "train-scorer",
        "--joins-only",
        "--joins-out",
        str(joins),
        "--index",
        str(index),
        "--questions",
        str(questions),
    )
    assert trained.returncode == 1 and "too few to fit the join model" in trained.stderr
    assert not joins.exists()

    off_topic = json.loads(
        _qa(
            "ask", "What is a good recipe for chocolate cake?", "--index", str(index), "--json"
        ).stdout
    )
    assert off_topic["abstained"] is True and off_topic["sources"] == []


def test_damaged_index_is_a_clear_cli_error(tmp_path: Path) -> None:
    from conftest import FakeEncoder

    from qa.build import rebuild_index
    from qa.config import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / f"{SEED_ID}.txt").write_text((SEED_FILE).read_text())
    settings = Settings.from_env(environ={}, corpus=(corpus,), index_dir=tmp_path / "index")
    rebuild_index(settings, encoder=FakeEncoder())  # built with the configured model's name
    build = next((tmp_path / "index" / "builds").iterdir())
    with open(build / "vectors.faiss", "r+b") as fh:
        fh.truncate(64)
    out = _qa("ask", "Which measures target terrorism?", "--index", str(tmp_path / "index"))
    assert out.returncode == 1
    assert "vectors.faiss does not match its checksum" in out.stderr
    assert "qa rebuild-index" in out.stderr and "Traceback" not in out.stderr


def test_the_configuration_doc_lists_every_setting() -> None:
    from qa.config import describe

    doc = (REPO / "docs" / "configuration.md").read_text()
    missing = [r.variable for r in describe({}) if f"`{r.variable}`" not in doc]
    assert missing == []
