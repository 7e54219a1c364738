"""An OpenAI-compatible face: `/v1/chat/completions` (streaming too) and `/v1/models`.

Chat clients that speak the OpenAI protocol (the `openai` package, Open WebUI, LibreChat) can
use the service as a "model": the answer comes with its citations in the text and the sources
in an extra `sources` field.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from qa.engine import Result
from qa.errors import BadRequest
from qa.payloads import parse_request, result_json

MODEL_ID = "releases-qa"
v1 = Blueprint("openai", __name__, url_prefix="/v1")


def chat_request(payload: Any) -> dict[str, Any]:
    """Turn an OpenAI chat request into our query payload (last user message = question)."""
    if not isinstance(payload, dict):
        raise BadRequest("the body must be a JSON object with `messages`")
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("`messages` must be a non-empty list of {role, content}")
    turns = []
    for n, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise BadRequest(f"`messages[{n}]` must be an object with `role` and `content`")
        content = _text(m.get("content"), n)
        if m["role"] in ("user", "assistant"):
            turns.append({"role": m["role"], "content": content})
    if not turns or turns[-1]["role"] != "user":
        raise BadRequest("the last message must be the user's question")
    return {"question": turns[-1]["content"], "history": turns[:-1]}


def _text(content: Any, n: int) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, {"type": "image_url", ...}]
        for part in content:
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise BadRequest(f"`messages[{n}].content[]` must be objects with a `type`")
            if not isinstance(part.get("text", ""), str):
                raise BadRequest(f"`messages[{n}].content[].text` must be a string")
        return "\n".join(p["text"] for p in content if p["type"] == "text" and "text" in p)
    raise BadRequest(f"`messages[{n}].content` must be text")


def json_body(message: str) -> Any:
    """Return the request's JSON body; a body that is none, broken or nested past what the
    parser can follow is a ``BadRequest`` with ``message``."""
    if not request.is_json:
        raise BadRequest(message)
    try:
        return json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):
        raise BadRequest(f"{message} (it is not valid JSON, or is nested too deeply)") from None


def completion_text(result: Result) -> str:
    """Return the answer with numbered citations followed by the list of sources."""
    answer = result.answer
    lines = [answer.text]
    listed = answer.sources or ()
    if listed:
        lines.append("\nSources:")
        lines += [
            f"[{s.n}] {s.release.title} ({s.release.date or 'undated'})"
            + (f" {s.release.url}" if s.release.url else "")
            for s in listed
        ]
    if answer.abstained and answer.suggestions:
        lines.append("\nYou may be looking for:")
        lines += [f"- {r.title} ({r.date or 'undated'})" for r in answer.suggestions]
    return "\n".join(lines)


@v1.get("/models")
def models() -> Any:
    return jsonify(
        {
            "object": "list",
            "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "releases-qa"}],
        }
    )


@v1.post("/chat/completions")
def chat_completions() -> Any:
    payload = json_body("the body must be JSON with Content-Type: application/json")
    if isinstance(payload, dict) and not isinstance(payload.get("stream", False), bool):
        raise BadRequest("`stream` must be true or false")
    if isinstance(payload, dict) and not isinstance(payload.get("model", ""), str):
        raise BadRequest("`model` must be a string")
    settings = current_app.extensions["qa_settings"]
    question, history, k, filters = parse_request(settings, chat_request(payload))
    result = current_app.extensions["qa"].get().ask(question, history, k=k, filters=filters)
    body = result_json(result)
    ident = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    text = completion_text(result)
    if payload.get("stream"):
        return Response(
            _stream(ident, created, text, body),
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    return jsonify(
        {
            "id": ident,
            "object": "chat.completion",
            "created": created,
            "model": MODEL_ID,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            "sources": body["sources"],
            "abstained": body["abstained"],
        }
    )


def _stream(ident: str, created: int, text: str, body: dict[str, Any]) -> Iterator[str]:
    """Send the answer line by line as OpenAI chunks, then the sources, then [DONE]."""

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        data = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    lines = text.split("\n")
    for n, line in enumerate(lines):
        yield chunk({"content": line + ("\n" if n < len(lines) - 1 else "")})
    yield chunk({}, "stop", sources=body["sources"], abstained=body["abstained"])
    yield "data: [DONE]\n\n"
