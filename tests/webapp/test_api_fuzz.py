"""Schemathesis over the OpenAPI schema, at a bounded budget: no operation answers a researcher with a 5xx,
whatever the generated input (the project `demo` exists, so its slug reaches real objects)."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db
EXAMPLES_PER_OPERATION = 4


@pytest.fixture
def api_schema(db):
    from webapp.wsgi import application

    # as Django's test client does: the test's transaction must outlive each request
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_no_api_operation_answers_a_researcher_with_a_server_error(api_schema, project, researcher):
    # Driven by hand rather than through schemathesis' pytest plugin, which does not run under pytest 9.
    token, _ = Token.objects.get_or_create(user=researcher)
    failures, operations = [], 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def call(case):
            if "slug" in (case.path_parameters or {}):
                case.path_parameters["slug"] = project.slug
            response = case.call(headers={"Authorization": f"Token {token.key}"})
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}")

        call()
    assert operations >= 40
    assert not failures, sorted(set(failures))[:20]
