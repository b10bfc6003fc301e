"""Shared fixtures: the named people of STYLE.md and API clients logged in as them."""
import pytest
from rest_framework.test import APIClient

from tests.builders import make_factory, make_layout, make_user
from twins.models import Role


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def people(db):
    """alice and bob (engineers), maggie (manager), olivia (owner), victor (viewer) in `plant`;
    mallory belongs to another factory only; staff is a staff user in no factory."""
    alice, bob, maggie, olivia, victor, mallory = (make_user(n) for n in ("alice", "bob", "maggie", "olivia", "victor", "mallory"))
    staff = make_user("staff", staff=True)
    plant = make_factory(name="Plant", slug="plant", members={alice: Role.ENGINEER, bob: Role.ENGINEER, maggie: Role.MANAGER, olivia: Role.OWNER, victor: Role.VIEWER})
    other = make_factory(name="Other Plant", slug="other-plant", members={mallory: Role.OWNER})
    return {"alice": alice, "bob": bob, "maggie": maggie, "olivia": olivia, "victor": victor, "mallory": mallory, "staff": staff, "plant": plant, "other": other}


@pytest.fixture
def client_for():
    def make(user):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return make


@pytest.fixture
def draft(people):
    """A draft line layout in `plant`: source → M1 → M2 → M3 → sink."""
    return make_layout(factory=people["plant"], assets=3, line=True, name="Draft line")
