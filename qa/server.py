"""Run the app under gunicorn, loading the index once per worker.

Workers are gevent workers by default: each connection is a greenlet, so clients that send
their request slowly (or stall half-way) hold only their own connection, never the threads
that answer everyone else. Answering stays one question at a time per worker, as the GIL and
the model's threads would make it anyway; `QA_WORKERS` processes answer in parallel.
"""

from __future__ import annotations

from typing import Any

from qa.config import Settings
from qa.errors import QAError


def run(settings: Settings) -> None:
    """Serve until interrupted."""
    from gunicorn.app.base import BaseApplication

    from qa.web import create_app

    class Server(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": f"{settings.host}:{settings.port}",
                "workers": settings.workers,
                "worker_class": settings.worker_class,
                "threads": settings.threads,
                "worker_connections": settings.connections,
                "timeout": 120,
                "accesslog": "-",
                # One JSON object a line: easy to grep, easy to load.
                "access_log_format": (
                    '{"time": "%(t)s", "client": "%(h)s", "method": "%(m)s", '
                    '"path": "%(U)s", "status": %(s)s, "bytes": "%(B)s", "ms": %(M)s}'
                ),
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            import os

            from gunicorn import util

            # What gunicorn itself refuses (a URL over its 4,094-byte request line, malformed
            # HTTP) gets the app's one JSON error shape too, not gunicorn's HTML page.
            util.write_error = write_json_error

            from qa.embedding import set_threads

            # Each worker gets its share of the cores: workers x model threads = cores.
            share = max(1, (os.cpu_count() or 1) // max(1, settings.workers))
            set_threads(settings.torch_threads or share)
            app = create_app(settings)
            with app.app_context():
                # Load the model and the index before the first request, not during it.
                try:
                    app.extensions["qa"].get().warm()
                except QAError as exc:
                    # No good build yet: serve anyway, answering 503 with the cause (and
                    # /api/health saying it) until a good build is published.
                    app.logger.error("no index to serve yet: %s", exc.message)
            return app

    Server().run()


# What gunicorn's own refusals mean, said as the app says its errors.
GUNICORN_ERRORS = {
    400: "the request is not well-formed HTTP",
    414: "the URL is too long (at most 4,094 bytes in the request line); send a long question "
    "with POST /api/query",
    431: "the request headers are too large",
    501: "the request uses an HTTP feature this server does not implement",
}


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error``, writing ``{"error": {"status", "message"}}``."""
    import json

    from gunicorn import util

    if status_int >= 500 and status_int != 501:
        message = "internal error; the server log has the details"
    else:
        known = GUNICORN_ERRORS.get(status_int, reason.lower())
        message = f"{known} ({mesg})" if mesg else known
    body = json.dumps({"error": {"status": status_int, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)
