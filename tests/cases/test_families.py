"""Guardian reports (issue 11, item 7, R-PAR-03): the harmed child's class teacher is brought in, and
the parent reaches the other child's guardians through a message the leader approves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.cases.conftest import post
from tests.conftest import step_up
from trygg.cases.models import FamilyMessage, Participant
from trygg.messaging.models import Message


def roles_of(case_id: int) -> set[tuple[str, str]]:
    return set(Participant.objects.filter(case_id=case_id).values_list("person__username", "role"))


@pytest.fixture
def mor_emma_case(report: Any) -> int:
    """mor.emma reports that noah.4a harasses her daughter emma.4a."""
    response = report("mor.emma", category="bullying", description="Noah plager Emma hver dag",
                      reported_username="noah.4a", harmed_usernames=["emma.4a"])
    assert response.status_code == 201, response.content
    return int(response.json()["case_id"])


@pytest.fixture
def browser_of(person: Any) -> Any:
    def make(username: str) -> Client:
        client = Client()
        client.force_login(person(username))
        return client

    return make


def test_r_par_03_a_guardians_report_brings_in_the_harmed_childs_class_teacher(mor_emma_case, strong_api_client):
    """R-PAR-03: kari.4a, emma.4a's class teacher, is in mor.emma's case and sees it."""
    assert ("kari.4a", "teacher") in roles_of(mor_emma_case)
    assert strong_api_client("kari.4a").get(f"/api/v1/cases/{mor_emma_case}").status_code == 200


def test_r_par_03_the_html_report_form_brings_in_the_class_teacher_too(browser_of):
    """R-PAR-03: the report form, where a guardian ticks her child, gives the same case."""
    from trygg.cases.models import Case

    assert browser_of("far.emma").post("/cases/report/", {
        "category": "exclusion", "description": "Emma holdes utenfor", "harmed": ["emma.4a"],
    }).status_code == 302
    case = Case.objects.filter(reporter__username="far.emma").latest("pk")
    assert ("kari.4a", "teacher") in roles_of(case.pk)


def test_r_par_03_the_parent_reaches_the_other_family_through_the_leader(
    mor_emma_case, api_client, strong_api_client, person
):
    """R-PAR-03: mor.emma writes to noah.4a's guardian; nothing reaches verge.noah until rektor
    approves; then verge.noah reads it in a school-owned conversation with rektor in it, and mor.emma
    never receives verge.noah's e-mail, phone or address."""
    mor = api_client("mor.emma")
    case = mor.get(f"/api/v1/cases/{mor_emma_case}").json()
    assert case["family_messages"]["can_write"]
    sent = post(mor, f"/api/v1/cases/{mor_emma_case}/family-messages",
                {"body": "Kan vi snakke om barna våre?"})
    assert sent.status_code == 201 and sent.json()["state"] == "pending"
    assert not Message.objects.filter(body="Kan vi snakke om barna våre?").exists()
    rektor = strong_api_client("rektor")
    pending = rektor.get(f"/api/v1/cases/{mor_emma_case}").json()["family_messages"]["all"]
    assert [m["state"] for m in pending] == ["pending"]
    decided = post(rektor, f"/api/v1/cases/{mor_emma_case}/family-messages/{sent.json()['id']}/decision",
                   {"approve": True})
    assert decided.status_code == 200 and decided.json()["state"] == "approved"
    conversation_id = decided.json()["conversation_id"]
    verge = api_client("verge.noah")
    messages = verge.get(f"/api/v1/conversations/{conversation_id}/messages").json()
    assert [m["body"] for m in messages] == ["Kan vi snakke om barna våre?"]
    conversation = Message.objects.get(body="Kan vi snakke om barna våre?").conversation
    assert conversation.school_owned
    members = set(conversation.memberships.values_list("person__username", flat=True))
    assert members == {"mor.emma", "verge.noah", "rektor"}
    seen = json.dumps([mor.get(f"/api/v1/cases/{mor_emma_case}").json(),
                       mor.get(f"/api/v1/conversations/{conversation_id}").json(),
                       mor.get(f"/api/v1/conversations/{conversation_id}/messages").json()])
    verge_noah = person("verge.noah")
    for detail in (verge_noah.email, verge_noah.phone, verge_noah.address):
        assert detail and detail not in seen


def test_r_par_03_only_the_harmed_childs_guardian_writes_and_only_the_leader_approves(
    mor_emma_case, api_client, strong_api_client
):
    """R-PAR-03: emma.4a herself and kari.4a (a handler) get 403 naming the rule; a guardian of
    another class 404; kari.4a cannot approve (403), and a decided message cannot be decided again."""
    for who in (api_client("emma.4a"), strong_api_client("kari.4a")):
        refused = post(who, f"/api/v1/cases/{mor_emma_case}/family-messages", {"body": "Hei"})
        assert refused.status_code == 403 and refused.json()["rule"] == "dk_policy.parents-reach-each-other"
    assert post(api_client("mor.sara"), f"/api/v1/cases/{mor_emma_case}/family-messages",
                {"body": "Hei"}).status_code == 404
    mid = post(api_client("mor.emma"), f"/api/v1/cases/{mor_emma_case}/family-messages",
               {"body": "Hei"}).json()["id"]
    path = f"/api/v1/cases/{mor_emma_case}/family-messages/{mid}/decision"
    assert post(strong_api_client("kari.4a"), path, {"approve": True}).status_code == 403
    assert post(strong_api_client("rektor"), path, {"approve": False}).json()["state"] == "refused"
    assert post(strong_api_client("rektor"), path, {"approve": True}).status_code == 409


def test_r_par_03_the_case_page_has_the_form_and_the_leaders_approval(mor_emma_case, browser_of):
    """R-PAR-03: mor.emma writes from the case page; rektor approves from his."""
    mor = browser_of("mor.emma")
    assert b'data-testid="send-family-message"' in mor.get(f"/cases/{mor_emma_case}/").content
    assert mor.post(f"/cases/{mor_emma_case}/family-messages/", {"body": "Ring meg gjerne"}).status_code == 302
    rektor = step_up(browser_of("rektor"))
    page = rektor.get(f"/cases/{mor_emma_case}/")
    assert b'data-testid="approve-family-message"' in page.content
    row = FamilyMessage.objects.get(case_id=mor_emma_case)
    decision = rektor.post(f"/cases/{mor_emma_case}/family-messages/{row.pk}/decision/", {"approve": "1"})
    assert decision.status_code == 302
    assert FamilyMessage.objects.get(pk=row.pk).state == "approved"
