"""The audit log's reader (issue 11, item 11, R-PRIV-02): leadership of a school and the municipality
admin read who viewed which confidential thing, as a page and as ``GET /api/v1/audit``, after a
recent strong sign-in; everyone else gets 404."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import step_up
from trygg.audit.models import AuditRecord


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def kari_viewed_a_case(api_client, strong_api_client) -> int:
    """kari.4a reports a threat; she (reporter) and rektor (leader) open the case file."""
    case_id = post(api_client("kari.4a"), "/api/v1/reports",
                   {"category": "threat_violence_stalking", "description": "Trussel"}).json()["case_id"]
    assert api_client("kari.4a").get(f"/api/v1/cases/{case_id}").status_code == 200
    assert strong_api_client("rektor").get(f"/api/v1/cases/{case_id}").status_code == 200
    return case_id


def browser(person: Any, username: str) -> Client:
    client = Client()
    client.force_login(person(username))
    return client


def test_r_priv_02_rektor_reads_who_viewed_a_case_file_and_filters(kari_viewed_a_case, strong_api_client):
    """R-PRIV-02: rektor sees kari.4a's and his own views of the case, with who, when and what; the
    person, kind and after filters narrow the list; his reading is audited too."""
    rektor = strong_api_client("rektor")
    rows = rektor.get("/api/v1/audit").json()
    viewed = [r for r in rows if r["action"] == "case.viewed" and r["target_id"] == str(kari_viewed_a_case)]
    assert {r["actor"]["username"] for r in viewed} == {"kari.4a", "rektor"}
    assert set(viewed[0]) >= {"id", "at", "actor", "action", "target_kind", "target_id"}
    only_kari = rektor.get("/api/v1/audit?person=kari.4a&kind=case").json()
    assert only_kari and {r["actor"]["username"] for r in only_kari} == {"kari.4a"}
    assert {r["target_kind"] for r in only_kari} == {"cases.case"}
    last = rows[-1]["id"]
    assert all(r["id"] > last for r in rektor.get(f"/api/v1/audit?after={last}").json())
    assert AuditRecord.objects.filter(actor__username="rektor", action="audit.read").exists()


def test_r_priv_02_the_municipality_admin_reads_the_log(kari_viewed_a_case, strong_api_client):
    """R-PRIV-02: the municipality admin reads the whole municipality's log."""
    rows = strong_api_client("admin").get("/api/v1/audit?kind=case").json()
    assert any(r["action"] == "case.viewed" for r in rows)


@pytest.mark.parametrize("username", ["kari.4a", "tr", "mor.emma", "emma.4a", "saksbehandler"])
def test_r_priv_01_everyone_else_gets_404_even_with_a_strong_sign_in(username, strong_api_client, person):
    """R-PRIV-01: teachers, representatives, guardians, pupils (and the case handler) get 404, as for
    something that does not exist, through the API and the page."""
    assert strong_api_client(username).get("/api/v1/audit").status_code == 404
    assert step_up(browser(person, username)).get("/audit/").status_code == 404


def test_r_staff_02_the_log_opens_only_after_a_strong_sign_in(api_client, person):
    """R-STAFF-02: rektor with a password-only token gets 403 step_up_required; the page sends him to
    the step-up page; after stepping up the page lists the records."""
    refused = api_client("rektor").get("/api/v1/audit")
    assert refused.status_code == 403 and refused.json()["error"] == "step_up_required"
    assert browser(person, "rektor").get("/audit/").status_code != 200
    page = step_up(browser(person, "rektor")).get("/audit/")
    assert page.status_code == 200 and 'data-testid="audit-rows"' in page.content.decode()


def test_r_staff_02_a_leader_does_not_learn_of_a_case_against_him_through_the_log(report_against_rektor,
                                                                                  strong_api_client):
    """R-STAFF-02: mor.emma's views of her case against rektor are not in rektor's audit log."""
    rows = strong_api_client("rektor").get("/api/v1/audit?kind=case").json()
    assert str(report_against_rektor) not in {r["target_id"] for r in rows}
    admin_rows = strong_api_client("admin").get("/api/v1/audit?kind=case").json()
    assert str(report_against_rektor) in {r["target_id"] for r in admin_rows}


@pytest.fixture
def report_against_rektor(api_client) -> int:
    mor = api_client("mor.emma")
    case_id = post(mor, "/api/v1/reports", {"category": "criticism_of_staff", "description": "x",
                                           "reported_username": "rektor"}).json()["case_id"]
    assert mor.get(f"/api/v1/cases/{case_id}").status_code == 200
    return case_id


def test_r_priv_02_an_admin_view_of_a_protected_person_is_audited(person):
    """R-PRIV-02: the municipality admin opening ali.9b's record in the admin writes an audit record."""
    client = step_up(browser(person, "admin"))
    ali = person("ali.9b")
    assert client.get(f"/admin/directory/person/{ali.pk}/change/").status_code == 200
    assert AuditRecord.objects.filter(actor__username="admin", action="directory.protected_record_viewed",
                                      target_id=str(ali.pk)).exists()
