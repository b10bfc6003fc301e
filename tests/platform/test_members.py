"""Members of a factory: always an owner left, no username enumeration, a paginated list, valid usernames."""
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from collaboration.models import AuditEntry
from tests.builders import make_factory, make_user
from twins.errors import Invalid
from twins.models import Membership, Role
from twins.services.factories import membership_set

pytestmark = pytest.mark.django_db


def members_url(factory) -> str:
    return f"/api/factories/{factory.id}/members/"


@pytest.mark.parametrize("who", ["olivia", "staff"])
def test_the_last_owner_cannot_be_demoted(people, client_for, who):
    response = client_for(people[who]).post(members_url(people["plant"]), {"username": "olivia", "role": "manager"}, format="json")
    assert response.status_code == 409
    assert "at least one owner" in response.json()["detail"]
    assert Membership.objects.get(factory=people["plant"], user=people["olivia"]).role == Role.OWNER


@pytest.mark.parametrize("who", ["olivia", "staff"])
def test_the_last_owner_cannot_be_removed(people, client_for, who):
    response = client_for(people[who]).delete(f"{members_url(people['plant'])}olivia/")
    assert response.status_code == 409
    assert "at least one owner" in response.json()["detail"]
    assert Membership.objects.filter(factory=people["plant"], user=people["olivia"]).exists()
    assert not AuditEntry.objects.filter(action="member.remove").exists()


def test_an_owner_may_step_down_once_someone_else_owns_the_factory(people, client_for):
    olivia = client_for(people["olivia"])
    assert olivia.post(members_url(people["plant"]), {"username": "maggie", "role": "owner"}, format="json").status_code == 201
    assert olivia.post(members_url(people["plant"]), {"username": "olivia", "role": "manager"}, format="json").status_code == 201
    assert client_for(people["maggie"]).delete(f"{members_url(people['plant'])}olivia/").status_code == 204


def test_adding_a_member_answers_the_same_whether_or_not_the_account_exists(people, client_for):
    olivia = client_for(people["olivia"])
    known = olivia.post(members_url(people["plant"]), {"username": "mallory", "role": "viewer"}, format="json")
    unknown = olivia.post(members_url(people["plant"]), {"username": "nobody-at-all", "role": "viewer"}, format="json")
    assert known.status_code == unknown.status_code == 201
    assert set(known.json()) == set(unknown.json())
    assert known.json()["detail"].replace("mallory", "X") == unknown.json()["detail"].replace("nobody-at-all", "X")
    assert not get_user_model().objects.filter(username="nobody-at-all").exists()
    assert Membership.objects.filter(factory=people["plant"], user=people["mallory"], role=Role.VIEWER).exists()


@pytest.mark.parametrize("username", ["<script>", "a b", "x" * 151, "", "o'brien"])
def test_an_invalid_username_is_a_400_naming_the_field(people, client_for, username):
    response = client_for(people["olivia"]).post(members_url(people["plant"]), {"username": username, "role": "viewer"}, format="json")
    assert response.status_code == 400
    assert "username" in response.json()


def test_the_members_list_is_paginated(people, client_for):
    plant = people["plant"]
    for i in range(7):
        Membership.objects.create(factory=plant, user=make_user(f"extra{i}"), role=Role.VIEWER)
    victor = client_for(people["victor"])
    page = victor.get(members_url(plant), {"page_size": 5}).json()
    assert page["count"] == 12 and len(page["results"]) == 5 and page["next"] and page["previous"] is None
    rows = page["results"]
    while page["next"]:
        page = victor.get(page["next"]).json()
        rows += page["results"]
    names = [m["username"] for m in rows]
    assert names == sorted(names) and len(set(names)) == 12
    assert all(m.keys() == {"username", "role"} for m in rows)


@pytest.mark.parametrize("username", ["</script><img src=x onerror=alert(1)>'\"", "a b", "x" * 151])
def test_add_member_refuses_an_invalid_username(people, username):
    with pytest.raises(CommandError, match="username"):
        call_command("add_member", "plant", username, "viewer", "--password", "pw")
    assert not get_user_model().objects.filter(username=username).exists()


def test_the_service_refuses_an_invalid_username_for_a_new_account(db):
    factory = make_factory()
    with pytest.raises(Invalid):
        membership_set(factory=factory, username="bad name", role=Role.VIEWER, by=None, password="pw", create_user=True)
    assert not get_user_model().objects.filter(username="bad name").exists()


def test_add_member_still_creates_valid_accounts(people):
    call_command("add_member", "plant", "carol.smith+ops@example", "engineer", "--password", "pw")
    carol = get_user_model().objects.get(username="carol.smith+ops@example")
    assert carol.check_password("pw") and Membership.objects.get(user=carol).role == Role.ENGINEER
