from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, SEED_ID, SEED_TITLE, FakeEncoder

from qa.config import Settings
from qa.evaluation import load_questions
from qa.web import create_app


def _error(resp, status: int) -> str:
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["error"]["status"] == status
    assert body["error"]["message"]
    return body["error"]["message"]


def test_query_returns_a_cited_answer(client) -> None:
    resp = client.post("/api/query", json={"question": "Which measures target terrorism?"})
    assert resp.status_code == 200
    data = resp.get_json()
    assert set(data) >= {"answer", "sentences", "sources", "abstained", "query", "timings_ms"}
    assert data["abstained"] is False
    source = data["sources"][0]
    assert (source["n"], source["release_id"], source["title"], source["date"]) == (
        1,
        SEED_ID,
        SEED_TITLE,
        "2023-02-09",
    )
    assert {"passage", "highlights", "score", "url"} <= set(source)
    assert [s["kind"] for s in data["sentences"]].count("bullet") == 3
    assert data["query"] == {
        "text": "Which measures target terrorism?",
        "filters": {},
        "dates": None,
    }
    assert data["timings_ms"]["total"] >= data["timings_ms"]["retrieve"]


def test_query_with_filters_and_history(client) -> None:
    resp = client.post(
        "/api/query",
        json={
            "question": "Where did he sell them?",
            "k": 3,
            "history": [{"role": "user", "content": "Who smuggled rhinoceros horns?"}],
            "filters": {"date_from": "2016-01-01", "date_to": "2016-12-31"},
        },
    )
    data = resp.get_json()
    assert resp.status_code == 200
    assert data["query"]["filters"] == {"date_from": "2016-01-01", "date_to": "2016-12-31"}
    assert "rhinoceros" in data["query"]["text"]
    assert all(s["date"].startswith("2016") for s in data["sources"])


def test_get_query_and_search(client) -> None:
    data = client.get("/api/query?q=Which+measures+target+terrorism%3F").get_json()
    assert data["sources"][0]["release_id"] == SEED_ID
    hits = client.get("/api/search?q=rhinoceros+horns&k=2").get_json()["hits"]
    assert len(hits) == 2 and hits[0]["release_id"] == "102"
    assert hits[0]["score"] >= hits[1]["score"]
    assert {"release_id", "chunk_id", "title", "date", "text", "score"} <= set(hits[0])
    filtered = client.get("/api/search?q=rhinoceros&date_to=2010-01-01").get_json()["hits"]
    assert {h["release_id"] for h in filtered} <= {"101"}
    # the dates a question names filter a search as they filter an answer, and it says so
    since = client.get("/api/search?q=rhinoceros+horns+since+2016").get_json()
    assert since["hits"] and all(h["date"] >= "2016-01-01" for h in since["hits"])
    assert since["query"]["filters"] == {"date_from": "2016-01-01"}
    assert since["query"]["dates"]["applied_as"] == "filter"


def test_release_and_health(client) -> None:
    data = client.get(f"/api/releases/{SEED_ID}").get_json()
    assert data["title"] == SEED_TITLE and "Jürgen Stock" in data["text"]
    health = client.get("/api/health").get_json()
    assert health["status"] == "ok"
    assert health["index"]["releases"] == 4 and health["index"]["model"] == FakeEncoder.name
    _error(client.get("/api/releases/nope"), 404)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"data": "{not json", "content_type": "application/json"}, "must be JSON"),
        (
            {"data": "question=hi", "content_type": "application/x-www-form-urlencoded"},
            "must be JSON",
        ),
        ({"json": ["a list"]}, "JSON object"),
        ({"json": {}}, "`question` is required"),
        ({"json": {"question": "   "}}, "`question` is required"),
        ({"json": {"question": 42}}, "`question` is required"),
        ({"json": {"question": "x" * 1001}}, "limit is 1000"),
        ({"json": {"question": "q", "k": 0}}, "`k` must be"),
        ({"json": {"question": "q", "k": 51}}, "`k` must be"),
        ({"json": {"question": "q", "k": "many"}}, "`k` must be"),
        ({"json": {"question": "q", "k": True}}, "`k` must be"),
        ({"json": {"question": "q", "history": "no"}}, "`history` must be"),
        ({"json": {"question": "q", "history": [{"role": "bot", "content": "x"}]}}, "history[0]"),
        (
            {"json": {"question": "q", "history": [{"role": "user", "content": "x"}] * 21}},
            "limit is 20",
        ),
        ({"json": {"question": "q", "filters": {"date_from": "yesterday"}}}, "date like"),
        ({"json": {"question": "q", "filters": {"colour": "red"}}}, "unknown filter"),
        ({"json": {"question": "q", "filters": {"date_from": "20200102"}}}, "date like"),
        ({"json": {"question": "q", "k": "5"}}, "`k` must be"),
        ({"json": {"question": "q", "k": 5.5}}, "`k` must be"),
        ({"json": {"question": "q", "stream": {}}}, "`stream` must be true or false"),
        ({"json": {"question": "q", "history": None}}, "`history` must be"),
        ({"json": {"question": "q", "history": {}}}, "`history` must be"),
        ({"json": {"question": "\u0085\u001c\ufeff "}}, "`question` is required"),
    ],
)
def test_bad_queries_get_a_json_400(client, kwargs, fragment) -> None:
    assert fragment in _error(client.post("/api/query", **kwargs), 400)


def test_what_json_schema_allows_is_accepted(client) -> None:
    """The OpenAPI document and the server agree (tests/test_fuzz.py checks it broadly)."""
    reply = client.post(
        "/api/query",
        json={"question": "q", "k": 3.0, "filters": {"date_from": "2020-01-02", "date_to": ""}},
    )
    assert reply.status_code == 200
    reply = client.post(
        "/api/query",
        json={"question": "q", "filters": {"date_from": "2020-01-02", "date_to": "2020-01-01"}},
    )
    assert reply.status_code == 200  # the ends given the wrong way round: swapped, and said
    assert reply.get_json()["query"]["filters"] == {
        "date_from": "2020-01-01",
        "date_to": "2020-01-02",
    }
    assert client.post("/api/query", json={"question": "q", "filters": None}).status_code == 200
    allow = client.open("/api/query", method="TRACE")
    assert allow.status_code == 405 and set(allow.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_other_errors_are_json(client) -> None:
    assert "no such endpoint" in _error(client.get("/api/nothing"), 404)
    assert "not allowed" in _error(client.delete("/api/query"), 405)
    assert "too large" in _error(
        client.post("/api/query", data="x" * 70_000, content_type="application/json"), 413
    )
    assert "`q` is required" in _error(client.get("/api/search"), 400)
    assert "`k` must be" in _error(client.get("/api/search?q=x&k=-1"), 400)
    assert "`q` is required" in _error(client.get("/api/query"), 400)


def test_no_index_is_a_503_with_the_command(tmp_path: Path) -> None:
    settings = Settings.from_env(environ={}, index_dir=tmp_path / "none", model=FakeEncoder.name)
    client = create_app(settings, encoder=FakeEncoder()).test_client()
    for resp in (
        client.post("/api/query", json={"question": "hello?"}),
        client.get("/api/health"),
        client.get("/api/search?q=x"),
    ):
        assert "qa rebuild-index" in _error(resp, 503)


def test_unexpected_failure_is_a_json_500(app, client, monkeypatch) -> None:
    holder = app.extensions["qa"]

    def boom():
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(holder, "get", boom)
    app.logger.disabled = True
    assert "internal error" in _error(client.get("/api/health"), 500)


def test_page_and_security_headers(client, built: Settings) -> None:
    with client.get("/") as resp:
        assert resp.status_code == 200 and b"<html" in resp.data.lower()
        csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    with client.get("/static/js/main.js") as script:
        # module scripts load only when served as JavaScript (nosniff)
        assert script.status_code == 200 and script.mimetype == "text/javascript"


def test_openai_chat_completion(client) -> None:
    models = client.get("/v1/models").get_json()
    assert models["data"][0]["id"] == "releases-qa"
    resp = client.post(
        "/v1/chat/completions",
        json={
            "model": "releases-qa",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Which measures target terrorism?"},
            ],
        },
    )
    data = resp.get_json()
    text = data["choices"][0]["message"]["content"]
    assert text.count("\n• ") == 3 and "[1]" in text
    assert f"[1] {SEED_TITLE} (2023-02-09)" in text
    assert data["sources"][0]["release_id"] == SEED_ID


def test_openai_streaming_sends_chunks_then_done(client) -> None:
    import json

    resp = client.post(
        "/v1/chat/completions",
        json={
            "messages": [{"role": "user", "content": "Which measures target terrorism?"}],
            "stream": True,
        },
    )
    assert resp.mimetype == "text/event-stream"
    events = [e for e in resp.get_data(as_text=True).split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text.count("\n• ") == 3
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["sources"][0]["release_id"] == SEED_ID


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"messages": []}, "non-empty list"),
        ({"messages": [{"role": "assistant", "content": "hi"}]}, "last message"),
        ({"messages": [{"role": "user", "content": 5}]}, "must be text"),
        ({"messages": "hello"}, "non-empty list"),
        # The rules of CHAT_RULES in the OpenAPI document, which JSON Schema cannot state:
        ({"messages": [{"role": "user", "content": " "}]}, "`question` is required"),
        ({"messages": [{"role": "user", "content": "x" * 1001}]}, "limit is 1000"),
        ({"messages": [{"role": "system", "content": "Be brief."}]}, "last message"),
        ({"messages": [{"role": "user", "content": "\ud800"}]}, "not valid text"),
        ({"messages": [{"role": "user", "content": ["text"]}]}, "objects with a `type`"),
        ({"messages": [{"role": "user", "content": "q"}], "stream": "yes"}, "`stream` must"),
        ({"messages": [{"role": "user", "content": "q"}], "model": 4}, "`model` must"),
    ],
)
def test_openai_bad_requests(client, body, fragment) -> None:
    assert fragment in _error(client.post("/v1/chat/completions", json=body), 400)


def test_optional_rate_limit_answers_429_in_json(built: Settings, fake_encoder) -> None:
    import dataclasses

    limited = create_app(dataclasses.replace(built, rate_limit="2/minute"), encoder=fake_encoder)
    client = limited.test_client()
    assert client.get("/api/health").status_code == 200
    assert client.get("/api/health").status_code == 200
    assert "too many requests" in _error(client.get("/api/health"), 429)


@pytest.fixture(scope="module")
def doj_app(doj_built):
    """An app over the fixture's 138 DOJ releases and the INTERPOL one (fake encoder)."""
    settings, encoder = doj_built
    return create_app(settings, encoder=encoder)


def test_answers_are_composed_from_the_passages_search_returns(doj_app, monkeypatch) -> None:
    """`/api/search` and `/api/query` run one search: the composer gets exactly its passages,
    in its order, so what `qa eval` measures of search is what answers are built from."""
    engine = doj_app.extensions["qa"].get()
    seen: list[list[str]] = []
    compose = engine.composer.compose

    def spy(q, hits, *args, **kwargs):
        seen.append([h.chunk.id for h in hits])
        return compose(q, hits, *args, **kwargs)

    monkeypatch.setattr(engine.composer, "compose", spy)
    client = doj_app.test_client()
    questions = [q.question for q in load_questions(REPO / "bench" / "questions" / "dev.jsonl")]
    for question in questions[:40]:
        searched = client.get("/api/search", query_string={"q": question, "k": 8}).get_json()
        answered = client.post("/api/query", json={"question": question, "k": 8}).get_json()
        assert seen.pop() == [h["chunk_id"] for h in searched["hits"]], question
        assert 0.0 <= answered["confidence"] <= 1.0
        ranked = {h["release_id"] for h in searched["hits"]}
        assert {s["release_id"] for s in answered["sources"]} <= ranked, question


@pytest.mark.parametrize("path", ["/api/query", "/v1/chat/completions"])
def test_json_nested_past_what_the_parser_follows_is_a_json_400(client, path) -> None:
    deep = "[" * 5000 + "]" * 5000
    resp = client.post(path, data=deep, content_type="application/json")
    assert "nested too deeply" in _error(resp, 400)


@pytest.mark.parametrize("stream", [False, True])
def test_a_lone_surrogate_is_a_json_400(client, stream) -> None:
    body = json.dumps({"question": "terror \ud800 ism", "stream": stream})  # "\\ud800" in JSON
    resp = client.post("/api/query", data=body, content_type="application/json")
    assert "lone surrogate" in _error(resp, 400)
    history = json.dumps({"question": "x?", "history": [{"role": "user", "content": "a \udfff"}]})
    resp = client.post("/api/query", data=history, content_type="application/json")
    assert "history[0].content" in _error(resp, 400)


def test_v1_message_parts_whose_text_is_not_a_string_are_a_json_400(client) -> None:
    body = {
        "model": "releases-qa",
        "messages": [{"role": "user", "content": [{"type": "text", "text": 42}]}],
    }
    assert "must be a string" in _error(client.post("/v1/chat/completions", json=body), 400)
