"""The OpenAPI description of the HTTP API, served at `/api/openapi.json`.

Kept in step with the routes by a test (every route described, every description routed) and
with the responses by validating real responses against its schemas (qa/api_schemas.py).
"""

from __future__ import annotations

from typing import Any

from qa import __version__
from qa.api_schemas import (
    ANSWER,
    ANSWER_EVENT,
    CHAT_EVENT,
    CHAT_REQUEST,
    CHAT_RESPONSE,
    CHAT_RULES,
    ERROR,
    HEALTH,
    HITS,
    KEEP_REQUEST,
    KEPT,
    MODELS,
    QUERY_REQUEST,
    QUESTION,
    RELEASE,
    STRING,
    WATCH,
    WATCH_REQUEST,
    record,
)


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
    q = ("q", QUESTION, True)
    k = ("k", {"type": "integer", "minimum": 1, "maximum": 50}, False)
    date = {"anyOf": [{"type": "string", "format": "date"}, {"const": ""}]}  # "" = no bound
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
                                "text/event-stream": {"schema": ANSWER_EVENT},
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
                    "description": CHAT_RULES,
                    "requestBody": {"required": True, **_json(CHAT_REQUEST)},
                    "responses": {
                        "200": {
                            "description": "A completion, or with `stream` its chunks",
                            "content": {
                                "application/json": {"schema": CHAT_RESPONSE},
                                "text/event-stream": {"schema": CHAT_EVENT},
                            },
                        },
                        **_errors(400, 413, 503),
                    },
                }
            },
            "/v1/models": {"get": {"summary": "The one model", "responses": _ok(MODELS)}},
            **_session_paths(),
            **_kept_paths(),
        },
    }
    return _with_access(document)


# Access tokens (qa/auth.py): when the server has QA_API_TOKENS, every operation but these
# needs `Authorization: Bearer <token>` or the session cookie, and answers 401 without one.
OPEN_PATHS = ("/api/health", "/api/session")


def _kept_paths() -> dict[str, Any]:
    """Kept answers (permalinks, Markdown) and watched questions (qa/state.py)."""
    answer_id = {"name": "answer_id", "in": "path", "required": True, "schema": STRING}
    watch_id = {"name": "watch_id", "in": "path", "required": True, "schema": STRING}
    return {
        "/api/answers": {
            "post": {
                "summary": "Answer a question and keep the answer (its permalink is /a/<id>)",
                "requestBody": {"required": True, **_json(KEEP_REQUEST)},
                "responses": {
                    "201": {"description": "Kept", **_json(KEPT)},
                    **_errors(400, 413, 503),
                },
            }
        },
        "/api/answers/{answer_id}": {
            "get": {
                "summary": "A kept answer, as it was given (`<id>.md`: as Markdown)",
                "parameters": [answer_id],
                "responses": {
                    "200": {
                        "description": "The kept answer",
                        "content": {
                            "application/json": {"schema": KEPT},
                            "text/markdown": {"schema": STRING},
                        },
                    },
                    **_errors(404),
                },
            }
        },
        "/api/watches": {
            "get": {
                "summary": "The watched questions, with their last answer and unseen changes",
                "responses": _ok(record({"watches": {"type": "array", "items": WATCH}})),
            },
            "post": {
                "summary": "Watch a question: asked now, and again on every new build",
                "requestBody": {"required": True, **_json(WATCH_REQUEST)},
                "responses": {
                    "201": {"description": "Watching", **_json(record({"watch": WATCH}))},
                    **_errors(400, 413, 503),
                },
            },
        },
        "/api/watches/{watch_id}": {
            "get": {
                "summary": "A watch and the answers it was given, oldest first",
                "parameters": [watch_id],
                "responses": {
                    **_ok(record({"watch": WATCH, "history": {"type": "array"}})),
                    **_errors(404),
                },
            },
            "delete": {
                "summary": "Stop watching (its history goes too)",
                "parameters": [watch_id],
                "responses": {"204": {"description": "Removed"}, **_errors(404)},
            },
        },
        "/api/watches/{watch_id}/seen": {
            "post": {
                "summary": "Mark a watch's changes as seen",
                "parameters": [watch_id],
                "responses": {"204": {"description": "Marked"}, **_errors(404)},
            }
        },
    }


def _session_paths() -> dict[str, Any]:
    return {
        "/api/session": {
            "get": {
                "summary": "Whether this server needs an access token, and whether one was sent",
                "responses": _ok(
                    record({"required": {"type": "boolean"}, "signed_in": {"type": "boolean"}})
                ),
            },
            "post": {
                "summary": "Sign in with an access token: sets the HttpOnly `qa_session` cookie",
                "requestBody": {
                    "required": True,
                    **_json(record({"token": {"type": "string", "minLength": 1}})),
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
