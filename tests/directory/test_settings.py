"""The production configuration passes Django's deployment checklist (issue 2 §1)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_deploy_check(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "TRYGG_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update({"TRYGG_DATA_DIR": str(tmp_path), "TRYGG_ALLOWED_HOSTS": "trygg.kommune.example", **extra})
    return subprocess.run([sys.executable, "-m", "trygg.cli", "manage", "check", "--deploy", "--fail-level",
                           "WARNING"], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_manage_check_deploy_is_clean_for_production(tmp_path: Path) -> None:
    """With TRYGG_HTTPS=1 and a real secret key, `manage.py check --deploy` reports no issue at all."""
    done = run_deploy_check(tmp_path, TRYGG_HTTPS="1", TRYGG_SECRET_KEY=secrets.token_urlsafe(64))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_the_development_defaults_fail_the_deploy_check(tmp_path: Path) -> None:
    """Without HTTPS and with the development key the same check fails, naming the key and HTTPS settings:
    the clean result above is the configuration's doing, not a silent check."""
    done = run_deploy_check(tmp_path)
    assert done.returncode != 0
    for warning in ("trygg.E001", "security.W004", "security.W012", "security.W016"):
        assert warning in done.stderr + done.stdout, warning


def test_pages_need_sign_in_except_login_and_health(client, db) -> None:
    """Anonymous visitors are sent to the login page from every page but /login/ and /healthz."""
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/login/").status_code == 200
    for url in ("/", "/messages/", "/guidelines/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next=")


def test_security_headers_and_cookies(client, django_user_model) -> None:
    """Pages carry a CSP without inline script, nosniff, a referrer policy and no-store once signed in;
    the session cookie is HttpOnly and SameSite; passwords are hashed with argon2."""
    login_page = client.get("/login/")
    csp = login_page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert login_page["X-Content-Type-Options"] == "nosniff"
    assert login_page["Referrer-Policy"] == "same-origin"
    person = django_user_model.objects.create_user("header.test", password="a long pass phrase", name="H T")
    assert person.password.startswith("argon2")
    response = client.post("/login/", {"username": "header.test", "password": "a long pass phrase"})
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert client.get("/")["Cache-Control"] == "no-store"
