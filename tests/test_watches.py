"""Watched questions, kept answers (permalinks), Markdown export and the state database."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, SEED_DIR, SEED_ID, FakeEncoder, _free_port, serving

from qa import watching
from qa.config import Settings
from qa.live import EngineHolder
from qa.state import MIGRATIONS, State, answer_markdown

QUESTION = "Which measures target terrorism?"


class Receiver:
    """A local webhook receiver: records each POST; ``hang`` makes it never answer."""

    def __init__(self, hang: bool = False) -> None:
        self.posts: list[tuple[Any, bytes]] = []  # (headers, body)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((self.headers, body))
                if hang:
                    time.sleep(3)
                    return
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _verify(secret: str, headers: Any, body: bytes) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-QA-Signature"])


def test_a_kept_answer_reads_the_same_after_its_release_is_gone(client, built: Settings) -> None:
    reply = client.post("/api/answers", json={"question": QUESTION})
    assert reply.status_code == 201
    kept = reply.get_json()
    assert kept["permalink"] == f"/a/{kept['answer_id']}" and len(kept["answer_id"]) >= 20
    assert kept["answer"]["sources"][0]["release_id"] == SEED_ID
    # the release goes and the index is rebuilt without it: the kept answer stays as it was
    (built.corpus[0] / f"{SEED_ID}.txt").unlink()
    from qa.build import rebuild_index

    rebuild_index(built, encoder=FakeEncoder())
    again = client.get(f"/api/answers/{kept['answer_id']}").get_json()
    assert again == kept
    markdown = client.get(f"/api/answers/{kept['answer_id']}.md")
    assert (
        markdown.mimetype == "text/markdown" and markdown.get_data(as_text=True) == kept["markdown"]
    )
    with client.get(kept["permalink"]) as page:
        assert page.status_code == 200 and b"<html" in page.get_data()
    with client.get("/a/nothing-here") as page:
        assert page.status_code == 404
    assert client.get("/api/answers/nothing-here").get_json()["error"]["status"] == 404
    # `keep` on a query keeps it too
    query = client.post("/api/query", json={"question": QUESTION, "keep": True}).get_json()
    assert client.get(f"/api/answers/{query['answer_id']}").status_code == 200
    assert client.post("/api/query", json={"question": "q", "keep": "yes"}).status_code == 400


def test_the_markdown_has_footnote_citations_with_title_date_url_and_passage() -> None:
    reply = {
        "question": "What was seized?",
        "sentences": [
            {"text": "Officers seized:", "citations": [1], "kind": "lead"},
            {"text": "3.2 tonnes of cocaine", "citations": [1], "kind": "bullet"},
            {"text": "a <boat>", "citations": [1, 2], "kind": "bullet"},
            {"text": "Both were charged.", "citations": [2], "kind": "sentence"},
        ],
        "sources": [
            {
                "n": 1,
                "title": "Seizure & arrests",
                "date": "2023-02-09",
                "url": "https://x.org/1",
                "passage": "Officers seized:\n3.2 tonnes of cocaine",
            },
            {
                "n": 2,
                "title": "Charges",
                "date": None,
                "url": None,
                "passage": "Both were charged.",
            },
        ],
    }
    assert answer_markdown(reply) == (
        "**Q:** What was seized?\n"
        "\n"
        "Officers seized: [^1]\n"
        "\n"
        "- 3.2 tonnes of cocaine [^1]\n"
        "- a &lt;boat> [^1][^2]\n"
        "\n"
        "Both were charged. [^2]\n"
        "\n"
        "[^1]: Seizure &amp; arrests (2023-02-09), https://x.org/1\n"
        "    > Officers seized:\n"
        "    > 3.2 tonnes of cocaine\n"
        "[^2]: Charges (undated)\n"
        "    > Both were charged.\n"
    )


def test_watches_through_the_api_report_only_real_changes(client, built: Settings) -> None:
    assert client.post("/api/watches", json={"question": "  "}).status_code == 400
    assert client.get("/api/watches/none").status_code == 404
    assert client.delete("/api/watches/none").status_code == 404
    assert client.post("/api/watches/none/seen").status_code == 404
    added = client.post("/api/watches", json={"question": QUESTION}).get_json()["watch"]
    assert added["last"]["text"] and added["changes"] == 0 and added["webhook"] is False
    state = State(built.state_folder())
    engine = EngineHolder(built, FakeEncoder()).get()
    assert watching.check_watches(state, engine).changed == []  # the same answer: nothing
    history = client.get(f"/api/watches/{added['id']}").get_json()["history"]
    assert [h["kind"] for h in history] == ["first"]
    # another answer on another build is a change, counted unseen until seen
    reply = dict(history[0]["answer"], sentences=[], sources=[], abstained=True)
    assert state.record(added["id"], "build-2", reply)["kind"] == "changed"
    assert state.record(added["id"], "build-3", reply) is None
    listed = client.get("/api/watches").get_json()["watches"]
    assert [(w["id"], w["changes"], w["unseen"]) for w in listed] == [(added["id"], 1, 1)]
    assert client.post(f"/api/watches/{added['id']}/seen").status_code == 204
    assert client.get("/api/watches").get_json()["watches"][0]["unseen"] == 0
    assert client.delete(f"/api/watches/{added['id']}").status_code == 204
    assert client.get("/api/watches").get_json() == {"watches": []}


def test_the_atom_feed_has_one_entry_per_change(client, built: Settings) -> None:
    import feedparser

    added = client.post("/api/watches", json={"question": QUESTION}).get_json()["watch"]
    state = State(built.state_folder())
    first = state.history(added["id"])[0]["answer"]
    state.record(added["id"], "build-2", dict(first, sentences=[{"text": "x"}]))
    feed = feedparser.parse(client.get("/watches.atom").get_data())
    assert not feed.bozo and len(feed.entries) == 1
    entry = feed.entries[0]
    assert entry.title == f"New answer: {QUESTION}"
    assert first["answer"] in entry.content[0].value
    assert entry.link.endswith(f"/api/watches/{added['id']}")


def test_a_webhook_gets_one_signed_post_and_a_hanging_one_is_bounded(
    built: Settings, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = State(built.state_folder())
    with pytest.raises(Exception, match="http"):
        state.add_watch(QUESTION, {}, "file:///etc/passwd")
    watch = state.add_watch(QUESTION, {}, receiver.url)
    state.record(watch["id"], "build-1", {"abstained": True, "sentences": [], "sources": []})
    engine = EngineHolder(built, FakeEncoder()).get()
    summary = watching.check_watches(state, engine)
    assert summary.changed == [watch["id"]] and summary.delivered == 1
    ((headers, body),) = receiver.posts
    assert _verify(watch["webhook_secret"], headers, body)
    payload = json.loads(body)
    assert payload["event"] == "watch.changed" and payload["previous"]["abstained"] is True
    assert payload["answer"]["sources"][0]["release_id"] == SEED_ID
    # a receiver that never answers: tried again with back-off, bounded in time
    hanging = Receiver(hang=True)
    monkeypatch.setattr(watching, "WEBHOOK_TIMEOUT", 0.5)
    pauses: list[float] = []
    try:
        started = time.monotonic()
        ok, attempts, status = watching.deliver(hanging.url, "s", {"event": "x"}, pauses.append)
        assert (ok, attempts) == (False, 4) and "timed out" in status.lower()
        assert pauses == list(watching.WEBHOOK_RETRIES)
        assert time.monotonic() - started < 4 * 0.5 + 3  # four bounded tries, no sleeping here
    finally:
        hanging.close()


def test_the_state_database_migrates_forward_and_keeps_what_it_had(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    con = sqlite3.connect(path)
    con.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    con.execute(
        "INSERT INTO watches (id, question, filters, created_at) VALUES ('w1', 'q?', '{}', 'now')"
    )
    con.commit()
    con.close()
    state = State(tmp_path)
    assert state.version == len(MIGRATIONS)
    assert [w["id"] for w in state.watches()] == ["w1"]
    with sqlite3.connect(path) as con:  # the later migration's table is there
        assert con.execute("SELECT COUNT(*) FROM deliveries").fetchone() == (0,)


def test_watches_and_kept_answers_outlive_a_killed_rebuild(built: Settings) -> None:
    state = State(built.state_folder())
    watch = state.add_watch(QUESTION, {})
    kept = state.keep_answer(QUESTION, [], {}, "b", {"question": QUESTION, "answer": "a"})
    assert not built.state_folder().is_relative_to(built.index_dir)  # never inside index/
    env = {
        **os.environ,
        "QA_INDEX_DIR": str(built.index_dir),
        "QA_CORPUS": str(built.corpus[0]),
        "QA_STATE_DIR": str(built.state_folder()),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa", "rebuild-index", "--full"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.5)
    proc.kill()
    proc.wait(timeout=30)
    assert [w["id"] for w in state.watches()] == [watch["id"]]
    assert state.answer(kept["answer_id"])["answer"] == {"question": QUESTION, "answer": "a"}


NEW_RELEASE = """---
title: Customs seize 900 kilograms of heroin in Operation Lighthouse
date: 2023-03-02
url: https://example.org/lighthouse
---
ROTTERDAM – Customs officers seized 900 kilograms of heroin hidden in a shipment of marble tiles
during Operation Lighthouse, the port authority said.
"""


@pytest.mark.model
def test_end_to_end_a_new_release_changes_a_watched_answer(
    tmp_path: Path, receiver: Receiver
) -> None:
    """Real parts: `qa serve`, `qa watch add`, `qa import`, `qa rebuild-index`, a webhook."""
    import feedparser

    corpus, index, state = tmp_path / "corpus", tmp_path / "index", tmp_path / "state"
    corpus.mkdir()
    (corpus / f"{SEED_ID}.txt").write_text((SEED_DIR / f"{SEED_ID}.txt").read_text())
    port = _free_port()
    env = {
        **os.environ,
        "QA_INDEX_DIR": str(index),
        "QA_CORPUS": str(corpus),
        "QA_STATE_DIR": str(state),
        "QA_PORT": str(port),
    }

    def qa(*args: str) -> subprocess.CompletedProcess[str]:
        out = subprocess.run(
            [sys.executable, "-m", "qa", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr
        return out

    def get(path: str) -> bytes:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as resp:
            return bytes(resp.read())

    qa("rebuild-index")
    with serving(tmp_path, env, 120):
        question = "How much heroin did customs seize in Operation Lighthouse?"
        added = qa("watch", "add", question, "--webhook", receiver.url).stdout
        secret = added.split("Webhook secret (shown once; verify X-QA-Signature with it): ")[1]
        secret = secret.split()[0]
        (watch,) = json.loads(get("/api/watches"))["watches"]
        assert watch["last"]["abstained"] is True  # nothing about it yet
        (tmp_path / "lighthouse.md").write_text(NEW_RELEASE)
        qa("import", str(tmp_path / "lighthouse.md"))
        rebuilt = qa("rebuild-index").stdout
        assert "Watches: 1 asked, 1 with a new answer, 1 sent to webhooks." in rebuilt
        history = json.loads(get(f"/api/watches/{watch['id']}"))["history"]
        assert [h["kind"] for h in history] == ["first", "changed"]
        assert "900 kilograms" in history[-1]["answer"]["answer"]
        feed = feedparser.parse(get("/watches.atom"))
        (entry,) = feed.entries
        assert "900 kilograms" in entry.content[0].value
        assert "https://example.org/lighthouse" in [link.href for link in entry.links]
        ((headers, body),) = receiver.posts
        assert _verify(secret, headers, body)
        # a rebuild that changes nothing reports nothing
        again = qa("rebuild-index").stdout
        assert "Nothing changed" in again and "Watches" not in again
        assert len(receiver.posts) == 1 and len(feedparser.parse(get("/watches.atom")).entries) == 1
