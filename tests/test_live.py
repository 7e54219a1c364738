"""Against a real `qa serve` (gunicorn, real model, index built on start)."""

from __future__ import annotations

import json
import urllib.request

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
