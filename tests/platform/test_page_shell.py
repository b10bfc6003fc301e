"""The page shell carries who is signed in as data, never as markup (RELIABILITY.md, second round)."""
import json
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

HOSTILE = ["</script><img src=x onerror=alert(1)>'\"", "x' onmouseover='alert(1)", "'><img src=x onerror=alert(1)>", "a&quot;b"]


class Elements(HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer would read them."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.mark.parametrize("username", HOSTILE)
def test_a_hostile_username_stays_data_in_the_page_shell(client, username):
    # Accounts made before usernames were validated (or by hand in the database) may hold anything.
    user = get_user_model().objects.create_user(username=username, password="pw")
    client.force_login(user)
    parser = Elements()
    parser.feed(client.get("/").content.decode())
    tags = [tag for tag, _ in parser.tags]
    assert "img" not in tags
    body = next(attrs for tag, attrs in parser.tags if tag == "body")
    assert set(body) == {"data-page", "data-layout-id", "data-user"}
    assert json.loads(body["data-user"]) == {"id": user.id, "username": username, "is_staff": False}
