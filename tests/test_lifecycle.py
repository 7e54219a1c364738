"""The live index survives killed rebuilds, damaged builds and publishing under traffic."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO, SEED_DIR, SEED_FILE, SEED_ID, FakeEncoder, _free_port, doj_lines

from qa import store
from qa.build import rebuild_index
from qa.config import Settings
from qa.live import EngineHolder

pytestmark = pytest.mark.model


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED_FILE, corpus)
    # A few real releases so the build spends time embedding and writing, not only starting.
    lines = doj_lines()[:12]
    (corpus / "doj.jsonl").write_text("\n".join(lines) + "\n")
    return corpus


def _command(corpus: Path, index: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "qa",
        "rebuild-index",
        "--corpus",
        str(corpus),
        "--index",
        str(index),
        *extra,
    ]


def _rebuild(corpus: Path, index: Path) -> None:
    out = subprocess.run(
        _command(corpus, index), cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr


def _ask(index: Path) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa",
            "ask",
            "Which measures target terrorism?",
            "--index",
            str(index),
            "--json",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(out.stdout)


def test_sigkill_at_random_moments_never_breaks_the_live_index(tmp_path: Path) -> None:
    corpus, index = _corpus(tmp_path), tmp_path / "index"
    started = time.monotonic()
    _rebuild(corpus, index)
    full_build = time.monotonic() - started
    live = store.live_build_id(index)
    rng = random.Random(20261128)
    deadline = time.monotonic() + 420  # the test bounds itself
    kills = 0
    while kills < 20 and time.monotonic() < deadline:
        proc = subprocess.Popen(
            _command(corpus, index, "--full"),
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.0, full_build))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        kills += 1
        # Whatever moment the kill hit, a complete build is live and loads.
        current = store.live_build_id(index)
        loaded = store.open_index(index, Settings.from_env(environ={}).model)
        assert loaded.manifest.build_id == current
        assert SEED_ID in loaded.releases
        if current != live:  # the kill came after the publish: that build is complete
            live = current
    # 20 kills take about 10 full builds; on a machine loaded by other work the time box may
    # stop the loop earlier, and every kill made has been checked above.
    assert kills >= 10, f"only {kills} kills in the time box: the machine is too slow"
    assert _ask(index)["sources"][0]["release_id"] == SEED_ID
    _rebuild(corpus, index)
    leftovers = [p.name for p in (index / "builds").iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []


def test_a_damaged_new_build_leaves_the_old_one_serving(built: Settings) -> None:
    holder = EngineHolder(built, FakeEncoder())
    old = holder.get().index.manifest.build_id
    rebuild_index(built, encoder=FakeEncoder(), full=True)
    new = store.live_build_id(built.index_dir)
    with open(built.index_dir / "builds" / new / "vectors.faiss", "r+b") as fh:
        fh.truncate(100)
    engine = holder.get()  # the new build is refused; the last good one keeps answering
    assert engine.index.manifest.build_id == old
    assert holder.problem and "checksum" in holder.problem
    assert not engine.ask("Which measures target terrorism?").answer.abstained


@pytest.mark.parametrize("damage", ["deleted", "empty", "garbage"])
def test_a_damaged_pointer_keeps_the_loaded_build_answering(built: Settings, damage: str) -> None:
    from qa.web import create_app

    client = create_app(built, FakeEncoder()).test_client()
    question = {"question": "Which measures target terrorism?"}
    first = client.post("/api/query", json=question).get_json()
    assert "problem" not in client.get("/api/health").get_json()
    pointer = built.index_dir / "CURRENT"
    good = pointer.read_text()
    if damage == "deleted":
        pointer.unlink()
    else:
        pointer.write_text("" if damage == "empty" else "not-a-build\n")
    answer = client.post("/api/query", json=question)
    assert answer.status_code == 200
    assert answer.get_json()["answer"] == first["answer"]
    health = client.get("/api/health")
    assert health.status_code == 200
    problem = health.get_json()["problem"]
    assert problem.startswith("serving the last good build:") and "CURRENT" in problem
    pointer.write_text(good)
    assert "problem" not in client.get("/api/health").get_json()


def test_serve_on_a_damaged_build_answers_503_with_the_cause(built: Settings) -> None:
    live = built.index_dir / "builds" / store.live_build_id(built.index_dir)
    with open(live / "vectors.faiss", "r+b") as fh:
        fh.truncate(100)
    port = _free_port()
    env = {
        **os.environ,
        "QA_INDEX_DIR": str(built.index_dir),
        "QA_PORT": str(port),
        "QA_MODEL": FakeEncoder.name,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa", "serve", "--workers", "1"],
        cwd=built.index_dir.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                urllib.request.urlopen(url + "/api/health", timeout=5)
            except urllib.error.HTTPError as exc:
                health = exc
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.5)
        assert health.code == 503
        message = json.load(health)["error"]["message"]
        assert "vectors.faiss does not match its checksum" in message
        request = urllib.request.Request(
            url + "/api/query",
            data=json.dumps({"question": "Which measures target terrorism?"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=30)
        assert err.value.code == 503
        assert json.load(err.value)["error"]["message"] == message
        assert proc.poll() is None  # still serving
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()


def test_publishing_under_traffic_fails_no_request(live_server) -> None:
    url, index = live_server
    failures: list[str] = []
    answered = 0
    stop = threading.Event()

    def client() -> None:
        nonlocal answered
        body = json.dumps({"question": "Which measures target terrorism?"}).encode()
        while not stop.is_set():
            request = urllib.request.Request(
                url + "/api/query", data=body, headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as resp:
                    data = json.load(resp)
                    if data["sources"][0]["release_id"] != SEED_ID:
                        failures.append("wrong answer")
                answered += 1
            except OSError as exc:
                failures.append(repr(exc))

    def health() -> str:
        with urllib.request.urlopen(url + "/api/health", timeout=30) as resp:
            return json.load(resp)["index"]["build_id"]

    before = health()
    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        env = {**os.environ, "QA_INDEX_DIR": str(index), "QA_CORPUS": str(SEED_DIR)}
        subprocess.run(
            [sys.executable, "-m", "qa", "rebuild-index", "--full"],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        deadline = time.monotonic() + 60
        while health() == before and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # keep querying the new build a little
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert health() != before
    assert failures == [] and answered > 0
