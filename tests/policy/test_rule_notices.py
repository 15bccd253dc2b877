"""Inform rules are shown where they apply (issue 11, item 14): ``{% rule_notice %}`` puts a rule's
words, in the viewer's language and with the municipality's numbers, on the page it is about."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.cases.conftest import class_message, emma_case_factory, report  # noqa: F401 (fixtures)
from tests.conftest import step_up
from trygg.policy import engine
from trygg.policy.engine import registry
from trygg.policy.models import PolicyConfig


def _reason(rule_id: str, lang: str = "nb") -> str:
    return registry().rules[rule_id].reason[lang]


def _browser(person: Any, username: str) -> Client:
    client = Client()
    client.force_login(person(username))
    return client


def test_r_priv_02_the_case_file_says_the_view_is_logged(emma_case_factory, person):  # noqa: F811
    """R-PRIV-02 (``core_platform.audit-confidential-views``): rektor's case file says the view is
    logged and who can read the log; emma.4a, who reported, sees her status without it (or any id)."""
    case_id = emma_case_factory()
    page = step_up(_browser(person, "rektor")).get(f"/cases/{case_id}/").content.decode()
    assert _reason("core_platform.audit-confidential-views") in page
    reporter = _browser(person, "emma.4a").get(f"/cases/{case_id}/").content.decode()
    assert _reason("core_platform.audit-confidential-views") not in reporter
    assert "core_platform" not in reporter


def test_r_staff_02_kolding_confidentiality_keeps_staff_outside_a_case_out(
    emma_case_factory, person, demo  # noqa: F811 (the imported fixture)
):
    """R-STAFF-02 (``kolding.confidentiality``): nils.9b, staff outside emma.4a's case, is refused
    ``case.view`` by the Kolding rule as well as the core one, and the case answers him 404; a pupil
    outside it is the core rule's alone. Without the Kolding pack only the core rule refuses him."""
    from trygg.cases.models import Case
    from trygg.cases.queries import access_case, reported_ids, viewer_ids
    from trygg.errors import NotFoundOrHidden

    case = Case.objects.get(pk=emma_case_factory())
    context = {"viewer_ids": viewer_ids(case), "reported_ids": reported_ids(case),
               "municipality_id": case.municipality_id, "school_id": case.school_id}

    def refused_by(username: str) -> set[str]:
        decision = engine.decide("case.view", person(username).facts, case, context)
        assert not decision.allowed
        return {f.rule.id for f in decision.fired if f.verdict == "deny"}

    assert "kolding.confidentiality" in refused_by("nils.9b")
    assert "kolding.confidentiality" not in refused_by("sara.9b")
    with pytest.raises(NotFoundOrHidden):
        access_case(person("nils.9b"), case.pk)
    config = PolicyConfig.objects.get(municipality=demo)
    config.active_packs = [p for p in config.active_packs if p != "kolding"]
    config.save()
    engine.invalidate()
    assert refused_by("nils.9b") == {"core_cases.participants-view"}


@pytest.mark.parametrize("username", ["mor.sara", "ola.9b"])
def test_r_priv_03_r_priv_04_the_profile_shows_the_retention_periods_and_the_right_of_access(username, person):
    """R-PRIV-03, R-PRIV-04: beside "Your data", the profile says how long messages and files are
    kept (the municipality's numbers) and what the download covers."""
    page = _browser(person, username).get("/me/").content.decode()
    assert "365 dager" in page and "180 dager" in page
    assert _reason("core_platform.right-of-access") in page


def test_r_priv_01_a_404_page_says_why_without_saying_whether(person):
    """R-PRIV-01: the 404 page for a hidden conversation gives the data-minimisation words."""
    page = _browser(person, "mor.sara").get("/messages/999999/")
    assert page.status_code == 404
    assert _reason("core_platform.data-minimisation") in page.content.decode()


def test_r_staff_02_a_teacher_without_a_second_factor_is_told_to_add_one(person):
    """R-STAFF-02 (``core_platform.staff-second-factor``): the step-up page tells a teacher with no
    authenticator app the rule's words and offers to add one."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=person("ola.9b")).delete()
    page = _browser(person, "ola.9b").get("/signin/step-up/?next=/").content.decode()
    assert _reason("core_platform.staff-second-factor") in page
