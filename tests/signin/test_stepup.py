"""Step-up at every door to confidential data: the case file (page and API), a protected person's
record and the protection flags in the admin, the access-request export (page and API). Each is
refused without a recent strong sign-in, opens with one, and is audited either way (R-STAFF-02,
R-PRIV-02). Someone who may not see the thing at all gets 404 first (R-PRIV-01)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.conftest import step_up
from trygg.audit.models import AuditRecord
from trygg.directory.models import Person, SchoolClass
from trygg.signin.demo import demo_totp_key, totp_code
from trygg.signin.stepup import SESSION_STRONG_AT


def browser(person: Callable[[str], Person], username: str) -> Client:
    client = Client()
    client.force_login(person(username))
    return client


def audits(action: str, door: str) -> int:
    return AuditRecord.objects.filter(action=action, detail__door=door).count()


@pytest.fixture
def case_id(emma_case_factory: Callable[[], int]) -> int:
    return emma_case_factory()


@pytest.fixture
def emma_case_factory(api_client: Callable[[str | None], Client]) -> Callable[[], int]:
    """emma.4a reports harassment that happened elsewhere (no message needed): rektor handles it."""

    def make() -> int:
        response = api_client("emma.4a").post(
            "/api/v1/reports", {"category": "bullying", "description": "De ertet meg i friminuttet."},
            content_type="application/json")
        assert response.status_code == 201, response.content
        return int(response.json()["case_id"])

    return make


def test_r_staff_02_the_case_page_asks_for_a_step_up_and_then_opens(person, case_id):
    """rektor's case page sends him to the step-up page; after a step-up it opens. Both audited."""
    client = browser(person, "rektor")
    refused = client.get(f"/cases/{case_id}/")
    assert refused.status_code == 302
    assert refused["Location"] == f"/signin/step-up/?next=/cases/{case_id}/"
    assert audits("auth.step_up_refused", "case_file") == 1
    assert not AuditRecord.objects.filter(action="case.viewed").exists()
    opened = step_up(client).get(f"/cases/{case_id}/")
    assert opened.status_code == 200
    assert audits("auth.step_up_passed", "case_file") == 1
    assert AuditRecord.objects.filter(action="case.viewed", actor=person("rektor")).exists()


def test_r_staff_02_the_case_api_answers_step_up_required_then_the_file(api_client, strong_api_client, case_id):
    """GET /api/v1/cases/{id}: 403 step_up_required (design.md's error format) for a plain token; the
    case file for a stepped-up one. The reporter sees her status without any step-up."""
    refused = api_client("rektor").get(f"/api/v1/cases/{case_id}")
    assert refused.status_code == 403
    body = refused.json()
    assert body["error"] == "step_up_required"
    assert body["rule"] == "core_platform.strong-sign-in-for-confidential"
    assert body["requirement"] == "R-STAFF-02"
    assert body["message"] and body["window_minutes"] == 15
    assert audits("auth.step_up_refused", "case_file") == 1
    assert strong_api_client("rektor").get(f"/api/v1/cases/{case_id}").status_code == 200
    assert audits("auth.step_up_passed", "case_file") == 1
    assert api_client("emma.4a").get(f"/api/v1/cases/{case_id}").status_code == 200


def test_r_priv_01_an_outsider_gets_404_not_a_step_up(api_client, strong_api_client, person, case_id):
    """A guardian of another class is told nothing: 404 with or without a step-up, no step-up asked."""
    assert api_client("mor.sara").get(f"/api/v1/cases/{case_id}").status_code == 404
    assert browser(person, "mor.sara").get(f"/cases/{case_id}/").status_code == 404
    assert not AuditRecord.objects.filter(action__startswith="auth.step_up").exists()


def test_r_staff_02_a_case_action_needs_the_step_up_first(api_client, strong_api_client, case_id):
    """A handler's write to the case file (a transition) is refused before it happens."""
    refused = api_client("rektor").post(f"/api/v1/cases/{case_id}/transition", {"to": "assessed"},
                                        content_type="application/json")
    assert refused.status_code == 403 and refused.json()["error"] == "step_up_required"
    assert strong_api_client("rektor").get(f"/api/v1/cases/{case_id}").json()["status"] == "reported"


def test_r_staff_02_a_step_up_counts_for_the_packs_window_only(person, case_id, demo):
    """A step-up 16 minutes ago no longer counts (default 15); a municipality that sets 30 accepts it."""
    from trygg.policy.models import PolicyConfig

    client = browser(person, "rektor")
    session = client.session
    session[SESSION_STRONG_AT] = time.time() - 16 * 60
    session.save()
    assert client.get(f"/cases/{case_id}/").status_code == 302
    config = PolicyConfig.objects.get(municipality=demo)
    config.overrides = {**config.overrides,
                        "core_platform.strong-sign-in-for-confidential": {"step_up_minutes": 30}}
    config.save()
    from trygg.policy import engine

    engine.invalidate()
    assert client.get(f"/cases/{case_id}/").status_code == 200


def test_r_list_05_a_protected_pupils_record_in_the_admin_needs_a_step_up(person):
    """noah.4a's address is protected: his record opens only after a step-up; emma.4a's needs none."""
    rektor = browser(person, "rektor")
    noah, emma = person("noah.4a"), person("emma.4a")
    refused = rektor.get(f"/admin/directory/person/{noah.pk}/change/")
    assert refused.status_code == 302 and refused["Location"].startswith("/signin/step-up/")
    assert audits("auth.step_up_refused", "protected_record") == 1
    assert rektor.get(f"/admin/directory/person/{emma.pk}/change/").status_code == 200
    assert step_up(rektor).get(f"/admin/directory/person/{noah.pk}/change/").status_code == 200
    assert audits("auth.step_up_passed", "protected_record") == 1


def test_r_list_05_a_protected_pupils_guardian_is_a_protected_record_too(person):
    """mor.ali's own address is what ali.9b's flags hide: her record needs a step-up as well."""
    rektor = browser(person, "rektor")
    assert rektor.get(f"/admin/directory/person/{person('mor.ali').pk}/change/").status_code == 302


def test_r_list_05_the_protection_flags_list_needs_a_step_up(person):
    """The list of protection flags names every protected pupil: it opens only after a step-up."""
    rektor = browser(person, "rektor")
    assert rektor.get("/admin/directory/protection/").status_code == 302
    assert audits("auth.step_up_refused", "protection_flags") == 1
    assert step_up(rektor).get("/admin/directory/protection/").status_code == 200
    assert audits("auth.step_up_passed", "protection_flags") == 1


def test_r_list_04_the_access_request_export_needs_a_step_up(person, api_client, strong_api_client):
    """The export page and API: refused (redirect, 403) without, open with a step-up; audited both ways."""
    class_id = SchoolClass.objects.get(name="9B").pk
    page = browser(person, "rektor")
    assert page.get(f"/classes/{class_id}/export/").status_code == 302
    assert step_up(page).get(f"/classes/{class_id}/export/").status_code == 200
    url = f"/api/v1/classes/{class_id}/contact-list/export?requester=NRK"
    refused = api_client("rektor").get(url)
    assert refused.status_code == 403 and refused.json()["error"] == "step_up_required"
    assert strong_api_client("rektor").get(url).status_code == 200
    assert audits("auth.step_up_refused", "classlist_export") == 2
    assert audits("auth.step_up_passed", "classlist_export") == 2
    assert api_client("ola.9b").get(url).status_code == 404


def test_r_staff_02_a_current_code_steps_up_a_token_and_a_wrong_one_is_401(api_client, case_id):
    """POST /api/v1/auth/step-up with the authenticator's code steps up the calling token."""
    rektor = api_client("rektor")
    wrong = rektor.post("/api/v1/auth/step-up", {"otp": "000000"}, content_type="application/json")
    assert wrong.status_code == 401 and wrong.json()["error"] == "bad_otp"
    assert AuditRecord.objects.filter(action="auth.step_up_failed").count() == 1
    from django_otp.plugins.otp_totp.models import TOTPDevice

    # django-otp slows a device down after a wrong code; the test is not about that.
    TOTPDevice.objects.filter(user__username="rektor").update(throttling_failure_count=0,
                                                               throttling_failure_timestamp=None)
    right = rektor.post("/api/v1/auth/step-up", {"otp": totp_code(demo_totp_key("rektor"))},
                        content_type="application/json")
    assert right.status_code == 200 and right.json()["strong_until"]
    assert rektor.get(f"/api/v1/cases/{case_id}").status_code == 200


def test_r_staff_02_a_token_issued_with_a_code_is_stepped_up_and_a_reused_code_is_not(client, case_id):
    """POST /api/v1/auth/token {username, password, otp}: a stepped-up token. The same code again is
    refused (a code is good once)."""
    code = totp_code(demo_totp_key("rektor"))
    issued = client.post("/api/v1/auth/token", {"username": "rektor", "password": "demo", "otp": code},
                         content_type="application/json")
    assert issued.status_code == 200 and issued.json()["strong_until"]
    token = Client(HTTP_AUTHORIZATION=f"Bearer {issued.json()['token']}")
    assert token.get(f"/api/v1/cases/{case_id}").status_code == 200
    again = client.post("/api/v1/auth/token", {"username": "rektor", "password": "demo", "otp": code},
                        content_type="application/json")
    assert again.status_code == 401 and again.json()["error"] == "bad_otp"


def test_r_staff_02_the_step_up_page_takes_the_code_and_goes_on(person, case_id):
    """The step-up page: the current code, then back to the case file."""
    client = browser(person, "rektor")
    page = client.get(f"/signin/step-up/?next=/cases/{case_id}/")
    assert page.status_code == 200 and b'name="otp"' in page.content
    done = client.post("/signin/step-up/", {"otp": totp_code(demo_totp_key("rektor")),
                                             "next": f"/cases/{case_id}/"})
    assert done.status_code == 302 and done["Location"] == f"/cases/{case_id}/"
    assert client.get(f"/cases/{case_id}/").status_code == 200


def test_r_staff_02_staff_without_a_second_factor_are_asked_to_add_one(person, demo):
    """A teacher without an authenticator app signs in with a password and is sent to add one; it
    is confirmed with its first code, which also counts as a step-up."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user__username="kari.4a").delete()
    client = Client()
    signed_in = client.post("/login/", {"username": "kari.4a", "password": "demo", "next": "/"})
    assert signed_in.status_code == 302 and signed_in["Location"].startswith("/signin/authenticator/?required=1")
    started = client.post("/signin/authenticator/", {"action": "start"})
    assert b"<svg" in started.content
    device = TOTPDevice.objects.get(user__username="kari.4a", confirmed=False)
    confirmed = client.post("/signin/authenticator/", {"action": "confirm", "device": str(device.pk),
                                                       "otp": totp_code(device.key)})
    assert confirmed.status_code == 302
    assert TOTPDevice.objects.filter(user__username="kari.4a", confirmed=True).count() == 1
    assert AuditRecord.objects.filter(action="auth.second_factor_enrolled").exists()
    assert isinstance(client.session.get(SESSION_STRONG_AT), float)


def test_pupils_and_guardians_are_not_asked_for_a_second_factor(client: Any, demo: Any) -> None:
    """mor.emma signs in with a password and goes straight on."""
    signed_in = client.post("/login/", {"username": "mor.emma", "password": "demo", "next": "/"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/"
