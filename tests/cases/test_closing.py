"""Closing and reopening a case (issue 11, item 9): every checklist step is settled before closing,
a threat cannot close with the police step open, and the harmed side can reopen within the period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from tests.cases.conftest import post
from tests.conftest import step_up
from trygg.cases.models import Case, ChecklistStep, TimelineEvent
from trygg.cases.serialise import step_label


def _walk_to_follow_up(rektor: Client, case_id: int) -> None:
    for to in ("assessed", "actions", "follow_up"):
        assert post(rektor, f"/api/v1/cases/{case_id}/transition", {"to": to}).status_code == 200


def _settle_all(rektor: Client, case_id: int, *, except_keys: tuple[str, ...] = ()) -> None:
    for step in ChecklistStep.objects.filter(case_id=case_id).exclude(key__in=except_keys):
        response = post(rektor, f"/api/v1/cases/{case_id}/steps/{step.pk}", {"done": True, "reference": "ref-1"})
        assert response.status_code == 200, response.content


@pytest.fixture
def browser_of(person: Any) -> Any:
    def make(username: str) -> Client:
        client = Client()
        client.force_login(person(username))
        return client

    return make


@pytest.fixture
def threat_case(report: Any) -> int:
    """kari.4a reports a concrete threat of violence: the police and work-injury steps open."""
    response = report("kari.4a", category="threat_violence_stalking", description="Trussel om vold")
    assert response.status_code == 201, response.content
    return int(response.json()["case_id"])


def _agree(client: Client, case_id: int) -> None:
    assert post(client, f"/api/v1/cases/{case_id}/victim-confirmation").status_code == 200


def test_r_case_12_a_case_with_open_steps_does_not_close_even_when_the_harmed_agree(
    emma_case_factory, api_client, strong_api_client
):
    """R-CASE-12: with every step open, closing is 409 naming the rule and the open steps; after
    each is done or marked not applicable with a reason, the case closes."""
    case_id = emma_case_factory()
    rektor = strong_api_client("rektor")
    _walk_to_follow_up(rektor, case_id)
    _agree(api_client("mor.emma"), case_id)
    refused = post(rektor, f"/api/v1/cases/{case_id}/transition", {"to": "closed"})
    assert refused.status_code == 409
    assert refused.json()["rule"] == "core_cases.checklist-before-closing"
    steps = list(ChecklistStep.objects.filter(case_id=case_id))
    with translation.override("nb"):
        assert refused.json()["open_steps"] == [
            {"id": s.pk, "key": s.key, "label": str(step_label(s, "nb"))} for s in steps]
    first, rest = steps[0], steps[1:]
    no_reason = post(rektor, f"/api/v1/cases/{case_id}/steps/{first.pk}", {"not_applicable": True})
    assert no_reason.status_code == 400 and no_reason.json()["error"] == "reason_required"
    body = post(rektor, f"/api/v1/cases/{case_id}/steps/{first.pk}",
                {"not_applicable": True, "reason": "Familien er allerede kontaktet av helsesykepleier"}).json()
    settled = next(s for s in body["checklist"] if s["id"] == first.pk)
    assert settled["not_applicable"] and settled["not_applicable_reason"].startswith("Familien")
    assert post(rektor, f"/api/v1/cases/{case_id}/transition", {"to": "closed"}).status_code == 409
    for step in rest:
        post(rektor, f"/api/v1/cases/{case_id}/steps/{step.pk}", {"done": True})
    assert post(rektor, f"/api/v1/cases/{case_id}/transition", {"to": "closed"}).status_code == 200


def test_r_case_10_a_threat_cannot_close_with_the_police_step_open(threat_case, api_client, strong_api_client):
    """R-CASE-10: the police step of a threat cannot be marked not applicable (403, the rule), and
    closing with it open is 409 even when everything else is settled and the harmed teacher agrees."""
    rektor = strong_api_client("rektor")
    police = ChecklistStep.objects.get(case_id=threat_case, key="police_report")
    refused = post(rektor, f"/api/v1/cases/{threat_case}/steps/{police.pk}",
                   {"not_applicable": True, "reason": "Ikke så farlig"})
    assert refused.status_code == 403
    assert refused.json()["rule"] == "dk_policy.threats-not-closed-before-police"
    assert refused.json()["requirement"] == "R-CASE-10"
    _walk_to_follow_up(rektor, threat_case)
    _settle_all(rektor, threat_case, except_keys=("police_report",))
    _agree(api_client("kari.4a"), threat_case)
    closing = post(rektor, f"/api/v1/cases/{threat_case}/transition", {"to": "closed"})
    assert closing.status_code == 409
    assert closing.json()["requirement"] in ("R-CASE-10", "R-CASE-12")
    post(rektor, f"/api/v1/cases/{threat_case}/steps/{police.pk}", {"done": True, "reference": "POL-2026-17"})
    assert post(rektor, f"/api/v1/cases/{threat_case}/transition", {"to": "closed"}).status_code == 200


def test_r_case_10_the_case_page_refuses_the_same_way(threat_case, browser_of):
    """R-CASE-10: the case page's not-applicable form shows the same refusal with its rule."""
    rektor = step_up(browser_of("rektor"))
    police = ChecklistStep.objects.get(case_id=threat_case, key="police_report")
    page = rektor.post(f"/cases/{threat_case}/steps/{police.pk}/", {"not_applicable": "1", "reason": "Nei"})
    assert page.status_code == 403
    assert b"dk_policy.threats-not-closed-before-police" in page.content
    assert not ChecklistStep.objects.get(pk=police.pk).done_at


def _closed_case(emma_case_factory: Any, api_client: Any, strong_api_client: Any) -> int:
    case_id = emma_case_factory()
    rektor = strong_api_client("rektor")
    _walk_to_follow_up(rektor, case_id)
    _settle_all(rektor, case_id)
    _agree(api_client("mor.emma"), case_id)
    assert post(rektor, f"/api/v1/cases/{case_id}/transition", {"to": "closed"}).status_code == 200
    return case_id


def test_r_case_20_the_harmed_side_reopens_a_closed_case_within_the_period(
    emma_case_factory, api_client, strong_api_client
):
    """R-CASE-20: mor.emma says it is not over: 200, the case is open again in follow-up, the
    reopening is on the timeline she sees, her earlier agreement no longer counts; rektor (not on
    the harmed side) gets 403, an outsider 404."""
    case_id = _closed_case(emma_case_factory, api_client, strong_api_client)
    assert post(strong_api_client("rektor"), f"/api/v1/cases/{case_id}/reopen").status_code == 403
    assert post(api_client("mor.sara"), f"/api/v1/cases/{case_id}/reopen").status_code == 404
    reopened = post(api_client("mor.emma"), f"/api/v1/cases/{case_id}/reopen")
    assert reopened.status_code == 200
    body = reopened.json()
    assert body["status"] == "follow_up" and not body["victim_confirmed"]
    assert "reopened" in [t["type"] for t in body["timeline"]]
    assert post(api_client("mor.emma"), f"/api/v1/cases/{case_id}/reopen").status_code == 409


def test_r_case_20_reopening_after_the_period_is_409(emma_case_factory, api_client, strong_api_client, demo):
    """R-CASE-20: 91 days after closing (the default period is 90), reopening is 409 naming the rule;
    a municipality that sets a longer period lets it through."""
    from tests.cases.test_api import configure

    case_id = _closed_case(emma_case_factory, api_client, strong_api_client)
    Case.objects.filter(pk=case_id).update(closed_at=Case.objects.get(pk=case_id).closed_at - timedelta(days=91))
    late = post(api_client("emma.4a"), f"/api/v1/cases/{case_id}/reopen")
    assert late.status_code == 409 and late.json()["rule"] == "core_cases.reopen-period"
    assert "90" in late.json()["message"]
    configure(demo, overrides={"core_cases.reopen-period": {"reopen_days": 120}})
    assert post(api_client("emma.4a"), f"/api/v1/cases/{case_id}/reopen").status_code == 200


def test_r_case_20_the_case_page_offers_reopening_and_shows_it_on_the_timeline(
    emma_case_factory, api_client, strong_api_client, browser_of
):
    """R-CASE-20: mor.emma's case page has the reopen button while the period runs; pressing it
    reopens the case and the timeline says so."""
    case_id = _closed_case(emma_case_factory, api_client, strong_api_client)
    mor = browser_of("mor.emma")
    page = mor.get(f"/cases/{case_id}/", HTTP_ACCEPT_LANGUAGE="en")
    assert b'data-testid="reopen-case"' in page.content
    assert mor.post(f"/cases/{case_id}/reopen/").status_code == 302
    assert TimelineEvent.objects.filter(case_id=case_id, type="reopened", shown_to_reporter=True).exists()
    again = mor.get(f"/cases/{case_id}/", HTTP_ACCEPT_LANGUAGE="en")
    assert b'data-testid="reopen-case"' not in again.content
    assert "Åpnet igjen" in again.content.decode()
