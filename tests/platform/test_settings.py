"""Production settings refuse unsafe configuration and pass `check --deploy` (RELIABILITY.md)."""
import os
import subprocess
import sys

from django.conf import settings

PROD_ENV = {
    "PATH": os.environ["PATH"], "DJANGO_SECRET_KEY": "a-very-long-production-secret-" + "k" * 40,
    "DJANGO_ALLOWED_HOSTS": "plant.example.com", "DATABASE_URL": "sqlite:////tmp/prod-check.sqlite3",
}


def run_manage(*args, env):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120)


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PROD_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = run_manage("check", env=env)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_a_wildcard_host():
    result = run_manage("check", env={**PROD_ENV, "DJANGO_ALLOWED_HOSTS": "*"})
    assert result.returncode != 0 and "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_check_deploy_is_clean():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


def test_security_headers_are_set(client, db):
    response = client.get("/login/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_production_on_postgresql_uses_a_connection_pool():
    # Under ASGI each request's sync code runs in a thread of its own: without a pool every request would
    # open a new PostgreSQL connection (CONN_MAX_AGE is never reached).
    env = {**PROD_ENV, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test"}
    code = "from django.conf import settings as s; d = s.DATABASES['default']; print(d['CONN_MAX_AGE'], sorted(d['OPTIONS']['pool']))"
    result = run_manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert "0 ['max_size', 'min_size', 'timeout']" in result.stdout.splitlines()
