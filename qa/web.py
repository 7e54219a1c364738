"""The Flask app: the JSON API, the chat page, and one JSON error shape for every failure."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable, Iterator
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    request,
    send_from_directory,
    stream_with_context,
)
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from qa import auth
from qa.chat import Turn
from qa.config import Settings
from qa.embedding import Encoder
from qa.engine import Engine, Result
from qa.errors import BadRequest, NotFound, QAError
from qa.live import EngineHolder
from qa.openai_api import json_body, v1
from qa.openapi import spec
from qa.payloads import (
    blank,
    hit_json,
    parse_filters,
    parse_k,
    parse_request,
    query_json,
    release_summary,
    result_json,
)
from qa.retrieval import Filters
from qa.state import State

# The page's scripts are ES modules, which browsers load only as JavaScript; some systems'
# MIME tables map .js to text/plain.
mimetypes.add_type("text/javascript", ".js")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

api = Blueprint("api", __name__, url_prefix="/api")


def create_app(settings: Settings | None = None, encoder: Encoder | None = None) -> Flask:
    """Create the app for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, static_folder=str(settings.web_dir), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.config["JSON_SORT_KEYS"] = False
    app.extensions["qa"] = EngineHolder(settings, encoder)
    app.extensions["qa_settings"] = settings
    app.extensions["qa_state"] = State(settings.state_folder())  # opened and migrated once
    app.register_blueprint(api)
    app.register_blueprint(v1)
    if settings.rate_limit:
        from flask_limiter import Limiter

        # Per token holder when a valid token or session comes with the request, else per address.
        limiter = Limiter(auth.rate_limit_key, app=app, storage_uri="memory://")
        limiter.limit(settings.rate_limit)(api)
        limiter.limit(settings.rate_limit)(v1)
        limiter.limit(settings.rate_limit)(auth.session_api)
    auth.install(app, settings)  # after the limiter, which then counts refused requests too

    @app.get("/")
    def page() -> Any:
        return send_from_directory(settings.web_dir, "index.html")

    @app.get("/a/<answer_id>")
    def kept_page(answer_id: str) -> Any:
        """A kept answer, read-only, in the page's style (its data from /api/answers/<id>)."""
        try:
            app.extensions["qa_state"].answer(answer_id)
            status = 200
        except NotFound:
            status = 404
        response = send_from_directory(settings.web_dir, "answer.html")
        response.status_code = status
        return response

    @app.get("/watches.atom")
    def watches_feed() -> Any:
        from qa.watching import atom_feed

        feed = atom_feed(app.extensions["qa_state"], request.host_url.rstrip("/"))
        return Response(feed, mimetype="application/atom+xml")

    app.register_error_handler(QAError, _qa_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.after_request(_security_headers)
    return app


def get_engine() -> Engine:
    """Return the engine of the current app (loaded on first use, reloaded on a new build)."""
    holder: EngineHolder = current_app.extensions["qa"]
    return holder.get()


def _settings() -> Settings:
    settings: Settings = current_app.extensions["qa_settings"]
    return settings


@api.post("/query")
def query() -> Any:
    payload = json_body(
        'the body must be JSON like {"question": "..."} with Content-Type: application/json'
    )
    question, history, k, filters = parse_request(_settings(), payload)
    for flag in ("stream", "keep"):
        if not isinstance(payload.get(flag, False), bool):
            raise BadRequest(f"`{flag}` must be true or false")
    keep = payload.get("keep", False)
    if payload.get("stream") is True:
        engine = get_engine()
        events = engine.ask_stream(question, history, k=k, filters=filters)
        build_id = engine.index.manifest.build_id

        def kept(result: Result) -> dict[str, Any]:
            body = result_json(result)
            if keep:
                stored = _kept(question, history, filters, result, build_id)
                body.update(answer_id=stored["answer_id"], permalink=stored["permalink"])
            return body

        return Response(
            stream_with_context(_sse(events, kept)),
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    engine = get_engine()
    result = engine.ask(question, history, k=k, filters=filters)
    body = result_json(result)
    if keep:
        stored = _kept(question, history, filters, result, engine.index.manifest.build_id)
        body.update(answer_id=stored["answer_id"], permalink=stored["permalink"])
    return jsonify(body)


def _sse(
    events: Iterator[str | Result], render: Callable[[Result], dict[str, Any]] = result_json
) -> Iterator[str]:
    """Server-sent events: `delta` with text as it is written, then `answer` with the result."""
    for item in events:
        if isinstance(item, str):
            yield f"event: delta\ndata: {json.dumps({'text': item}, ensure_ascii=False)}\n\n"
        else:
            yield f"event: answer\ndata: {json.dumps(render(item), ensure_ascii=False)}\n\n"


@api.get("/query")
def query_get() -> Any:
    if blank(request.args.get("q", "")):
        raise BadRequest("`q` is required: /api/query?q=your+question")
    k = parse_k(_settings(), request.args.get("k", _settings().top_k))
    payload = {"question": request.args.get("q", ""), "k": k}
    question, history, k, filters = parse_request(_settings(), payload)
    return jsonify(result_json(get_engine().ask(question, history, k=k, filters=filters)))


@api.get("/search")
def search() -> Any:
    settings = _settings()
    q = request.args.get("q", "")
    if blank(q):
        raise BadRequest("`q` is required")
    if len(q) > settings.max_question_chars:
        raise BadRequest(f"`q` is longer than {settings.max_question_chars} characters")
    k = parse_k(settings, request.args.get("k", 10))
    filters = parse_filters(
        {
            name: request.args[name]
            for name in ("date_from", "date_to", "source")
            if name in request.args
        }
    )
    hits, text, applied, dates = get_engine().find(q, k=k, filters=filters)
    return jsonify({"hits": [hit_json(h) for h in hits], "query": query_json(text, applied, dates)})


@api.get("/releases/<path:release_id>")
def release(release_id: str) -> Any:
    r = get_engine().index.releases.get(release_id)
    if r is None:
        raise NotFound(f"no release with id {release_id!r}")
    return jsonify(
        {
            **release_summary(r),
            "source": r.source,
            "place": r.place,
            "tags": list(r.tags),
            "text": r.text,
        }
    )


def _state() -> State:
    state: State = current_app.extensions["qa_state"]
    return state


def _kept(
    question: str, history: list[Turn], filters: Filters, result: Result, build_id: str
) -> dict[str, Any]:
    """Keep an answer just given; return the kept answer (its id, permalink, Markdown, ...)."""
    return _state().keep_answer(
        question,
        [{"role": t.role, "content": t.content} for t in history],
        {"date_from": filters.date_from, "date_to": filters.date_to, "source": filters.source},
        build_id,
        result_json(result),
    )


@api.post("/answers")
def keep_answer() -> Any:
    payload = json_body(
        'the body must be JSON like {"question": "...", "history": [...], "filters": {...}}'
    )
    question, history, k, filters = parse_request(_settings(), payload)
    engine = get_engine()
    result = engine.ask(question, history, k=k, filters=filters)
    kept = _kept(question, history, filters, result, engine.index.manifest.build_id)
    return jsonify(kept), 201


@api.get("/answers/<answer_id>")
def kept_answer(answer_id: str) -> Any:
    if answer_id.endswith(".md"):
        kept = _state().answer(answer_id.removesuffix(".md"))
        return Response(kept["markdown"], mimetype="text/markdown")
    return jsonify(_state().answer(answer_id))


@api.get("/watches")
def list_watches() -> Any:
    return jsonify({"watches": [_public(w) for w in _state().watches()]})


@api.post("/watches")
def add_watch() -> Any:
    payload = json_body('the body must be JSON like {"question": "...", "filters": {...}}')
    if not isinstance(payload, dict):
        raise BadRequest('the body must be a JSON object like {"question": "..."}')
    question, _, _, filters = parse_request(
        _settings(), {"question": payload.get("question"), "filters": payload.get("filters")}
    )
    state = _state()
    watch = state.add_watch(
        question,
        {"date_from": filters.date_from, "date_to": filters.date_to, "source": filters.source},
    )
    engine = get_engine()
    state.record(
        watch["id"],
        engine.index.manifest.build_id,
        result_json(engine.ask(question, filters=filters)),
    )
    return jsonify({"watch": _public(state.watch(watch["id"]))}), 201


@api.get("/watches/<watch_id>")
def watch_history(watch_id: str) -> Any:
    state = _state()
    return jsonify({"watch": _public(state.watch(watch_id)), "history": state.history(watch_id)})


@api.post("/watches/<watch_id>/seen")
def watch_seen(watch_id: str) -> Any:
    _state().mark_seen(watch_id)
    return "", 204


@api.delete("/watches/<watch_id>")
def remove_watch(watch_id: str) -> Any:
    _state().remove_watch(watch_id)
    return "", 204


def _public(watch: dict[str, Any]) -> dict[str, Any]:
    """A watch as the API shows it: whether it has a webhook, not where it goes."""
    return {**watch, "webhook": bool(watch.get("webhook"))}


@api.get("/openapi.json")
def openapi() -> Any:
    return jsonify(spec())


@api.get("/health")
def health() -> Any:
    holder: EngineHolder = current_app.extensions["qa"]
    index = holder.get().index
    m = index.manifest
    body: dict[str, Any] = {
        "status": "ok",
        "index": {
            "build_id": m.build_id,
            "releases": m.releases,
            "chunks": m.chunks,
            "date_from": m.date_from,
            "date_to": m.date_to,
            "built_at": m.built_at,
            "model": m.model,
            "sources": index.source_counts,
        },
    }
    if holder.problem:
        body["problem"] = f"serving the last good build: {holder.problem}"
    return jsonify(body)


def _error(status: int, message: str) -> Any:
    response = jsonify({"error": {"status": status, "message": message}})
    response.status_code = status
    return response


def _qa_error(exc: QAError) -> Any:
    return _error(exc.status, exc.message)


def _http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    messages = {
        404: f"no such endpoint: {request.path}",
        405: f"{request.method} is not allowed on {request.path}",
        413: "the request body is too large",
        429: "too many requests from this client; wait a moment and try again",
    }
    response = _error(status, messages.get(status, exc.description or exc.name))
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return response


def _unexpected_error(exc: Exception) -> Any:
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return _error(500, f"internal error ({type(exc).__name__}); the server log has the details")


def _security_headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response
