"""``GET /api/v1/policy/rules``: the rulebook as JSON."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_a_guardian_gets_the_rules_that_concern_guardians(api_client: Callable[[str | None], Client]) -> None:
    response = api_client("mor.emma").get("/api/v1/policy/rules?lang=en")
    assert response.status_code == 200
    rules = {r["id"]: r for r in response.json()}
    assert all(not r["roles"] or "guardian" in r["roles"] for r in rules.values())
    own_class = rules["oslo.class-list-own-class"]
    assert own_class["title"] == "Guardians and the contact teacher see the class list of their own class"
    assert own_class["quote"] == "Foresatte og kontaktlærer har tilgang til klasselisten for sin klasse"
    assert own_class["quote_language"] == "nb"
    assert own_class["source"]["file"] == "001_26488b1859a8b90d.txt"
    assert own_class["enforced"] is True and own_class["level"] == "enforce"
    assert own_class["requirements"] == ["R-LIST-01"]
    assert rules["amot.guidelines-acknowledged"]["enforced"] is False


def test_the_rules_carry_the_parameters_in_force(api_client: Callable[[str | None], Client]) -> None:
    rules = {r["id"]: r for r in api_client("emma.4a").get("/api/v1/policy/rules").json()}
    assert rules["amot.pupil-chat-grade"]["params"] == {"min_grade": 8, "supervised_groups_below_grade": False}


def test_r_i18n_01_titles_follow_the_language_and_all_lists_every_active_rule(
    api_client: Callable[[str | None], Client],
) -> None:
    client = api_client("emma.4a")
    mine = client.get("/api/v1/policy/rules?lang=da").json()
    everything = client.get("/api/v1/policy/rules?lang=da&all=true").json()
    assert len(everything) > len(mine)
    by_id = {r["id"]: r for r in everything}
    assert by_id["kolding.second-adult"]["title"] == "Vær ikke den eneste voksne i en gruppe med elever"


def test_signed_out_callers_get_401(api_client: Callable[[str | None], Client]) -> None:
    response = api_client(None).get("/api/v1/policy/rules")
    assert response.status_code == 401
    assert response.json()["error"] == "not_signed_in"
