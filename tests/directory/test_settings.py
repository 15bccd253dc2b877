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
    assert client.get("/healthz").json()["status"] == "ok"
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


def settings_under(tmp_path: Path, code: str, **extra: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "TRYGG_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update({"TRYGG_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "trygg.settings", **extra})
    done = subprocess.run([sys.executable, "-c", f"import django; django.setup(); from django.conf import settings; "
                           f"print({code})"], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_under_https_the_cookies_carry_the_host_prefix_and_preload_waits_for_the_operator(tmp_path: Path) -> None:
    """Issue 12 §11: TRYGG_HTTPS=1 names the session, CSRF and device cookies __Host-...; HSTS is sent
    without preload unless TRYGG_HSTS_PRELOAD=1 asks for it."""
    code = "settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, settings.TRYGG_DEVICE_COOKIE, " \
           "settings.SECURE_HSTS_PRELOAD, settings.SESSION_COOKIE_SECURE"
    assert settings_under(tmp_path, code, TRYGG_HTTPS="1") == \
        "__Host-sessionid __Host-csrftoken __Host-trygg_device False True"
    assert settings_under(tmp_path, "settings.SECURE_HSTS_PRELOAD", TRYGG_HTTPS="1", TRYGG_HSTS_PRELOAD="1") == "True"
    assert settings_under(tmp_path, code) == "sessionid csrftoken trygg_device False False"
