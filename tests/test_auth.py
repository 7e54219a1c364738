"""Access tokens (QA_API_TOKENS): the 401s, the Bearer token, the page's session cookie, the
per-token rate limits, `qa serve`'s refusal of an open non-loopback address, and the `openai`
client using a token as its API key against a real HTTP server."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Iterator

import hypothesis
import pytest
import schemathesis
from conftest import SEED_ID, FakeEncoder, run_qa
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance
from werkzeug.serving import make_server

from qa import auth
from qa.config import Settings, describe
from qa.openapi import spec
from qa.web import create_app

TOKEN = "tok-" + "a1" * 12  # an unnamed token
OPS_SECRET = "ops-" + "b2" * 12  # written `ops:<secret>` in QA_API_TOKENS
TOKENS = (TOKEN, f"ops:{OPS_SECRET}")
BEARER = {"Authorization": f"Bearer {TOKEN}"}
QUESTION = "Which measures target terrorism?"


@pytest.fixture
def secured(built: Settings) -> Settings:
    return dataclasses.replace(built, api_tokens=TOKENS)


@pytest.fixture
def token_client(secured: Settings, fake_encoder: FakeEncoder):
    return create_app(secured, encoder=fake_encoder).test_client()


def protected_requests(client, headers=None):
    """One request to each route that needs a token, as (name, response)."""
    h = headers or {}
    chat = {"messages": [{"role": "user", "content": QUESTION}]}
    return [
        ("POST /api/query", client.post("/api/query", json={"question": QUESTION}, headers=h)),
        ("GET /api/query", client.get("/api/query?q=terrorism", headers=h)),
        ("GET /api/search", client.get("/api/search?q=terrorism", headers=h)),
        ("GET /api/releases", client.get(f"/api/releases/{SEED_ID}", headers=h)),
        ("GET /api/openapi.json", client.get("/api/openapi.json", headers=h)),
        ("GET /api/watches", client.get("/api/watches", headers=h)),
        ("POST /api/answers", client.post("/api/answers", json={"question": "q"}, headers=h)),
        ("GET /watches.atom", client.get("/watches.atom", headers=h)),
        ("GET /v1/models", client.get("/v1/models", headers=h)),
        ("POST /v1/chat/completions", client.post("/v1/chat/completions", json=chat, headers=h)),
    ]


def assert_refused(response, invalid: bool, what: str = "") -> None:
    assert response.status_code == 401, what
    body = response.get_json()
    assert body == {"error": {"status": 401, "message": body["error"]["message"]}}
    assert body["error"]["message"]
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert ('error="invalid_token"' in challenge) is invalid
    assert "Content-Security-Policy" in response.headers  # the usual headers still apply


def test_without_a_token_every_route_but_health_and_the_page_is_refused(token_client) -> None:
    for name, response in protected_requests(token_client):
        assert_refused(response, invalid=False, what=name)
    assert "Authorization: Bearer" in token_client.get("/v1/models").get_json()["error"]["message"]
    assert_refused(token_client.get("/api/no-such-route"), invalid=False)  # routes stay hidden
    # Open: the health check, and what the page needs to show its sign-in form.
    for path in ("/api/health", "/", "/static/js/signin.js", "/static/style.css"):
        with token_client.get(path) as response:
            assert response.status_code == 200, path
    assert token_client.get("/api/session").get_json() == {"required": True, "signed_in": False}


def test_every_route_needs_a_token_unless_declared_open(token_client) -> None:
    """Routes added later are covered too: only the declared ones are open."""
    app = token_client.application
    opened = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule.replace("<path:filename>", "style.css").replace("<path:release_id>", "x")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            with token_client.open(path, method=method) as response:
                if response.status_code != 401:
                    opened.add((method, rule.rule))
    assert opened == {
        ("GET", "/"),
        ("GET", "/a/<answer_id>"),  # the kept answer's page shell; its data needs the token
        ("GET", "/static/<path:filename>"),
        ("GET", "/api/health"),
        ("GET", "/api/session"),
        ("POST", "/api/session"),  # a 400 here: no body
        ("DELETE", "/api/session"),
    }
    # The OpenAPI document says the same: a 401 on every operation but the open ones.
    document = spec()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path in ("/api/health", "/api/session"):
                assert operation["security"] == [], (path, method)
            else:
                assert "401" in operation["responses"], (path, method)
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


@pytest.mark.parametrize(
    "header",
    [
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer ops:{OPS_SECRET}",  # the name is not part of the token
        "Bearer ops",
        f"Basic {TOKEN}",
        f"Token {TOKEN}",
    ],
)
def test_a_wrong_token_is_refused(token_client, header: str) -> None:
    for name, response in protected_requests(token_client, {"Authorization": header}):
        assert_refused(response, invalid=True, what=name)


def test_the_right_token_opens_the_api_and_the_v1_face(token_client) -> None:
    for headers in (BEARER, {"Authorization": f"bearer  {OPS_SECRET} "}):
        for name, response in protected_requests(token_client, headers):
            assert response.status_code in (200, 201), (name, response.get_json())
    answer = token_client.post("/api/query", json={"question": QUESTION}, headers=BEARER)
    assert answer.get_json()["sources"][0]["release_id"] == SEED_ID
    assert [m["id"] for m in token_client.get("/v1/models", headers=BEARER).json["data"]] == [
        "releases-qa"
    ]
    assert token_client.get("/api/session", headers=BEARER).json["signed_in"] is True


def test_every_token_is_compared_in_constant_time(
    secured: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = auth.Gate(auth.parse_tokens(secured.api_tokens))
    compared: list[tuple[bytes, bytes]] = []
    real = auth.hmac.compare_digest

    def counting(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", counting)
    assert gate.match_token(TOKEN) is gate.holders[0]  # the first one matches...
    assert len(compared) == 2  # ...and the second is compared all the same
    assert all(len(a) == len(b) == 32 for a, b in compared)  # digests: lengths say nothing
    compared.clear()
    assert gate.match_token("nope") is None and len(compared) == 2


def test_sign_in_sets_an_httponly_strict_cookie_that_opens_the_api(token_client) -> None:
    refused = token_client.post("/api/session", json={"token": "wrong" * 5})
    assert_refused(refused, invalid=True)
    assert "Set-Cookie" not in refused.headers
    assert token_client.post("/api/session", json={}).status_code == 400
    assert token_client.post("/api/session", data="token=x").status_code == 400

    signed = token_client.post("/api/session", json={"token": TOKEN})
    assert signed.status_code == 204 and signed.data == b""
    cookie = signed.headers["Set-Cookie"]
    attributes = [a.strip() for a in cookie.split(";")]
    assert attributes[0].startswith("qa_session=")
    assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= set(attributes)
    assert "Secure" not in attributes  # plain http: a Secure cookie would never come back
    value = attributes[0].removeprefix("qa_session=")
    assert TOKEN not in value and TOKEN[4:12] not in value  # not the token, nor a piece of it

    # The test client sends the cookie back, as a browser does.
    for name, response in protected_requests(token_client):
        assert response.status_code in (200, 201), name
    assert token_client.get("/api/session").get_json() == {"required": True, "signed_in": True}

    out = token_client.delete("/api/session")
    assert out.status_code == 204
    assert "qa_session=;" in out.headers["Set-Cookie"] and "Max-Age=0" in out.headers["Set-Cookie"]
    assert_refused(token_client.get("/api/search?q=terrorism"), invalid=False)
    assert token_client.get("/api/session").get_json()["signed_in"] is False


def test_the_cookie_is_secure_over_https(token_client) -> None:
    signed = token_client.post(
        "/api/session", json={"token": OPS_SECRET}, base_url="https://qa.example"
    )
    assert signed.status_code == 204
    assert "Secure" in [a.strip() for a in signed.headers["Set-Cookie"].split(";")]
    assert signed.headers["Set-Cookie"].startswith("qa_session=ops.")  # the holder is named


def test_forged_tampered_and_expired_cookies_are_refused(
    token_client, secured: Settings, fake_encoder: FakeEncoder
) -> None:
    gate = auth.Gate(auth.parse_tokens(secured.api_tokens))
    ops = gate.by_name["ops"]
    genuine = gate.cookie_for(ops)
    name, issued, signature = genuine.split(".")
    forged = [
        f"{name}.{issued}.{'0' * 64}",  # a made-up signature
        f"{name}.{int(issued) + 3600}.{signature}",  # a later issue time, the old signature
        f"{gate.holders[0].name}.{issued}.{signature}",  # another holder's name
        f"{name}.{issued}.{signature[:-1]}",
        TOKEN,  # the raw token is not a session
        "",
        "...",
        gate.cookie_for(ops, now=time.time() - auth.SESSION_SECONDS - 60),  # expired
    ]
    for value in forged:
        token_client.set_cookie("qa_session", value)
        assert_refused(token_client.get("/api/search?q=terrorism"), invalid=True, what=value)
    # A cookie signed with another set of tokens (another deployment) is refused too.
    other = auth.Gate(auth.parse_tokens((f"ops:{'z' * 20}",)))
    token_client.set_cookie("qa_session", other.cookie_for(other.holders[0]))
    assert_refused(token_client.get("/api/search?q=terrorism"), invalid=True)

    # Any worker verifies a cookie another one issued: the key comes from the tokens.
    token_client.set_cookie("qa_session", genuine)
    assert token_client.get("/api/search?q=terrorism").status_code == 200
    second_worker = create_app(secured, encoder=fake_encoder).test_client()
    second_worker.set_cookie("qa_session", genuine)
    assert second_worker.get("/api/search?q=terrorism").status_code == 200


def test_rate_limits_count_per_token(secured: Settings, fake_encoder: FakeEncoder) -> None:
    client = create_app(
        dataclasses.replace(secured, rate_limit="2/minute"), encoder=fake_encoder
    ).test_client()
    ops = {"Authorization": f"Bearer {OPS_SECRET}"}
    # All from the same address (127.0.0.1): each token has its own allowance.
    assert [client.get("/v1/models", headers=BEARER).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert client.get("/v1/models", headers=ops).status_code == 200
    # Requests without a valid token count against the address, refused or not.
    assert [client.get("/v1/models").status_code for _ in range(3)] == [401, 401, 429]
    # Guessing at the sign-in is limited too (the sign-in endpoints have their own allowance).
    guesses = [client.post("/api/session", json={"token": "guess" * 4}) for _ in range(3)]
    assert [r.status_code for r in guesses] == [401, 401, 429]
    assert client.get("/v1/models", headers=ops).status_code == 200


def test_without_tokens_nothing_changes(client) -> None:
    for name, response in protected_requests(client):
        assert response.status_code in (200, 201), name
    assert client.get("/api/session").get_json() == {"required": False, "signed_in": False}
    signed = client.post("/api/session", json={"token": "anything"})
    assert signed.status_code == 204 and "Set-Cookie" not in signed.headers


def test_tokens_from_the_environment() -> None:
    env = {"QA_API_TOKENS": f" {TOKEN}, ops:{OPS_SECRET}\n{'c' * 16} "}
    settings = Settings.from_env(environ=env)
    assert settings.api_tokens == (TOKEN, f"ops:{OPS_SECRET}", "c" * 16)
    holders = auth.parse_tokens(settings.api_tokens)
    assert holders[1].name == "ops"
    assert holders[0].name.startswith("token-") and TOKEN not in repr(holders)
    assert holders[0].name == auth.parse_tokens((TOKEN,))[0].name  # stable across restarts
    assert Settings.from_env(environ={"QA_PUBLIC": "1"}).public is True
    assert Settings.from_env(environ={}).public is False
    shown = {r.variable: r.value for r in describe(env)}
    assert shown["QA_API_TOKENS"] == "(hidden)"  # `qa settings` does not print secrets
    for bad in (("short",), ("é" * 20,), (TOKEN, TOKEN), (f"ops:{TOKEN}", f"ops:{OPS_SECRET}")):
        with pytest.raises(ValueError, match="QA_API_TOKENS") as caught:
            auth.parse_tokens(bad)
        assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.3.2.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.10", False),
        ("qa.example.org", False),
    ],
)
def test_serving_beyond_loopback_needs_tokens_or_public(host: str, loopback: bool) -> None:
    assert auth.is_loopback(host) is loopback
    settings = Settings.from_env(environ={}, host=host)
    problem = auth.exposure_problem(settings)
    assert (problem is None) is loopback
    if problem:
        assert "QA_API_TOKENS" in problem and "--public" in problem
    assert auth.exposure_problem(dataclasses.replace(settings, public=True)) is None
    assert auth.exposure_problem(dataclasses.replace(settings, api_tokens=TOKENS)) is None


def test_qa_serve_refuses_an_open_non_loopback_address(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("QA_API_TOKENS", "QA_PUBLIC")}
    env["QA_INDEX_DIR"] = str(tmp_path / "index")
    out = run_qa("serve", "--host", "0.0.0.0", "--port", "1", env=env, timeout=120)
    assert out.returncode == 2, out.stderr
    assert "Refusing to serve on 0.0.0.0" in out.stderr
    assert "QA_API_TOKENS" in out.stderr and "--public" in out.stderr
    assert not (tmp_path / "index").exists()  # refused before building anything
    short = run_qa("serve", "--host", "0.0.0.0", env={**env, "QA_API_TOKENS": "x"}, timeout=120)
    assert short.returncode == 1 and "shorter than 16 characters" in short.stderr
    assert "--public" in run_qa("serve", "--help").stdout


@pytest.fixture
def http_server(secured: Settings, fake_encoder: FakeEncoder) -> Iterator[str]:
    """The token-protected app behind a real HTTP server (werkzeug, in a thread)."""
    server = make_server("127.0.0.1", 0, create_app(secured, encoder=fake_encoder), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def test_the_openai_client_uses_a_token_as_its_api_key(http_server: str) -> None:
    import openai

    client = openai.OpenAI(base_url=http_server + "/v1", api_key=TOKEN, max_retries=0)
    assert [m.id for m in client.models.list()] == ["releases-qa"]
    completion = client.chat.completions.create(
        model="releases-qa", messages=[{"role": "user", "content": QUESTION}]
    )
    assert completion.model_extra["sources"][0]["release_id"] == SEED_ID
    streamed = client.chat.completions.create(
        model="releases-qa", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)

    wrong = openai.OpenAI(base_url=http_server + "/v1", api_key="not-the-token", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        wrong.models.list()
    assert caught.value.status_code == 401
    assert caught.value.body == {"status": 401, "message": caught.value.body["message"]}


@pytest.fixture
def secured_schema(secured: Settings, fake_encoder: FakeEncoder):
    schema = schemathesis.openapi.from_dict(spec())  # /api/openapi.json itself needs a token
    schema.app = create_app(secured, encoder=fake_encoder)
    return schema


@schemathesis.pytest.from_fixture("secured_schema").parametrize()
@hypothesis.settings(
    max_examples=10, deadline=None, suppress_health_check=list(hypothesis.HealthCheck)
)
def test_a_secured_server_answers_as_its_openapi_document_says(case) -> None:
    """Without a token, every operation answers as the document says (a 401 where it declares
    one, the open ones as usual), every 4xx in the one error shape."""
    assert "Authorization" not in (case.headers or {})
    response = case.call()
    if case.path not in ("/api/health", "/api/session"):
        assert response.status_code == 401, (case.method, case.path)
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance])
    if 400 <= response.status_code < 500:
        assert response.json()["error"]["status"] == response.status_code
