"""Shared fixtures: a deterministic fake encoder, small corpora, an app, and a live server."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser

from qa.build import rebuild_index
from qa.config import Settings
from qa.web import create_app

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
# 138 DOJ releases (see tests/data/README.md): the tests never read ../shared or corpus/.
DOJ = DATA / "releases.jsonl.gz"
HOSTILE_DIR = DATA / "hostile"
SEED_ID = "interpol-asian-conference-2023"
SEED_DIR = DATA / "corpus"
SEED_FILE = SEED_DIR / f"{SEED_ID}.txt"
# The composer's rules are tested with the hand weights the fitted evidence model replaced,
# so that what they test does not move when the model is trained again.
HAND_WEIGHTS = DATA / "evidence-hand.json"


def hand_threshold(score: float) -> float:
    """Return the confidence the hand weights give a sentence of ``score`` (their scale)."""
    from qa.evidence import Scorer

    return Scorer.load(HAND_WEIGHTS).probability(score)


SEED_TITLE = "INTERPOL Asian Conference calls for greater cross-sector cooperation"
TOKEN = re.compile(r"\w+|[^\w\s]")


def doj_lines() -> list[str]:
    """Return the fixture's DOJ releases, one JSON line each."""
    return gzip.decompress(DOJ.read_bytes()).decode().splitlines()


def run_qa(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run the ``qa`` command line in a fresh interpreter and capture what it prints."""
    return subprocess.run(
        [sys.executable, "-m", "qa", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=timeout,
    )


class FakeEncoder:
    """A deterministic bag-of-words encoder: shared words make vectors similar."""

    name = "fake-bow"
    dimension = 256
    max_tokens = 256

    def __init__(self) -> None:
        self.encoded = 0  # texts through ``encode``
        self.chunks_embedded = 0  # texts through ``encode_spans`` (what a build embeds)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        self.encoded += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]{3,}", text.lower()):
                bucket = int(hashlib.md5(word[:6].encode()).hexdigest(), 16) % self.dimension
                out[row, bucket] += 1.0
            out[row] /= max(np.linalg.norm(out[row]), 1e-9)
        return out

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(TOKEN.findall(t)) for t in texts]

    def encode_spans(self, texts, spans, batch_size: int = 32):
        self.chunks_embedded += len(texts)
        pairs = zip(texts, spans, strict=True)
        pieces = [[text[s:e] for s, e in text_spans] for text, text_spans in pairs]
        return self.encode(texts), [self.encode(p) for p in pieces]


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A small corpus: the INTERPOL seed plus a JSONL of three other releases."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED_FILE, corpus / f"{SEED_ID}.txt")
    records = [
        {
            "id": 101,
            "title": "Company Pleads Guilty to Bribing Officials in Nigeria",
            "date": "2009-02-11T00:00:00-05:00",
            "url": "https://example.gov/101",
            "body": "WASHINGTON A construction company pleaded guilty today to bribing Nigerian "
            "government officials. The company agreed to pay a $402 million criminal fine."
            "\n\nThe bribes were paid through consultants in Gibraltar and Japan.",
        },
        {
            "id": 102,
            "title": "Wildlife Trafficker Sentenced for Smuggling Rhinoceros Horns",
            "date": "2016-05-20",
            "url": "https://example.gov/102",
            "body": "A man was sentenced to 70 months in prison for smuggling rhinoceros horns and "
            "elephant ivory from the United States to China.\n\nHe sold the horns through "
            "a network of dealers in New York and Los Angeles.",
        },
        {
            "id": 103,
            "title": "Hacker Extradited from Malaysia for Supporting ISIL",
            "date": "2016-01-28",
            "url": "https://example.gov/103",
            "body": "A citizen of Kosovo was extradited from Malaysia to face charges of providing "
            "material support to ISIL.\n\nHe stole personal data of US service members and "
            "passed it to ISIL.",
        },
    ]
    import json

    (corpus / "doj.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return corpus


@pytest.fixture
def settings(tmp_path: Path, corpus_dir: Path) -> Settings:
    return Settings.from_env(
        environ={},
        corpus=(corpus_dir,),
        index_dir=tmp_path / "index",
        model=FakeEncoder.name,
        evidence_weights=HAND_WEIGHTS,
        abstain_below=hand_threshold(0.2),
    )


@pytest.fixture
def built(settings: Settings, fake_encoder: FakeEncoder) -> Settings:
    rebuild_index(settings, encoder=fake_encoder)
    return settings


def doj_settings(home: Path, index: str = "index") -> Settings:
    """Settings for the fixture's 138 DOJ releases and the INTERPOL one, copied into
    ``home/corpus`` (once), indexed into ``home/<index>`` with the fake encoder."""
    corpus = home / "corpus"
    if not corpus.is_dir():
        corpus.mkdir()
        shutil.copy(DOJ, corpus / "doj.jsonl.gz")
        shutil.copy(SEED_FILE, corpus)
    return Settings.from_env(
        environ={}, corpus=(corpus,), index_dir=home / index, model=FakeEncoder.name
    )


@pytest.fixture(scope="session")
def doj_built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, FakeEncoder]:
    """An index of the fixture's 138 DOJ releases and the INTERPOL one (fake encoder)."""
    settings = doj_settings(tmp_path_factory.mktemp("doj"))
    encoder = FakeEncoder()
    rebuild_index(settings, encoder=encoder)
    return settings, encoder


@pytest.fixture
def app(built: Settings, fake_encoder: FakeEncoder):
    return create_app(built, encoder=fake_encoder)


@pytest.fixture
def client(app):
    return app.test_client()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless Chromium per test module: Debian's, driven by Playwright (nothing may
    download a browser of its own)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def serving(home: Path, env: dict[str, str], seconds: float = 240) -> Iterator[str]:
    """Run `qa serve` in ``home`` with ``env`` (``QA_PORT`` set), its output in
    ``home/serve.log``; yield its URL once it answers its health check, stop it after."""
    url = f"http://127.0.0.1:{env['QA_PORT']}"
    log_path = home / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "qa", "serve"],
            cwd=home,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + seconds
        try:
            while not _answers(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError("qa serve did not come up:\n" + log_path.read_text()[-3000:])
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/api/health", timeout=5) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
def live_server_url(live_server: tuple[str, Path]) -> str:
    return live_server[0]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real `qa serve` (real model, gunicorn) over the repo's corpus plus tests/data/hostile/
    (one release with script tags, an <img onerror> and javascript: URLs); it builds the index.

    Yields its URL and its index folder.
    """
    index_dir = tmp_path_factory.mktemp("live") / "index"
    port = _free_port()
    env = {
        **os.environ,
        "QA_INDEX_DIR": str(index_dir),
        "QA_CORPUS": os.pathsep.join([str(SEED_DIR), str(HOSTILE_DIR)]),
        "QA_PORT": str(port),
    }
    with serving(index_dir.parent, env) as url:
        yield url, index_dir
