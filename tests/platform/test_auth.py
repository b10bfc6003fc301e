"""Login, logout, tokens and login throttling (CONTRACT.md §3 Auth, RELIABILITY.md Access)."""
import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_login_sets_session_and_csrf_cookies(people):
    client = APIClient(enforce_csrf_checks=True)
    response = client.post("/api/auth/login/", {"username": "alice", "password": "alice"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"id": people["alice"].id, "username": "alice"}
    assert "sessionid" in response.cookies and "csrftoken" in response.cookies
    assert client.get("/api/factories/").status_code == 200


def test_session_writes_need_the_csrf_header(people):
    client = APIClient(enforce_csrf_checks=True)
    login = client.post("/api/auth/login/", {"username": "alice", "password": "alice"}, format="json")
    token = login.cookies["csrftoken"].value
    body = {"factory": people["plant"].id, "name": "New"}
    assert client.post("/api/layouts/", body, format="json").status_code == 403
    assert client.post("/api/layouts/", body, format="json", HTTP_X_CSRFTOKEN=token).status_code == 201


def test_wrong_password_is_a_json_400(people):
    response = APIClient().post("/api/auth/login/", {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "Wrong username or password."


def test_token_authenticates_scripts(people):
    token = APIClient().post("/api/auth/token/", {"username": "bob", "password": "bob"}, format="json").json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/factories/").json()["count"] == 1


def test_logout_ends_the_session(people):
    client = APIClient()
    client.post("/api/auth/login/", {"username": "alice", "password": "alice"}, format="json")
    assert client.post("/api/auth/logout/").status_code == 200
    assert client.get("/api/factories/").status_code in (401, 403)


def test_anonymous_requests_get_json_errors(db):
    response = APIClient().get("/api/layouts/")
    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("application/json")


def test_repeated_failures_lock_the_login_out(people, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = APIClient()
    for _ in range(3):
        client.post("/api/auth/login/", {"username": "victor", "password": "bad"}, format="json")
    locked = client.post("/api/auth/login/", {"username": "victor", "password": "victor"}, format="json")
    assert locked.status_code == 429
    token = client.post("/api/auth/token/", {"username": "victor", "password": "victor"}, format="json")
    assert token.status_code == 429


@pytest.mark.parametrize("content_type, body", [
    ("application/x-www-form-urlencoded", "username=alice&password=alice"),
    ("text/plain", '{"username": "alice", "password": "alice"}'),  # what <form enctype="text/plain"> can forge
    ("multipart/form-data; boundary=B", '--B\r\nContent-Disposition: form-data; name="username"\r\n\r\nalice\r\n'
                                        '--B\r\nContent-Disposition: form-data; name="password"\r\n\r\nalice\r\n--B--\r\n'),
])
@pytest.mark.parametrize("url", ["/api/auth/login/", "/api/auth/token/"])
def test_a_cross_site_form_post_cannot_log_in(people, url, content_type, body):
    """Login CSRF: a page elsewhere can make the browser post a form, never a JSON body (that needs CORS)."""
    client = APIClient(enforce_csrf_checks=True)
    response = client.generic("POST", url, body, content_type=content_type, HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 415
    assert response["Content-Type"].startswith("application/json") and response.json()["detail"]
    assert "sessionid" not in response.cookies
    assert client.get("/api/auth/me/").status_code in (401, 403)
