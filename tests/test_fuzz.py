"""Schemathesis against /api/openapi.json: no 5xx, and every 4xx is our JSON error."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


def json_errors(ctx, response, case) -> None:
    """Every 4xx answer is {"error": {"status", "message"}} with the same status."""
    if 400 <= response.status_code < 500:
        body = response.json()
        assert body["error"]["status"] == response.status_code, body
        assert isinstance(body["error"]["message"], str) and body["error"]["message"], body


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_fuzz(case) -> None:
    case.call_and_validate(
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, json_errors]
    )
