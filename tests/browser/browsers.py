"""What the browser tests share besides the `chromium` fixture and `serving` (tests/conftest.py):
how long they wait for the page."""

WAIT_MS = 20_000
