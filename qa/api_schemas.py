"""The JSON Schemas of the HTTP API's request and response bodies, and the rules of a chat
request that JSON Schema cannot state: what the OpenAPI document (qa/openapi.py) is built from."""

from __future__ import annotations

from typing import Any


def record(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object schema whose every property is required unless named ``optional``."""
    required = [name for name in properties if name not in optional]
    return {"type": "object", "required": required, "properties": properties}


NULLABLE_STRING = {"type": ["string", "null"]}
STRING = {"type": "string"}
NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
ERROR = record({"error": record({"status": INTEGER, "message": STRING})})
RELEASE_REF = record(
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
TURN = record(
    {"role": {"enum": ["user", "assistant"]}, "content": {"type": "string", "maxLength": 10000}}
)
QUERY_REQUEST = record(
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
KEEP_REQUEST = record(
    {
        "question": QUESTION,
        "history": {"type": "array", "items": TURN, "maxItems": 20},
        "k": {"type": "integer", "minimum": 1, "maximum": 50},
        "filters": FILTERS,
    },
    optional=("history", "k", "filters"),
)
WATCH_REQUEST = record({"question": QUESTION, "filters": FILTERS}, optional=("filters",))
# how a question was read: the text searched with, the filters applied, the dates it names
QUERY_READING = record({"text": STRING, "filters": FILTERS, "dates": {"type": ["object", "null"]}})
SENTENCE = record(
    {
        "text": STRING,
        "citations": {"type": "array", "items": INTEGER},
        "kind": {"enum": ["sentence", "lead", "bullet"]},
    }
)
SOURCE = record(
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
ANSWER = record(
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
HIT = record(
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
HITS = record({"hits": {"type": "array", "items": HIT}, "query": QUERY_READING})
RELEASE = record(
    {
        **RELEASE_REF["properties"],
        "place": NULLABLE_STRING,
        "tags": {"type": "array", "items": STRING},
        "text": STRING,
    }
)
HEALTH = record(
    {
        "status": {"const": "ok"},
        "problem": STRING,
        "index": record(
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
KEPT = record(
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
WATCH = record(
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
