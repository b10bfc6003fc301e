"""schemathesis over /api/schema/: no request the schema allows may cause a 5xx or a response that breaks
the schema (RELIABILITY.md, REST). Runs as alice (an engineer) against a small plant."""
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def token(people, draft):
    # Like django.test.Client: keep the test transaction's connection open across WSGI requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield Token.objects.create(user=people["alice"]).key
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@pytest.mark.django_db
def test_api_has_no_server_errors_and_keeps_its_schema(case, token):
    case.headers = {**(case.headers or {}), "Authorization": f"Token {token}"}
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
