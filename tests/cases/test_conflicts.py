"""Conflicts of interest in cases (issue 11, item 2): the reported person never sees, handles or is
assigned the case, through the JSON API, the case pages and the event stream."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.cases.conftest import post
from tests.conftest import step_up
from trygg.cases.models import Case, Participant
from trygg.events.models import EventRecipient


def roles_of(case_id: int) -> set[tuple[str, str]]:
    return set(Participant.objects.filter(case_id=case_id).values_list("person__username", "role"))


@pytest.fixture
def browser_of(person: Any) -> Any:
    def make(username: str) -> Client:
        client = Client()
        client.force_login(person(username))
        return client

    return make


@pytest.fixture
def case_against_kari(report: Any) -> int:
    """emma.4a reports her own contact teacher, kari.4a."""
    response = report("emma.4a", category="bullying", description="Læreren kaller meg dum",
                      reported_username="kari.4a")
    assert response.status_code == 201, response.content
    return int(response.json()["case_id"])


def _doors_of_a_case(client: Client, case_id: int) -> list[int]:
    """Every API door of a case, as the status codes they answer."""
    step = Case.objects.get(pk=case_id).steps.first()
    return [
        client.get(f"/api/v1/cases/{case_id}").status_code,
        post(client, f"/api/v1/cases/{case_id}/transition", {"to": "assessed"}).status_code,
        post(client, f"/api/v1/cases/{case_id}/contacts", {"note": "Snakket med Emma"}).status_code,
        post(client, f"/api/v1/cases/{case_id}/follow-up", {"days": 3}).status_code,
        post(client, f"/api/v1/cases/{case_id}/victim-confirmation").status_code,
        post(client, f"/api/v1/cases/{case_id}/steps/{step.pk if step else 1}", {"done": True}).status_code,
    ]


def test_r_staff_02_r_pup_02_a_report_against_the_contact_teacher_goes_to_leadership_without_her(
    case_against_kari, strong_api_client
):
    """R-STAFF-02, R-PUP-02: a pupil who reports her contact teacher shows an adult, but not that one:
    kari.4a is in the case only as the reported person, rektor handles it."""
    roles = roles_of(case_against_kari)
    assert ("kari.4a", "reported") in roles
    assert ("kari.4a", "teacher") not in roles
    assert ("rektor", "leader") in roles
    assert Case.objects.get(pk=case_against_kari).assigned_leader.username == "rektor"
    body = strong_api_client("rektor").get(f"/api/v1/cases/{case_against_kari}").json()
    assert body["description"] == "Læreren kaller meg dum"


def test_r_staff_02_r_priv_01_the_reported_teacher_gets_404_through_every_api_door(
    case_against_kari, strong_api_client
):
    """R-STAFF-02, R-PRIV-01: kari.4a, even with a strong sign-in, gets 404 on every operation of the
    case against her, as anyone outside it; the case is in none of her lists."""
    kari = strong_api_client("kari.4a")
    assert _doors_of_a_case(kari, case_against_kari) == [404] * 6
    lists = kari.get("/api/v1/cases").json()
    assert case_against_kari not in [c["id"] for c in lists["mine"] + lists["handling"]]


def test_r_staff_02_the_reported_teacher_gets_404_on_the_case_pages(case_against_kari, browser_of):
    """R-STAFF-02: the case page, its print view, its ZIP and its forms are 404 for kari.4a."""
    kari = step_up(browser_of("kari.4a"))
    for path in ("", "print/", "export.zip", "sent/"):
        assert kari.get(f"/cases/{case_against_kari}/{path}").status_code == 404, path
    assert kari.post(f"/cases/{case_against_kari}/contact/", {"note": "x"}).status_code == 404
    assert kari.post(f"/cases/{case_against_kari}/transition/", {"to": "assessed"}).status_code == 404
    assert f"/cases/{case_against_kari}/".encode() not in kari.get("/cases/handling/").content


def test_r_staff_02_the_reported_teacher_is_told_nothing_through_the_event_log(case_against_kari,
                                                                                strong_api_client):
    """R-STAFF-02: case.updated events (the WebSocket and the long poll read the log) never reach
    kari.4a; they reach rektor."""
    post(strong_api_client("rektor"), f"/api/v1/cases/{case_against_kari}/transition", {"to": "assessed"})
    recipients = set(EventRecipient.objects.filter(
        event__type="case.updated", event__payload__case_id=case_against_kari,
    ).values_list("person__username", flat=True))
    assert "rektor" in recipients and "kari.4a" not in recipients


def test_r_staff_02_the_html_report_form_routes_the_same_way(browser_of):
    """R-STAFF-02: the report form (the other door of reporting) gives the same case: kari.4a only as
    the reported person."""
    response = browser_of("emma.4a").post("/cases/report/", {
        "category": "bullying", "description": "Læreren er slem", "reported_username": "kari.4a",
    })
    assert response.status_code == 302
    case = Case.objects.filter(reporter__username="emma.4a").latest("pk")
    assert ("kari.4a", "teacher") not in roles_of(case.pk)
    assert ("kari.4a", "reported") in roles_of(case.pk)


def test_r_staff_02_r_case_12_a_report_against_the_school_leader_goes_to_the_municipality(
    report, strong_api_client
):
    """R-STAFF-02, R-CASE-12: mor.emma reports rektor; the municipality's case handler (saksbehandler)
    is assigned and drives the case; rektor gets 404 and is never its leader."""
    case_id = report("mor.emma", category="criticism_of_staff", description="Rektor truet meg",
                     reported_username="rektor").json()["case_id"]
    case = Case.objects.get(pk=case_id)
    assert case.assigned_leader.username == "saksbehandler"
    assert ("rektor", "leader") not in roles_of(case_id)
    assert _doors_of_a_case(strong_api_client("rektor"), case_id) == [404] * 6
    handler = strong_api_client("saksbehandler")
    assert handler.get(f"/api/v1/cases/{case_id}").status_code == 200
    assert post(handler, f"/api/v1/cases/{case_id}/transition", {"to": "assessed"}).status_code == 200
    assert case_id in [c["id"] for c in handler.get("/api/v1/cases").json()["handling"]]


def test_r_case_04_union_and_safety_reps_are_offered_as_support_when_staff_are_reported(
    case_against_kari, api_client
):
    """R-CASE-04, R-CASE-14: the case against a teacher has tr and vo in it, and emma.4a's view of
    the case names them as support."""
    support = api_client("emma.4a").get(f"/api/v1/cases/{case_against_kari}").json()["support"]
    assert {(s["person"]["username"], s["role"]) for s in support} == {("tr", "union_rep"), ("vo", "safety_rep")}


def test_r_case_04_no_support_offer_where_the_pack_turns_it_off(report, demo):
    """R-CASE-04: a municipality that sets the offer's roles to [] gets no representatives."""
    from tests.cases.test_api import configure

    configure(demo, overrides={"dk_policy.reps-support-when-staff-reported": {"roles": []}})
    case_id = report("emma.4a", category="bullying", description="x", reported_username="kari.4a").json()["case_id"]
    assert not {r for _u, r in roles_of(case_id)} & {"union_rep", "safety_rep"}


def test_a_reported_union_rep_is_not_the_reps_in_his_own_case(report, strong_api_client):
    """R-STAFF-02: kari.4a reports tr; tr is only the reported person and gets 404."""
    case_id = report("kari.4a", category="intent_to_annoy", description="x", reported_username="tr").json()["case_id"]
    assert ("tr", "union_rep") not in roles_of(case_id)
    assert ("vo", "safety_rep") in roles_of(case_id)
    assert strong_api_client("tr").get(f"/api/v1/cases/{case_id}").status_code == 404


def test_the_demo_has_the_municipality_case_handler(person):
    """The demo account saksbehandler (password demo) is the municipality's case handler."""
    saksbehandler = person("saksbehandler")
    assert saksbehandler.check_password("demo")
    assert "case_handler" in saksbehandler.facts.roles and saksbehandler.facts.is_staff_member
