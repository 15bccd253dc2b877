"""The policy configuration in the Django admin: the municipality's administrator edits it, with validation."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from trygg.audit.models import AuditRecord
from trygg.directory.models import Municipality
from trygg.policy.models import PolicyConfig

pytestmark = pytest.mark.django_db


def admin_client(person: Callable[[str], Any], username: str = "admin") -> Client:
    client = Client()
    client.force_login(person(username))
    client.cookies["django_language"] = "en"
    return client


def change_url(municipality: Municipality) -> str:
    return f"/admin/policy/policyconfig/{PolicyConfig.objects.get(municipality=municipality).pk}/change/"


def form_data(config: PolicyConfig, **changes: Any) -> dict[str, Any]:
    data = {
        "active_packs": [p for p in config.active_packs if not p.startswith("core")],
        "overrides": json.dumps(config.overrides),
        "school_overrides": json.dumps({}),
    }
    data.update({k: json.dumps(v) if k != "active_packs" else v for k, v in changes.items()})
    return data


def test_the_admin_opens_the_configuration(demo: Municipality, person: Callable[[str], Any]) -> None:
    response = admin_client(person).get(change_url(demo))
    assert response.status_code == 200
    html = response.content.decode()
    assert "amot.pupil-chat-grade" in html  # the parameter reference
    assert 'value="amot"' in html


def test_r_chat_02_the_admin_sets_the_grade_limit_and_it_is_audited(
    demo: Municipality, person: Callable[[str], Any]
) -> None:
    config = PolicyConfig.objects.get(municipality=demo)
    response = admin_client(person).post(
        change_url(demo), form_data(config, overrides={"amot.pupil-chat-grade": {"min_grade": 9}}))
    assert response.status_code == 302, response.content.decode()[:2000]
    config.refresh_from_db()
    assert config.overrides == {"amot.pupil-chat-grade": {"min_grade": 9}}
    record = AuditRecord.objects.get(action="policy.config_changed")
    assert record.detail["after"]["overrides"] == {"amot.pupil-chat-grade": {"min_grade": 9}}


@pytest.mark.parametrize(
    "changes,says",
    [
        ({"overrides": {"amot.pupil-chat-grade": {"min_grade": "ninth"}}}, "expected a whole number"),
        ({"school_overrides": {"424242": {"amot.social-notifications-held": {"school_hours": {}}}}},
         "not a school in this municipality"),
        ({"overrides": {"amot.social-notifications-held": {"school_hours": {"mon": ["8:15", "14:30"]}}}},
         "expected [start, end] as HH:MM"),
    ],
)
def test_a_bad_value_is_shown_on_the_form_and_nothing_is_stored(
    demo: Municipality, person: Callable[[str], Any], changes: dict[str, Any], says: str
) -> None:
    config = PolicyConfig.objects.get(municipality=demo)
    before = config.snapshot()
    response = admin_client(person).post(change_url(demo), form_data(config, **changes))
    assert response.status_code == 200
    assert says in response.content.decode().replace("&#x27;", "'")
    config.refresh_from_db()
    assert config.snapshot() == before
    assert not AuditRecord.objects.filter(action="policy.config_changed").exists()


def test_a_school_leader_cannot_open_the_configuration(demo: Municipality, person: Callable[[str], Any]) -> None:
    assert admin_client(person, "rektor").get(change_url(demo)).status_code in (302, 403)
