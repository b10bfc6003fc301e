"""schemathesis over /api/schema/: no request the schema allows (or, in negative mode, one it forbids) may
cause a 5xx, an undocumented status or a body that breaks the schema (RELIABILITY.md, REST).

Every case goes as the next of the roles of CONTRACT.md §2 and an outsider, in turn, against a plant holding
one object of every kind (tests/platform/plant_objects.py; small ids, so generated ids often hit a real one).
Per operation: schemathesis' coverage cases (boundaries, missing and wrong-typed fields, unexpected methods)
plus GENERATED_EXAMPLES from hypothesis: about 9,000 cases, at least 50 for every operation that takes an
input (a few minutes on a quiet machine). bench/fuzz.py runs the long version against a real server.
"""
import itertools

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

ROLES = {"owner": "olivia", "manager": "maggie", "engineer": "alice", "viewer": "victor", "outsider": "mallory"}
GENERATED_EXAMPLES = 40

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def tokens(people, plant_with_everything):
    """The roles in turn, each with its token (made anew each time: a fuzzed logout or rotate ends a token)."""
    # Like django.test.Client: keep the test transaction's connection open across WSGI requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield (Token.objects.get_or_create(user=people[user])[0].key for user in itertools.cycle(ROLES.values()))
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=GENERATED_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate])
@pytest.mark.django_db
def test_api_has_no_server_errors_and_keeps_its_schema(case, tokens):
    case.headers = {**(case.headers or {}), "Authorization": f"Token {next(tokens)}"}
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance, response_schema_conformance])
