"""Contract test with schemathesis: generated requests for every operation of the OpenAPI document.

Bounded (a few examples per operation). Every default check runs - no 5xx ever; every status code,
content type, header and body as documented; schema-violating requests refused - except
`positive_data_acceptance`: the API rightly refuses some schema-valid requests on meaning alone (an item
id outside the catalog: 404; the same item liked and disliked: 422; a message over CRS_MAX_TEXT_CHARS:
413), which JSON Schema cannot express.
"""

from __future__ import annotations

import importlib.util

import pytest

if importlib.util.find_spec("schemathesis") is None:
    pytest.skip("schemathesis is not installed (pip install schemathesis)", allow_module_level=True)

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from api.deps import get_manager
from api.main import create_app
from recsys.settings import Settings

MAX_EXAMPLES = 8  # per operation: about 130 requests in all

pytestmark = pytest.mark.slow


@pytest.fixture
def api_schema(api_manager, redis_client):  # type: ignore[no-untyped-def]
    app = create_app(Settings(rate_limit=0, api_warm_up=False))
    app.dependency_overrides[get_manager] = lambda: api_manager
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_contract(case) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
