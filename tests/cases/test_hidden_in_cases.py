"""Case answers and pages name people through the one visibility function (issue 11, item 5):
``trygg.directory.queries`` decides, as for every other list (R-LIST-05)."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from tests.cases.conftest import post
from tests.conftest import step_up


def _two_harmed_case(api_client: Any) -> int:
    """ola.9b reports that sara.9b and ali.9b (strictly confidential) were both harmed."""
    response = post(api_client("ola.9b"), "/api/v1/reports", {
        "category": "bullying", "description": "Utestengt fra gruppen", "harmed_usernames": ["sara.9b", "ali.9b"]})
    assert response.status_code == 201, response.content
    return int(response.json()["case_id"])


def test_r_list_05_a_harmed_classmates_guardian_sees_a_pupil_not_ali(api_client, strong_api_client, person):
    """R-LIST-05: mor.sara, guardian of one harmed pupil, reads the case through the API: the other
    harmed pupil is "a pupil" with no id or username, and nothing in the answer names ali.9b or his
    guardian. Rektor's case file names him."""
    case_id = _two_harmed_case(api_client)
    seen = api_client("mor.sara").get(f"/api/v1/cases/{case_id}")
    assert seen.status_code == 200, seen.content
    text = json.dumps(seen.json(), ensure_ascii=False)
    ali = person("ali.9b")
    for leak in (ali.username, ali.name, "mor.ali", person("mor.ali").name):
        assert leak not in text
    refs = [c["person"] for c in seen.json()["confirmations"]]
    assert {"id": None, "username": None, "name": "en elev"} in refs
    assert any(r["username"] == "sara.9b" for r in refs)
    full = strong_api_client("rektor").get(f"/api/v1/cases/{case_id}").json()
    assert ali.name in json.dumps(full, ensure_ascii=False)


def test_r_list_05_the_case_page_names_people_through_the_same_function(api_client, person):
    """R-LIST-05: the case page of rektor names ali.9b among the participants (staff of his school
    see him); the page for mor.sara carries neither his name nor his username."""
    case_id = _two_harmed_case(api_client)
    rektor = Client()
    rektor.force_login(person("rektor"))
    assert person("ali.9b").name in step_up(rektor).get(f"/cases/{case_id}/").content.decode()
    mor = Client()
    mor.force_login(person("mor.sara"))
    page = mor.get(f"/cases/{case_id}/")
    assert page.status_code == 200
    assert person("ali.9b").name not in page.content.decode() and "ali.9b" not in page.content.decode()
