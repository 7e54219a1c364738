"""Against a real `qa serve` (gunicorn, real model, index built on start)."""

from __future__ import annotations

import json
import urllib.request

import pytest
from conftest import SEED_ID, SEED_TITLE


def test_served_api_answers_with_citations(live_server_url: str) -> None:
    request = urllib.request.Request(
        live_server_url + "/api/query",
        data=json.dumps({"question": "Which measures target terrorism?"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        data = json.load(resp)
        assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]
    bullets = [s for s in data["sentences"] if s["kind"] == "bullet"]
    assert len(bullets) == 3 and all(s["citations"] == [1] for s in bullets)
    assert data["sources"][0]["release_id"] == SEED_ID
    assert data["sources"][0]["date"] == "2023-02-09"


def test_openai_client_against_the_server(live_server_url: str) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=live_server_url + "/v1", api_key="unused", max_retries=0)
    assert [m.id for m in client.models.list()] == ["releases-qa"]
    completion = client.chat.completions.create(
        model="releases-qa",
        messages=[{"role": "user", "content": "Which measures target terrorism?"}],
    )
    text = completion.choices[0].message.content or ""
    assert "intelligence-led screening operations" in text
    assert f"[1] {SEED_TITLE} (2023-02-09)" in text
    assert completion.model_extra["sources"][0]["release_id"] == SEED_ID

    stream = client.chat.completions.create(
        model="releases-qa",
        messages=[
            {"role": "user", "content": "Who is the Secretary General of INTERPOL?"},
            {"role": "assistant", "content": "Jürgen Stock."},
            {"role": "user", "content": "Which measures target terrorism?"},
        ],
        stream=True,
    )
    pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
    assert len(pieces) > 3
    assert "".join(pieces).count("\n• ") == 3


def test_slow_clients_do_not_hold_the_server(live_server_url: str) -> None:
    """Twice as many clients as the default server has threads (2 workers x 4) send headers
    and half a body, then stall; normal requests still get their answers promptly."""
    import socket
    import time
    from urllib.parse import urlsplit

    address = urlsplit(live_server_url)
    body = json.dumps({"question": "Which measures target terrorism?"}).encode()
    stalled = []
    try:
        for _ in range(16):
            s = socket.create_connection((address.hostname, address.port), timeout=10)
            s.sendall(
                b"POST /api/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body[: len(body) // 2]
            )
            stalled.append(s)
        time.sleep(1.0)  # let every stalled request reach the server's workers
        waits = []
        for _ in range(6):
            started = time.monotonic()
            request = urllib.request.Request(
                live_server_url + "/api/query",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=30) as resp:
                assert json.load(resp)["sources"][0]["release_id"] == SEED_ID
            waits.append(time.monotonic() - started)
        # A bound on behaviour, not a benchmark: a starved server makes these wait for
        # the stalled clients (forever, or until a 15 s+ timeout), not for their own answer.
        assert max(waits) < 5.0, waits
    finally:
        for s in stalled:
            s.close()


def test_what_gunicorn_refuses_is_json_too(live_server_url: str) -> None:
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(live_server_url + "/api/query?q=" + "a" * 5000, timeout=30)
    assert err.value.code == 414
    assert err.value.headers["Content-Type"] == "application/json"
    body = json.load(err.value)
    assert body["error"]["status"] == 414
    assert body["error"]["message"].startswith("the URL is too long")
    request = urllib.request.Request(live_server_url + "/api/query", method="TRACE")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=30)
    assert err.value.code == 405
    assert set(err.value.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert json.load(err.value)["error"]["status"] == 405
