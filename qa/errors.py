"""Exceptions that carry the HTTP status they map to, and what to do about an index to rebuild."""

from __future__ import annotations

# What to do about an index that is missing, damaged or of another version.
REBUILD_HINT = "run `qa rebuild-index`"


class QAError(Exception):
    """Base error: a message a person can act on, and the HTTP status it maps to."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(QAError):
    status = 400


class NotFound(QAError):
    status = 404


class IndexMissing(QAError):
    status = 503


class IndexMismatch(QAError):
    status = 503


class IndexBusy(QAError):
    status = 409


class CorpusError(QAError):
    status = 400


class FetchError(QAError):
    """A feed or page that could not be fetched within the limits."""

    status = 502


class CorpusBusy(QAError):
    status = 409


class BuildFailed(QAError):
    status = 500
