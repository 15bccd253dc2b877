"""Informed consent on the class list (issue 11, item 4, R-LIST-04, R-LIST-06): no field goes on
through any door unless the current public-records notice was accepted, and the consent record holds
only what was really shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.test import Client

from tests.classlist.conftest import FIELDS, put_consent
from trygg.classlist.actions import notice_version
from trygg.classlist.models import Consent, ConsentChange, NoticeAcceptance
from trygg.policy.engine import registry


def test_r_list_04_the_api_refuses_an_opt_in_without_the_notice_with_409_and_the_text(api_client, classes):
    """R-LIST-04: mor.sara turns on her phone through the API without ever accepting the notice:
    409 notice_required with R-LIST-04 and the notice text; nothing is written."""
    refused = put_consent(api_client("mor.sara"), classes["9B"], "sara.9b", accept_notice=False, phone=True)
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"] == "notice_required" and body["requirement"] == "R-LIST-04"
    assert body["notice"] == registry().rules["oslo.list-is-public"].reason["nb"]
    assert body["notice_version"] == notice_version()
    assert not Consent.objects.exists() and not ConsentChange.objects.exists()


def test_r_list_04_an_earlier_acceptance_of_the_current_version_is_enough(api_client, classes):
    """R-LIST-04: accepted once (same request), a later opt-in needs no new acceptance; the GET says
    it is accepted."""
    client = api_client("mor.sara")
    assert client.get(f"/api/v1/classes/{classes['9B']}/contact-list/consent").json()["notice_accepted"] is False
    assert put_consent(client, classes["9B"], "sara.9b", phone=True).status_code == 200
    assert put_consent(client, classes["9B"], "sara.9b", accept_notice=False, phone=True,
                       email=True).status_code == 200
    assert client.get(f"/api/v1/classes/{classes['9B']}/contact-list/consent").json()["notice_accepted"] is True
    assert NoticeAcceptance.objects.filter(guardian__username="mor.sara").count() == 1


def test_r_list_04_a_changed_notice_needs_a_new_acceptance(api_client, classes, monkeypatch):
    """R-LIST-04: acceptance is by version: when the notice's wording changes, the old acceptance no
    longer lets a field go on."""
    client = api_client("mor.sara")
    assert put_consent(client, classes["9B"], "sara.9b", phone=True).status_code == 200
    monkeypatch.setattr("trygg.classlist.actions.notice_version", lambda: "0000000000000000")
    refused = put_consent(client, classes["9B"], "sara.9b", accept_notice=False, phone=True, email=True)
    assert refused.status_code == 409 and refused.json()["requirement"] == "R-LIST-04"


def test_r_list_06_turning_off_needs_no_notice_and_records_none_shown(api_client, classes, person):
    """R-LIST-06: far.jonas, who never accepted the notice, can always turn everything off; that
    change is recorded with no notice text, since none was shown."""
    Consent.objects.create(guardian=person("far.jonas"), pupil=person("jonas.9b"), field="phone")
    response = put_consent(api_client("far.jonas"), classes["9B"], "jonas.9b", accept_notice=False)
    assert response.status_code == 200
    change = ConsentChange.objects.get(guardian__username="far.jonas")
    assert (change.given, change.notice_text, change.notice_version) == (False, "", "")


def test_r_list_06_the_record_holds_the_text_accepted_in_the_language_shown(api_client, classes):
    """R-LIST-06: mor.sara accepts in Danish; the consent record holds that Danish text and its
    version, and a later change in English without a new acceptance still records what she accepted."""
    client = api_client("mor.sara")
    body = {"student_username": "sara.9b", "fields": {**dict.fromkeys(FIELDS, False), "phone": True},
            "public_notice_accepted": True}
    assert client.put(f"/api/v1/classes/{classes['9B']}/contact-list/consent", data=json.dumps(body),
                      content_type="application/json", HTTP_ACCEPT_LANGUAGE="da").status_code == 200
    put_consent(client, classes["9B"], "sara.9b", accept_notice=False, phone=True, email=True)
    da = registry().rules["oslo.list-is-public"].reason["da"]
    assert set(ConsentChange.objects.values_list("notice_text", "notice_language", "notice_version")) == {
        (da, "da", notice_version())}


def test_r_list_04_the_page_refuses_the_same_way_and_accepts_with_the_checkbox(
    person: Callable[[str], Any], classes: dict[str, int]
):
    """R-LIST-04: the consent page gives the same 409 refusal without the checkbox, and the checkbox
    is the acceptance the API's ``public_notice_accepted`` is."""
    client = Client()
    client.force_login(person("mor.sara"))
    url = f"/classes/{classes['9B']}/consent/"
    assert client.post(url, {"student_username": "sara.9b", "phone": "on"}).status_code == 409
    assert client.post(url, {"student_username": "sara.9b", "phone": "on", "notice_read": "on"}).status_code == 302
    assert NoticeAcceptance.objects.get().via == "page"


def test_r_list_05_protection_is_refused_as_such_before_the_notice(api_client, classes):
    """R-LIST-05 before R-LIST-04: mor.ali turning on ali.9b's address without the notice gets the
    403 of the protection, not an invitation to accept a notice."""
    refused = put_consent(api_client("mor.ali"), classes["9B"], "ali.9b", accept_notice=False, address=True)
    assert refused.status_code == 403 and refused.json()["requirement"] == "R-LIST-05"
