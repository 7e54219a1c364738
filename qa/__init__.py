"""releases-qa: cited, extractive question answering over press releases."""

from __future__ import annotations

__version__ = "0.1.0"
