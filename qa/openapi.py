"""The OpenAPI description of the HTTP API, served at `/api/openapi.json`.

Kept in step with the routes by a test (every route described, every description routed) and
with the responses by validating real responses against these schemas.
"""

from __future__ import annotations

from typing import Any

from qa import __version__


def _record(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object schema whose every property is required unless named ``optional``."""
    required = [name for name in properties if name not in optional]
    return {"type": "object", "required": required, "properties": properties}


NULLABLE_STRING = {"type": ["string", "null"]}
STRING = {"type": "string"}
NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
ERROR = _record({"error": _record({"status": INTEGER, "message": STRING})})
RELEASE_REF = _record(
    {
        "release_id": STRING,
        "title": STRING,
        "date": NULLABLE_STRING,
        "url": NULLABLE_STRING,
        "source": NULLABLE_STRING,
    }
)
FILTERS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "date_from": {"type": ["string", "null"], "format": "date"},
        "date_to": {"type": ["string", "null"], "format": "date"},
        "source": NULLABLE_STRING,
    },
}
TURN = _record({"role": {"enum": ["user", "assistant"]}, "content": STRING})
QUERY_REQUEST = _record(
    {
        "question": {"type": "string", "minLength": 1, "maxLength": 1000},
        "history": {"type": "array", "items": TURN, "maxItems": 20},
        "k": {"type": "integer", "minimum": 1, "maximum": 50},
        "filters": FILTERS,
        "stream": {"type": "boolean"},
    },
    optional=("history", "k", "filters", "stream"),
)
# how a question was read: the text searched with, the filters applied, the dates it names
QUERY_READING = _record({"text": STRING, "filters": FILTERS, "dates": {"type": ["object", "null"]}})
SENTENCE = _record(
    {
        "text": STRING,
        "citations": {"type": "array", "items": INTEGER},
        "kind": {"enum": ["sentence", "lead", "bullet"]},
    }
)
SOURCE = _record(
    {
        "n": INTEGER,
        "release_id": STRING,
        "title": STRING,
        "date": NULLABLE_STRING,
        "url": NULLABLE_STRING,
        "source": NULLABLE_STRING,
        "passage": STRING,
        "highlights": {
            "type": "array",
            "items": {"type": "array", "items": INTEGER, "minItems": 2, "maxItems": 2},
        },
        "score": NUMBER,
    }
)
ANSWER = _record(
    {
        "question": STRING,
        "answer": STRING,
        "sentences": {"type": "array", "items": SENTENCE},
        "sources": {"type": "array", "items": SOURCE},
        "abstained": {"type": "boolean"},
        "confidence": NUMBER,
        "generator": {"type": ["object", "null"]},
        "message": NULLABLE_STRING,
        "suggestions": {"type": "array", "items": RELEASE_REF},
        "query": QUERY_READING,
        "timings_ms": {"type": "object", "additionalProperties": NUMBER},
    }
)
HIT = _record(
    {
        "release_id": STRING,
        "chunk_id": STRING,
        "title": STRING,
        "date": NULLABLE_STRING,
        "url": NULLABLE_STRING,
        "text": STRING,
        "score": NUMBER,
        "similarity": NUMBER,
    }
)
HITS = _record({"hits": {"type": "array", "items": HIT}, "query": QUERY_READING})
RELEASE = _record(
    {
        **RELEASE_REF["properties"],
        "place": NULLABLE_STRING,
        "tags": {"type": "array", "items": STRING},
        "text": STRING,
    }
)
HEALTH = _record(
    {
        "status": {"const": "ok"},
        "problem": STRING,
        "index": _record(
            {
                "build_id": STRING,
                "releases": INTEGER,
                "chunks": INTEGER,
                "date_from": NULLABLE_STRING,
                "date_to": NULLABLE_STRING,
                "built_at": STRING,
                "model": STRING,
                "sources": {"type": "object", "additionalProperties": INTEGER},
            }
        ),
    },
    optional=("problem",),
)
CHAT_REQUEST = {
    "type": "object",
    "required": ["messages"],
    "properties": {
        "model": {"type": "string"},
        "stream": {"type": "boolean"},
        "messages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["role", "content"],
                "properties": {
                    "role": {"enum": ["system", "user", "assistant"]},
                    "content": {"type": "string"},
                },
            },
        },
    },
}
CHAT_RESPONSE = {
    "type": "object",
    "required": ["id", "object", "created", "model", "choices", "sources"],
    "properties": {
        "object": {"const": "chat.completion"},
        "choices": {"type": "array", "minItems": 1},
        "sources": ANSWER["properties"]["sources"],
    },
}
MODELS = {
    "type": "object",
    "required": ["object", "data"],
    "properties": {"object": {"const": "list"}, "data": {"type": "array"}},
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": "error", **_json(ERROR)} for c in codes}


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"200": {"description": description, **_json(schema)}}


def _query_params(*params: tuple[str, dict[str, Any], bool]) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "query", "required": required, "schema": schema}
        for name, schema, required in params
    ]


def spec() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document."""
    q = ("q", {"type": "string", "minLength": 1, "maxLength": 1000}, True)
    k = ("k", {"type": "integer", "minimum": 1, "maximum": 50}, False)
    date = {"type": "string", "format": "date"}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "releases-qa",
            "version": __version__,
            "description": "Cited, extractive answers from press releases.",
        },
        "paths": {
            "/api/query": {
                "post": {
                    "summary": "Answer a question (with chat history and filters)",
                    "requestBody": {"required": True, **_json(QUERY_REQUEST)},
                    "responses": {
                        "200": {
                            "description": "The answer, or with `stream` server-sent events",
                            "content": {
                                "application/json": {"schema": ANSWER},
                                "text/event-stream": {"schema": {"type": "string"}},
                            },
                        },
                        **_errors(400, 413, 503),
                    },
                },
                "get": {
                    "summary": "Answer a question given in the query string",
                    "parameters": _query_params(q, k),
                    "responses": {**_ok(ANSWER), **_errors(400, 503)},
                },
            },
            "/api/search": {
                "get": {
                    "summary": "Ranked passages",
                    "parameters": _query_params(
                        q,
                        k,
                        ("date_from", date, False),
                        ("date_to", date, False),
                        ("source", {"type": "string"}, False),
                    ),
                    "responses": {**_ok(HITS), **_errors(400, 503)},
                }
            },
            "/api/releases/{release_id}": {
                "get": {
                    "summary": "A whole release",
                    "parameters": [
                        {
                            "name": "release_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {**_ok(RELEASE), **_errors(404, 503)},
                }
            },
            "/api/health": {
                "get": {
                    "summary": "The live index",
                    "responses": {**_ok(HEALTH), **_errors(503)},
                }
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": _ok({"type": "object"}),
                }
            },
            "/v1/chat/completions": {
                "post": {
                    "summary": "OpenAI-compatible chat completion (stream: server-sent events)",
                    "requestBody": {"required": True, **_json(CHAT_REQUEST)},
                    "responses": {
                        "200": {
                            "description": "A completion, or with `stream` its chunks",
                            "content": {
                                "application/json": {"schema": CHAT_RESPONSE},
                                "text/event-stream": {"schema": {"type": "string"}},
                            },
                        },
                        **_errors(400, 413, 503),
                    },
                }
            },
            "/v1/models": {"get": {"summary": "The one model", "responses": _ok(MODELS)}},
            **_session_paths(),
        },
    }
    return _with_access(document)


# Access tokens (qa/auth.py): when the server has QA_API_TOKENS, every operation but these
# needs `Authorization: Bearer <token>` or the session cookie, and answers 401 without one.
OPEN_PATHS = ("/api/health", "/api/session")


def _session_paths() -> dict[str, Any]:
    return {
        "/api/session": {
            "get": {
                "summary": "Whether this server needs an access token, and whether one was sent",
                "responses": _ok(
                    _record({"required": {"type": "boolean"}, "signed_in": {"type": "boolean"}})
                ),
            },
            "post": {
                "summary": "Sign in with an access token: sets the HttpOnly `qa_session` cookie",
                "requestBody": {
                    "required": True,
                    **_json(_record({"token": {"type": "string", "minLength": 1}})),
                },
                "responses": {
                    "204": {"description": "Signed in (a server without tokens sets no cookie)"},
                    **_errors(400, 401, 413),
                },
            },
            "delete": {
                "summary": "Sign out: clears the session cookie",
                "responses": {"204": {"description": "Signed out"}},
            },
        }
    }


def _with_access(document: dict[str, Any]) -> dict[str, Any]:
    """Declare the token and the cookie, and the 401 of every operation that needs one."""
    document["components"] = {
        "securitySchemes": {
            "token": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "qa_session"},
        }
    }
    # `{}`: a server started without QA_API_TOKENS (on a loopback address) needs neither.
    document["security"] = [{"token": []}, {"session": []}, {}]
    for path, operations in document["paths"].items():
        for operation in operations.values():
            if path in OPEN_PATHS:
                operation["security"] = []
            else:
                operation["responses"].update(_errors(401))
    return document
