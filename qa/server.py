"""Run the app under gunicorn (threaded workers), loading the index once per worker."""

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
                "threads": settings.threads,
                "worker_class": "gthread",
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
