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
# A date as YYYY-MM-DD; empty or null = no bound. Given after `date_to`, the two are swapped.
FILTER_DATE = {"anyOf": [{"type": "string", "format": "date"}, {"const": ""}, {"type": "null"}]}
FILTERS = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "properties": {"date_from": FILTER_DATE, "date_to": FILTER_DATE, "source": NULLABLE_STRING},
}
# Not blank; a lone surrogate ("\ud800", which JSON allows) is refused as no text.
QUESTION = {
    "type": "string",
    "minLength": 1,
    "maxLength": 1000,
    "pattern": "[^\\s\\u001c-\\u001f\\u0085\\ufeff]",
}
TURN = _record(
    {"role": {"enum": ["user", "assistant"]}, "content": {"type": "string", "maxLength": 10000}}
)
QUERY_REQUEST = _record(
    {
        "question": QUESTION,
        "history": {"type": "array", "items": TURN, "maxItems": 20},
        "k": {"type": "integer", "minimum": 1, "maximum": 50},
        "filters": FILTERS,
        "stream": {"type": "boolean"},
        "keep": {"type": "boolean"},  # keep the answer: the reply gets answer_id and permalink
    },
    optional=("history", "k", "filters", "stream", "keep"),
)
# POST /api/answers: what is asked and kept (other fields are ignored)
KEEP_REQUEST = _record(
    {
        "question": QUESTION,
        "history": {"type": "array", "items": TURN, "maxItems": 20},
        "k": {"type": "integer", "minimum": 1, "maximum": 50},
        "filters": FILTERS,
    },
    optional=("history", "k", "filters"),
)
WATCH_REQUEST = _record({"question": QUESTION, "filters": FILTERS}, optional=("filters",))
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
                    # system, developer, tool, ...: accepted and not read
                    "role": {"type": "string"},
                    "content": {
                        "anyOf": [
                            {"type": "string"},
                            {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["type"],
                                    "properties": {
                                        "type": {"type": "string"},
                                        "text": {"type": "string"},
                                    },
                                },
                            },
                        ]
                    },
                },
            },
        },
    },
}
# One server-sent event of a streamed answer: `delta` events carry text as it is written
# ({"text": "..."}), the last one, `answer`, the whole answer as without `stream`.
ANSWER_EVENT = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"enum": ["delta", "answer"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}
# One event of a streamed chat completion: a chat.completion.chunk as JSON, then "[DONE]".
CHAT_EVENT = {
    "type": "object",
    "required": ["data"],
    "properties": {"data": {"type": "string"}},
}
KEPT = _record(
    {
        "answer_id": STRING,
        "permalink": STRING,
        "created_at": STRING,
        "build_id": STRING,
        "question": STRING,
        "history": {"type": "array", "items": TURN},
        "filters": {"type": "object"},
        "answer": ANSWER,
        "markdown": STRING,
    }
)
WATCH = _record(
    {
        "id": STRING,
        "question": STRING,
        "filters": {"type": "object"},
        "created_at": STRING,
        "webhook": {"type": "boolean"},
        "changes": INTEGER,
        "unseen": INTEGER,
        "last": {"type": ["object", "null"]},
    }
)
# What JSON Schema cannot say about a chat request, and the server answers 400 to.
CHAT_RULES = (
    "The last `user` or `assistant` message must be the user's question: not blank, at most "
    "1,000 characters (`QA_MAX_QUESTION_CHARS`), no lone surrogates. The `user` and `assistant` "
    "messages before it are the history: at most 20 (`QA_MAX_HISTORY`), each at most 10,000 "
    "characters. Other roles are accepted and not read; so are parts of other types than "
    "`text`. Anything else is a 400."
)
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
                "responses": _ok(_record({"watches": {"type": "array", "items": WATCH}})),
            },
            "post": {
                "summary": "Watch a question: asked now, and again on every new build",
                "requestBody": {"required": True, **_json(WATCH_REQUEST)},
                "responses": {
                    "201": {"description": "Watching", **_json(_record({"watch": WATCH}))},
                    **_errors(400, 413, 503),
                },
            },
        },
        "/api/watches/{watch_id}": {
            "get": {
                "summary": "A watch and the answers it was given, oldest first",
                "parameters": [watch_id],
                "responses": {
                    **_ok(_record({"watch": WATCH, "history": {"type": "array"}})),
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
