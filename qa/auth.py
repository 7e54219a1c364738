"""Access tokens: who may use the service when it is served beyond this machine.

With ``QA_API_TOKENS`` set, every route but `/api/health`, the sign-in endpoints and the page
shell (``/`` and ``/static/...``) needs either ``Authorization: Bearer <token>`` (the `/v1`
face takes it as its API key) or the ``qa_session`` cookie that ``POST /api/session`` sets for
the page. The cookie holds the holder's name, when it was issued and an HMAC keyed by a key
derived from that holder's token, so any worker process can check it, and removing a token
from ``QA_API_TOKENS`` ends its sessions at the next restart.

``qa serve`` refuses a non-loopback address unless tokens are set or ``--public`` is given
(:func:`exposure_problem`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from qa.config import Settings
from qa.errors import BadRequest
from qa.openai_api import json_body

SESSION_COOKIE = "qa_session"
SESSION_SECONDS = 30 * 24 * 3600
MIN_SECRET_CHARS = 16
# A token written `name:secret` names its holder (in logs and rate limits) without the secret.
NAMED = re.compile(r"([A-Za-z][A-Za-z0-9_-]{0,39}):(.+)")
# Endpoints open to everyone: the health check and what the page needs to show the sign-in.
# The page shells (the chat, a kept answer's read-only view) are static: what they show comes
# from the API, which needs the token.
OPEN_ENDPOINTS = frozenset({"api.health", "page", "kept_page", "static"})
REALM = 'Bearer realm="releases-qa"'

session_api = Blueprint("auth", __name__, url_prefix="/api")


@dataclass(frozen=True)
class Holder:
    """One configured token: the holder's name and what checking the token needs."""

    name: str
    digest: bytes = field(repr=False)  # SHA-256 of the secret: compared in constant time
    key: bytes = field(repr=False)  # signs this holder's session cookies


def parse_tokens(raw: tuple[str, ...] | str) -> tuple[Holder, ...]:
    """Read ``QA_API_TOKENS`` items (``secret`` or ``name:secret``); messages never show one."""
    items = re.split(r"[,\s]+", raw) if isinstance(raw, str) else raw
    holders: list[Holder] = []
    for n, item in enumerate((i for i in items if i), start=1):
        named = NAMED.fullmatch(item)
        secret = named.group(2) if named else item
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(
                f"QA_API_TOKENS: token {n} is shorter than {MIN_SECRET_CHARS} characters; "
                "make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        if not (secret.isascii() and secret.isprintable()):
            raise ValueError(f"QA_API_TOKENS: token {n} has characters HTTP headers cannot carry")
        digest = hashlib.sha256(secret.encode()).digest()
        if named:
            name = named.group(1)
        else:  # a stable name that does not give the token away
            name = "token-" + hashlib.sha256(b"qa-holder:" + digest).hexdigest()[:10]
        if any(h.name == name or h.digest == digest for h in holders):
            raise ValueError(f"QA_API_TOKENS: token {n} repeats the name or the token of another")
        key = hmac.new(secret.encode(), b"qa-session", hashlib.sha256).digest()
        holders.append(Holder(name, digest, key))
    return tuple(holders)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name, or an empty host (every address)


def exposure_problem(settings: Settings) -> str | None:
    """Why `qa serve` must not start with ``settings``, or None when it may."""
    if settings.api_tokens or settings.public or is_loopback(settings.host):
        return None
    return (
        f"Refusing to serve on {settings.host}: anyone who can reach port {settings.port} "
        "could use the service. Set QA_API_TOKENS to one or more access tokens (clients send "
        "one as `Authorization: Bearer <token>`; the page asks for it), or pass --public "
        "(QA_PUBLIC=1) to serve it to everyone on purpose."
    )


def describe_access(settings: Settings) -> str:
    """One line for `qa serve` to print about who may use the server."""
    holders = parse_tokens(settings.api_tokens)
    if holders:
        return f"Access: an access token is required ({len(holders)} configured)."
    if is_loopback(settings.host):
        return "Access: open, to this machine only."
    return "Access: open to everyone who can reach the port (--public)."


class Gate:
    """The configured holders, and the checks of a token or a session cookie against them."""

    def __init__(self, holders: tuple[Holder, ...]) -> None:
        self.holders = holders
        self.by_name = {h.name: h for h in holders}

    @property
    def required(self) -> bool:
        return bool(self.holders)

    def match_token(self, presented: str) -> Holder | None:
        """The holder of ``presented``, compared with every token in constant time."""
        digest = hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest()
        found = None
        for holder in self.holders:  # no early exit: the time does not say which one matched
            if hmac.compare_digest(digest, holder.digest):
                found = holder
        return found

    def cookie_for(self, holder: Holder, now: float | None = None) -> str:
        issued = str(int(time.time() if now is None else now))
        return f"{holder.name}.{issued}.{_sign(holder, issued)}"

    def holder_of_cookie(self, value: str, now: float | None = None) -> Holder | None:
        """The holder a session cookie was issued to, if it is genuine and not expired."""
        name, _, rest = value.partition(".")
        issued, _, signature = rest.partition(".")
        holder = self.by_name.get(name)
        if holder is None or not issued.isdigit():
            return None
        if not hmac.compare_digest(signature.encode(), _sign(holder, issued).encode()):
            return None
        age = (time.time() if now is None else now) - int(issued)
        return holder if -300 <= age <= SESSION_SECONDS else None


def _sign(holder: Holder, issued: str) -> str:
    message = f"{holder.name}.{issued}".encode()
    return hmac.new(holder.key, message, hashlib.sha256).hexdigest()


def install(app: Flask, settings: Settings) -> None:
    """Register the sign-in endpoints and, when tokens are configured, require one."""
    app.extensions["qa_auth"] = Gate(parse_tokens(settings.api_tokens))
    app.register_blueprint(session_api)
    app.before_request(_guard)


def _gate() -> Gate | None:
    gate: Gate | None = current_app.extensions.get("qa_auth")
    return gate


def current_holder() -> Holder | None:
    """The holder the request authenticates as: its Bearer token, else its session cookie."""
    if "qa_holder" not in g:
        gate = _gate()
        holder = None
        if gate is not None and gate.required:
            header = request.headers.get("Authorization")
            if header is not None:
                scheme, _, token = header.strip().partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    holder = gate.match_token(token.strip())
            elif SESSION_COOKIE in request.cookies:
                holder = gate.holder_of_cookie(request.cookies[SESSION_COOKIE])
        g.qa_holder = holder
    found: Holder | None = g.qa_holder
    return found


def rate_limit_key() -> str:
    """Flask-Limiter's key: the token's holder when one is presented, else the address."""
    holder = current_holder()
    return f"holder:{holder.name}" if holder else (request.remote_addr or "127.0.0.1")


def _guard() -> Any:
    gate = _gate()
    if gate is None or not gate.required:
        return None
    if request.endpoint in OPEN_ENDPOINTS or request.blueprint == session_api.name:
        return None
    if current_holder() is not None:
        return None
    presented = "Authorization" in request.headers or SESSION_COOKIE in request.cookies
    if presented:
        current_app.logger.warning(
            "refused %s %s from %s: invalid access token or session",
            request.method,
            request.path,
            request.remote_addr,
        )
        return _unauthorized(
            "the access token or session is not valid (or has expired); sign in again",
            invalid=True,
        )
    return _unauthorized(
        "this server needs an access token: send `Authorization: Bearer <token>`, "
        "or sign in on the page"
    )


def _unauthorized(message: str, invalid: bool = False) -> Response:
    """A 401 in the app's one error shape, with the challenge RFC 6750 asks for."""
    response = jsonify({"error": {"status": 401, "message": message}})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = REALM + (', error="invalid_token"' if invalid else "")
    return response


@session_api.get("/session")
def session_state() -> Any:
    gate = _gate()
    required = gate is not None and gate.required
    return jsonify({"required": required, "signed_in": required and current_holder() is not None})


@session_api.post("/session")
def sign_in() -> Any:
    payload = json_body(
        'the body must be JSON like {"token": "..."} with Content-Type: application/json'
    )
    token = payload.get("token") if isinstance(payload, dict) else None
    if not isinstance(token, str) or not token.strip():
        raise BadRequest("`token` must be a non-empty string")
    gate = _gate()
    if gate is None or not gate.required:
        return Response(status=204)  # nothing to sign in to: every request is let in
    holder = gate.match_token(token.strip())
    if holder is None:
        current_app.logger.warning("refused a sign-in from %s", request.remote_addr)
        return _unauthorized("that access token is not valid", invalid=True)
    current_app.logger.info("%s signed in from %s", holder.name, request.remote_addr)
    response = Response(status=204)
    response.set_cookie(
        SESSION_COOKIE,
        gate.cookie_for(holder),
        max_age=SESSION_SECONDS,
        path="/",
        secure=request.is_secure,
        httponly=True,
        samesite="Strict",
    )
    return response


@session_api.delete("/session")
def sign_out() -> Any:
    response = Response(status=204)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=request.is_secure, httponly=True, samesite="Strict"
    )
    return response
