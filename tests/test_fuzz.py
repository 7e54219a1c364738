"""Schemathesis against /api/openapi.json, all its checks: the server does what the document
says (no 5xx, the documented statuses, types and schemas), and every 4xx is our JSON error."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

# Invalid data is refused with a 400, or a 413 when it makes the body longer than the
# server reads (64 KiB): both are the documented refusals.
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": ["400", "413"]}}}
)


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


def json_errors(ctx, response, case) -> None:
    """Every 4xx answer is {"error": {"status", "message"}} with the same status."""
    if 400 <= response.status_code < 500:
        body = response.json()
        assert body["error"]["status"] == response.status_code, body
        assert isinstance(body["error"]["message"], str) and body["error"]["message"], body


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("QA_FUZZ_EXAMPLES", "50")),  # bounded; more to dig
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_fuzz(case) -> None:
    # Every check schemathesis has (status codes, content types, response schemas, positive
    # and negative data, headers, ...), and ours. Except one: a chat request's rules on its
    # last message (the question) cannot be put in JSON Schema, so schema-valid chats may get
    # a 400; the operation's description states them and tests/test_api.py checks each.
    excluded = []
    if case.operation.path == "/v1/chat/completions":
        excluded = [positive_data_acceptance]
    case.call_and_validate(additional_checks=[json_errors], excluded_checks=excluded)
