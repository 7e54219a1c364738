from __future__ import annotations

import re
from typing import Any

import jsonschema
from conftest import SEED_ID

from qa.openapi import spec


def _routes(app) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/", "/v1/")):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        out |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return out


def test_every_route_is_described_and_every_description_routed(app) -> None:
    described = {(p, m) for p, ops in spec()["paths"].items() for m in ops}
    assert _routes(app) == described


def _check(document: dict[str, Any], path: str, method: str, response) -> None:
    ops = document["paths"][path][method]
    declared = ops["responses"]
    assert str(response.status_code) in declared, (path, method, response.status_code)
    schema = declared[str(response.status_code)]["content"]["application/json"]["schema"]
    jsonschema.validate(response.get_json(), schema)


def test_responses_match_the_schemas(client) -> None:
    document = client.get("/api/openapi.json").get_json()
    assert document == spec()
    q = "Which measures target terrorism?"
    cases = [
        ("/api/query", "post", client.post("/api/query", json={"question": q})),
        ("/api/query", "post", client.post("/api/query", json={"question": "Quelle heure?"})),
        ("/api/query", "post", client.post("/api/query", json={"question": ""})),
        ("/api/query", "get", client.get("/api/query?q=terrorism")),
        ("/api/search", "get", client.get("/api/search?q=terrorism&k=3")),
        ("/api/search", "get", client.get("/api/search?k=3")),
        ("/api/releases/{release_id}", "get", client.get(f"/api/releases/{SEED_ID}")),
        ("/api/releases/{release_id}", "get", client.get("/api/releases/none")),
        ("/api/health", "get", client.get("/api/health")),
        ("/v1/models", "get", client.get("/v1/models")),
        (
            "/v1/chat/completions",
            "post",
            client.post(
                "/v1/chat/completions", json={"messages": [{"role": "user", "content": q}]}
            ),
        ),
    ]
    for path, method, response in cases:
        _check(document, path, method, response)
