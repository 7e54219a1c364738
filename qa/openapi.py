"""The OpenAPI description of the HTTP API, served at `/api/openapi.json`.

Kept in step with the routes by a test (every route described, every description routed) and
with the responses by validating real responses against these schemas.
"""

from __future__ import annotations

from typing import Any

from qa import __version__

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "message"],
            "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
        }
    },
}
NULLABLE_STRING = {"type": ["string", "null"]}
RELEASE_REF = {
    "type": "object",
    "required": ["release_id", "title", "date", "url"],
    "properties": {
        "release_id": {"type": "string"},
        "title": {"type": "string"},
        "date": NULLABLE_STRING,
        "url": NULLABLE_STRING,
        "source": NULLABLE_STRING,
    },
}
FILTERS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "date_from": {"type": ["string", "null"], "format": "date"},
        "date_to": {"type": ["string", "null"], "format": "date"},
        "source": NULLABLE_STRING,
    },
}
TURN = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {"role": {"enum": ["user", "assistant"]}, "content": {"type": "string"}},
}
QUERY_REQUEST = {
    "type": "object",
    "required": ["question"],
    "properties": {
        "question": {"type": "string", "minLength": 1, "maxLength": 1000},
        "history": {"type": "array", "items": TURN, "maxItems": 20},
        "k": {"type": "integer", "minimum": 1, "maximum": 50},
        "filters": FILTERS,
        "stream": {"type": "boolean"},
    },
}
ANSWER = {
    "type": "object",
    "required": [
        "question",
        "answer",
        "sentences",
        "sources",
        "abstained",
        "confidence",
        "message",
        "suggestions",
        "query",
        "timings_ms",
    ],
    "properties": {
        "question": {"type": "string"},
        "answer": {"type": "string"},
        "sentences": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["text", "citations", "kind"],
                "properties": {
                    "text": {"type": "string"},
                    "citations": {"type": "array", "items": {"type": "integer"}},
                    "kind": {"enum": ["sentence", "lead", "bullet"]},
                },
            },
        },
        "sources": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "n",
                    "release_id",
                    "title",
                    "date",
                    "url",
                    "source",
                    "passage",
                    "highlights",
                    "score",
                ],
                "properties": {
                    "n": {"type": "integer"},
                    "release_id": {"type": "string"},
                    "title": {"type": "string"},
                    "date": NULLABLE_STRING,
                    "url": NULLABLE_STRING,
                    "source": NULLABLE_STRING,
                    "passage": {"type": "string"},
                    "highlights": {
                        "type": "array",
                        "items": {
                            "type": "array",
                            "items": {"type": "integer"},
                            "minItems": 2,
                            "maxItems": 2,
                        },
                    },
                    "score": {"type": "number"},
                },
            },
        },
        "abstained": {"type": "boolean"},
        "confidence": {"type": "number"},
        "generator": {"type": ["object", "null"]},
        "message": NULLABLE_STRING,
        "suggestions": {"type": "array", "items": RELEASE_REF},
        "query": {
            "type": "object",
            "required": ["text", "filters", "dates"],
            "properties": {
                "text": {"type": "string"},
                "filters": FILTERS,
                "dates": {"type": ["object", "null"]},
            },
        },
        "timings_ms": {"type": "object", "additionalProperties": {"type": "number"}},
    },
}
HITS = {
    "type": "object",
    "required": ["hits"],
    "properties": {
        "hits": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "release_id",
                    "chunk_id",
                    "title",
                    "date",
                    "url",
                    "text",
                    "score",
                    "similarity",
                ],
                "properties": {
                    "release_id": {"type": "string"},
                    "chunk_id": {"type": "string"},
                    "title": {"type": "string"},
                    "date": NULLABLE_STRING,
                    "url": NULLABLE_STRING,
                    "text": {"type": "string"},
                    "score": {"type": "number"},
                    "similarity": {"type": "number"},
                },
            },
        }
    },
}
RELEASE = {
    "type": "object",
    "required": ["release_id", "title", "date", "url", "source", "place", "tags", "text"],
    "properties": {
        **RELEASE_REF["properties"],
        "source": NULLABLE_STRING,
        "place": NULLABLE_STRING,
        "tags": {"type": "array", "items": {"type": "string"}},
        "text": {"type": "string"},
    },
}
HEALTH = {
    "type": "object",
    "required": ["status", "index"],
    "properties": {
        "status": {"const": "ok"},
        "problem": {"type": "string"},
        "index": {
            "type": "object",
            "required": [
                "build_id",
                "releases",
                "chunks",
                "date_from",
                "date_to",
                "built_at",
                "model",
            ],
            "properties": {
                "build_id": {"type": "string"},
                "releases": {"type": "integer"},
                "chunks": {"type": "integer"},
                "date_from": NULLABLE_STRING,
                "date_to": NULLABLE_STRING,
                "built_at": {"type": "string"},
                "model": {"type": "string"},
                "sources": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        },
    },
}
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
    return {
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
        },
    }
