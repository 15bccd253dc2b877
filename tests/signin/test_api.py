"""The sign-in API and pages: providers offered, sign-out, one's own sessions and tokens, signing
out everywhere, passwords turned off per role, link codes, and ``trygg demo-otp`` (R-STAFF-02,
R-PRIV-01). Three personas where it matters: the owner, someone related, an outsider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from trygg.audit.models import AuditRecord
from trygg.directory.models import ApiToken, Person
from trygg.signin.models import LinkCode, OidcProvider, SignInSession


def json_post(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(path, body or {}, content_type="application/json")


def test_the_providers_are_listed_for_anyone_with_their_login_url(client, demo):
    """GET /api/v1/auth/providers: [{id, name, login_url}], enabled ones only, without signing in."""
    shown = OidcProvider.objects.create(municipality=demo, name="Feide", issuer="https://auth.dataporten.no",
                                        client_id="c", client_secret="s")
    OidcProvider.objects.create(municipality=demo, name="Old", issuer="https://old.example", client_id="c",
                                client_secret="s", enabled=False)
    listed = client.get("/api/v1/auth/providers").json()
    assert listed == [{"id": shown.pk, "name": "Feide", "login_url": f"/signin/oidc/{shown.pk}/start/"}]
    assert "Sign in with Feide" in client.get("/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_logout_revokes_the_calling_token_only(api_client, person):
    """POST /api/v1/auth/logout: that token answers 401 after; the person's other token still works."""
    first, second = api_client("mor.emma"), api_client("mor.emma")
    assert json_post(first, "/api/v1/auth/logout").status_code == 204
    assert first.get("/api/v1/me").status_code == 401
    assert second.get("/api/v1/me").status_code == 200


def test_logout_ends_the_calling_session(person):
    """With the session cookie (and CSRF), logout ends the browser session."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(person("mor.emma"))
    client.get("/")
    csrf = client.cookies["csrftoken"].value
    assert client.post("/api/v1/auth/logout", HTTP_X_CSRFTOKEN=csrf).status_code == 204
    assert client.get("/api/v1/me").status_code == 401
    assert not SignInSession.objects.filter(person=person("mor.emma")).exists()


def test_r_priv_01_a_person_lists_their_own_sessions_and_tokens(api_client, person):
    """GET /api/v1/auth/sessions: one's browsers and tokens, the calling one marked; no one else's."""
    browser = Client(HTTP_USER_AGENT="Firefox on a phone")
    assert browser.post("/login/", {"username": "far.emma", "password": "demo"}).status_code == 302
    app = api_client("far.emma")
    api_client("mor.emma")
    listed = app.get("/api/v1/auth/sessions").json()
    assert [s["device"] for s in listed["sessions"]] == ["Firefox on a phone"]
    assert [t["current"] for t in listed["tokens"]] == [True]
    from_browser = browser.get("/api/v1/auth/sessions").json()
    assert [s["current"] for s in from_browser["sessions"]] == [True]


def test_r_priv_01_sign_out_everywhere_revokes_every_session_and_token(api_client, person):
    """POST /api/v1/auth/sessions/revoke-all: every browser and token of the person stops working."""
    browser = Client()
    browser.force_login(person("far.emma"))
    app, other_app = api_client("far.emma"), api_client("far.emma")
    assert json_post(app, "/api/v1/auth/sessions/revoke-all").json() == {"sessions": 1, "tokens": 2}
    for client in (browser, app, other_app):
        assert client.get("/api/v1/me").status_code == 401
    assert AuditRecord.objects.filter(action="auth.signed_out_everywhere").count() == 1


def test_the_sessions_page_signs_out_everywhere(person):
    """The page lists the browser and offers "sign out everywhere", which ends this browser too."""
    client = Client()
    client.force_login(person("mor.sara"))
    page = client.get("/signin/sessions/").content.decode()
    assert 'data-testid="session"' in page and 'data-testid="sign-out-everywhere"' in page
    done = client.post("/signin/sessions/", {"action": "everywhere"})
    assert done.status_code == 302 and done["Location"] == "/login/"
    assert client.get("/api/v1/me").status_code == 401


def test_r_priv_01_someone_elses_token_or_session_is_404(api_client, person):
    """One cannot end another person's sign-in: their token and session ids answer 404."""
    token, _raw = ApiToken.issue(person("mor.emma"))
    browser = Client()
    browser.force_login(person("mor.emma"))
    row = SignInSession.objects.get(person=person("mor.emma"))
    outsider = api_client("mor.sara")
    assert outsider.delete(f"/api/v1/auth/tokens/{token.pk}").status_code == 404
    assert outsider.delete(f"/api/v1/auth/sessions/{row.pk}").status_code == 404
    assert browser.get("/api/v1/me").status_code == 200
    owner = api_client("mor.emma")
    assert owner.delete(f"/api/v1/auth/sessions/{row.pk}").status_code == 204
    assert browser.get("/api/v1/me").status_code == 401


@pytest.fixture
def pupils_without_passwords(demo: Any) -> None:
    """The municipality turns local passwords off for pupils (they use Feide)."""
    from trygg.policy import engine
    from trygg.policy.models import PolicyConfig

    config = PolicyConfig.objects.get(municipality=demo)
    config.overrides = {**config.overrides, "core_platform.local-passwords": {
        "password_roles": ["guardian", "teacher", "leader", "union_rep", "safety_rep", "admin"]}}
    config.save()
    engine.invalidate()


def test_r_staff_02_passwords_off_for_pupils_at_the_token_api_and_the_login_form(client, pupils_without_passwords):
    """emma.4a's right password is refused at POST /api/v1/auth/token (403 passwords_off, naming the
    rule) and at the login form; mor.emma, a guardian, still signs in with hers."""
    refused = json_post(client, "/api/v1/auth/token", {"username": "emma.4a", "password": "demo"})
    assert refused.status_code == 403
    assert refused.json()["error"] == "passwords_off"
    assert refused.json()["rule"] == "core_platform.local-passwords"
    form = client.post("/login/", {"username": "emma.4a", "password": "demo"}, HTTP_ACCEPT_LANGUAGE="en")
    assert form.status_code == 403 and "turned passwords off" in form.content.decode()
    assert client.get("/api/v1/me").status_code == 401
    assert json_post(client, "/api/v1/auth/token", {"username": "mor.emma", "password": "demo"}).status_code == 200


def test_a_wrong_password_is_401_before_any_role_setting_is_told(client, pupils_without_passwords):
    """The role setting is asked only after a right password: a guesser learns nothing from it."""
    refused = json_post(client, "/api/v1/auth/token", {"username": "emma.4a", "password": "nope"})
    assert refused.status_code == 401 and refused.json()["error"] == "bad_credentials"


@pytest.mark.parametrize(("username", "status"), [
    pytest.param("rektor", 201, id="leader of the school"),
    pytest.param("admin", 201, id="municipality admin"),
    pytest.param("kari.4a", 404, id="contact teacher"),
    pytest.param("mor.sara", 404, id="another guardian"),
])
def test_r_priv_01_link_codes_are_handed_out_by_leaders_and_admins(api_client, username, status):
    """POST /api/v1/link-codes: a one-time code for mor.emma, stored hashed; others get 404."""
    response = json_post(api_client(username), "/api/v1/link-codes", {"username": "mor.emma"})
    assert response.status_code == status
    if status == 201:
        code = response.json()["code"]
        stored = LinkCode.objects.get(person__username="mor.emma")
        assert code.replace("-", "") not in stored.digest and len(stored.digest) == 64
        assert AuditRecord.objects.filter(action="auth.link_code_created").exists()


def test_a_link_code_for_someone_unknown_is_404(api_client):
    assert json_post(api_client("rektor"), "/api/v1/link-codes", {"username": "nobody"}).status_code == 404


def test_demo_otp_prints_the_code_of_a_demo_staff_account_only(capsys, person: Callable[[str], Person]):
    """``trygg demo-otp rektor`` prints the current code; a pupil (no device) is refused."""
    from trygg.signin.cli import cmd_demo_otp
    from trygg.signin.demo import demo_totp_key, totp_code

    class Args:
        username = "rektor"

    assert cmd_demo_otp(Args()) == 0
    printed = capsys.readouterr().out.strip()
    assert printed in {totp_code(demo_totp_key("rektor"), step_offset=s) for s in (-1, 0)}
    Args.username = "emma.4a"
    assert cmd_demo_otp(Args()) == 2


def test_demo_otp_refuses_outside_a_demo_database(capsys, person: Callable[[str], Person], demo):
    """Without the demo municipality (a real database), nothing is printed."""
    from trygg.signin.cli import cmd_demo_otp

    demo.source_id = "oslo-kommune"
    demo.save(update_fields=["source_id"])

    class Args:
        username = "rektor"

    assert cmd_demo_otp(Args()) == 2
    assert capsys.readouterr().out == ""


def test_r_priv_04_the_right_of_access_export_holds_ones_sign_ins_without_secrets(api_client, person):
    """GET /api/v1/me/export has the person's tokens and authenticator apps, never a digest or key."""
    from trygg.signin.demo import demo_totp_key

    body = api_client("rektor").get("/api/v1/me/export")
    data = body.json()["signin"]
    assert len(data["api_tokens"]) == 1 and data["authenticator_apps"] == [{"name": "Demo app", "confirmed": True}]
    token = ApiToken.objects.get(person=person("rektor"))
    assert token.digest not in body.content.decode() and demo_totp_key("rektor") not in body.content.decode()


def test_r_priv_01_the_link_code_page_tells_a_teacher_nothing_about_who_exists(person):
    """The page is for leaders and admins; for a leader, someone outside their school reads like no one."""
    teacher = Client()
    teacher.force_login(person("kari.4a"))
    assert teacher.get("/signin/link-codes/").status_code == 404
    rektor = Client()
    rektor.force_login(person("rektor"))
    made = rektor.post("/signin/link-codes/", {"username": "mor.emma"})
    assert made.status_code == 200 and b'data-testid="link-code"' in made.content
    assert rektor.post("/signin/link-codes/", {"username": "nobody"}).status_code == 404
