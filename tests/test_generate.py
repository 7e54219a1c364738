"""The optional generative backend against a local stub of an OpenAI-compatible server."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import SEED_ID, FakeEncoder

from qa import store
from qa.config import Settings
from qa.engine import Engine
from qa.payloads import result_json
from qa.web import create_app

REPLIES = {
    "good": "Three measures were agreed [1]. They include biometrics in INTERPOL databases [1].",
    "uncited": "Three measures were agreed, including biometrics.",
    "invalid": "Three measures were agreed [7].",
    "mixed": "Three measures were agreed [1]. Something else entirely [9].",
}


class Stub(BaseHTTPRequestHandler):
    mode = "good"
    requests: list[dict] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Stub.requests.append(body)
        mode = Stub.mode
        if mode == "slow":
            time.sleep(1.5)
        if mode == "500":
            self.send_response(500)
            self.end_headers()
            return
        if body.get("stream"):
            self._stream(mode)
            return
        payload = (
            b"not json"
            if mode == "malformed"
            else json.dumps(
                {"choices": [{"message": {"role": "assistant", "content": REPLIES.get(mode, "")}}]}
            ).encode()
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _stream(self, mode: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        text = REPLIES["good" if mode in ("good", "broken_stream") else mode]
        words = text.split(" ")
        for n, word in enumerate(words):
            if mode == "broken_stream" and n == 3:
                self.wfile.write(b"data: {this is not json\n\n")
                self.wfile.flush()
                return
            delta = {
                "choices": [{"delta": {"content": word + (" " if n < len(words) - 1 else "")}}]
            }
            self.wfile.write(f"data: {json.dumps(delta)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # the client hung up on a slow reply on purpose


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    server = QuietServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _engine(settings: Settings, url: str, timeout: float = 5.0) -> Engine:
    settings = dataclasses.replace(settings, llm_url=url, llm_model="stub", llm_timeout=timeout)
    return Engine(settings, store.open_index(settings.index_dir, FakeEncoder.name), FakeEncoder())


QUESTION = "Which measures target terrorism?"


def test_the_model_writes_from_the_numbered_passages(built: Settings, stub_url: str) -> None:
    Stub.mode, Stub.requests = "good", []
    result = _engine(built, stub_url).ask(QUESTION)
    assert result.generated.used and result.generated.fallback_reason is None
    assert result.answer.text == REPLIES["good"]
    assert [s.citations for s in result.answer.sentences] == [(1,), (1,)]
    prompt = Stub.requests[-1]["messages"][-1]["content"]
    assert "[1] INTERPOL Asian Conference" in prompt and QUESTION in prompt
    assert result.answer.sources[0].release.id == SEED_ID
    assert result_json(result)["generator"] == {
        "used": True,
        "model": "stub",
        "fallback_reason": None,
    }


def test_citations_of_unlisted_sources_are_dropped(built: Settings, stub_url: str) -> None:
    Stub.mode = "mixed"
    result = _engine(built, stub_url).ask(QUESTION)
    assert result.generated.used
    assert "[9]" not in result.answer.text and "[1]" in result.answer.text
    assert all(set(s.citations) <= {1} for s in result.answer.sentences)


@pytest.mark.parametrize(
    "mode, reason",
    [
        ("uncited", "cited none of the listed sources"),
        ("invalid", "cited none of the listed sources"),
        ("malformed", "malformed"),
        ("500", "did not answer"),
        ("slow", "did not answer"),
    ],
)
def test_every_failure_falls_back_to_the_extractive_answer(
    built: Settings, stub_url: str, mode: str, reason: str
) -> None:
    Stub.mode = mode
    engine = _engine(built, stub_url, timeout=0.5)
    extractive = engine.extract(QUESTION).answer
    result = engine.ask(QUESTION)
    assert not result.generated.used and reason in result.generated.fallback_reason
    assert result.answer == extractive
    assert result.answer.text.count("\n• ") == 3


def test_connection_refused_falls_back(built: Settings) -> None:
    result = _engine(built, "http://127.0.0.1:9/v1", timeout=0.5).ask(QUESTION)
    assert not result.generated.used and "did not answer" in result.generated.fallback_reason
    assert result.answer.text.count("\n• ") == 3


def test_abstentions_are_not_sent_to_the_model(built: Settings, stub_url: str) -> None:
    Stub.mode, Stub.requests = "good", []
    result = _engine(built, stub_url).ask("Quelle heure est-il maintenant?")
    assert result.answer.abstained and Stub.requests == []
    assert "abstained" in result.generated.fallback_reason


def _events(resp) -> list[tuple[str, dict]]:
    out = []
    for block in resp.get_data(as_text=True).split("\n\n"):
        if block.strip():
            lines = dict(line.split(": ", 1) for line in block.splitlines())
            out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_streaming_through_the_api(built: Settings, stub_url: str, fake_encoder) -> None:
    Stub.mode = "good"
    settings = dataclasses.replace(built, llm_url=stub_url, llm_model="stub")
    client = create_app(settings, encoder=fake_encoder).test_client()
    resp = client.post("/api/query", json={"question": QUESTION, "stream": True})
    assert resp.mimetype == "text/event-stream"
    events = _events(resp)
    deltas = [data["text"] for kind, data in events if kind == "delta"]
    assert len(deltas) > 3 and "".join(deltas) == REPLIES["good"]
    kind, final = events[-1]
    assert kind == "answer" and final["generator"]["used"] is True
    assert final["answer"] == REPLIES["good"]


def test_a_stream_broken_midway_ends_with_the_extractive_answer(
    built: Settings, stub_url: str, fake_encoder
) -> None:
    Stub.mode = "broken_stream"
    settings = dataclasses.replace(built, llm_url=stub_url, llm_model="stub")
    client = create_app(settings, encoder=fake_encoder).test_client()
    events = _events(client.post("/api/query", json={"question": QUESTION, "stream": True}))
    assert [k for k, _ in events[:-1]] == ["delta"] * 3
    final = events[-1][1]
    assert final["generator"]["used"] is False
    assert "malformed" in final["generator"]["fallback_reason"]
    assert final["answer"].count("\n• ") == 3


def test_streaming_without_a_model_sends_the_extractive_answer(client) -> None:
    events = _events(client.post("/api/query", json={"question": QUESTION, "stream": True}))
    assert [k for k, _ in events] == ["delta", "answer"]
    assert events[0][1]["text"] == events[1][1]["answer"]
    assert events[1][1]["generator"] is None
