"""Fixtures of the platform tests beyond those of tests/conftest.py."""
import pytest

from tests.platform.plant_objects import make_everything


@pytest.fixture
def plant_with_everything(people, client_for, draft):
    olivia = client_for(people["olivia"])
    return make_everything(lambda path, body: olivia.post(path, body, format="json").json(), lambda path, params: olivia.get(path, params).json(),
                           plant=people["plant"], draft=draft)
