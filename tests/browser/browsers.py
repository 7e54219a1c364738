"""What the browser tests share besides the `chromium` fixture (tests/conftest.py): how long
they wait, and a wait for a server to come up."""

from __future__ import annotations

import urllib.request

WAIT_MS = 20_000


def healthy(url: str) -> bool:
    """Whether the server at ``url`` answers its health check."""
    try:
        with urllib.request.urlopen(url + "/api/health", timeout=5) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False
