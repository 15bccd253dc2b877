"""Municipal configuration: validated, audited, and in force at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from trygg.audit.models import AuditRecord
from trygg.directory.models import Municipality, PersonFacts, School
from trygg.errors import BadInput, PolicyDenied
from trygg.policy import engine
from trygg.policy.actions import check_update_policy_config
from trygg.policy.engine import decide, params_for
from trygg.policy.models import PolicyConfig

pytestmark = pytest.mark.django_db


def young_pupils(municipality_id: int) -> tuple[PersonFacts, dict[str, Any]]:
    a = PersonFacts(id=-1, roles=frozenset({"pupil"}), municipality_id=municipality_id, language="nb", grade=7)
    b = PersonFacts(id=-2, roles=frozenset({"pupil"}), municipality_id=municipality_id, language="nb", grade=7)
    return a, {"kind": "direct", "members": (a, b), "school_owned": False}


def audits(municipality: Municipality) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(action="policy.config_changed", target_id=str(
        PolicyConfig.objects.get(municipality=municipality).pk)))


def test_r_chat_02_the_admin_lowers_the_grade_limit_and_it_applies_at_once(
    demo: Municipality, person: Callable[[str], Any]
) -> None:
    """The grade limit for pupil–pupil chat is a municipal setting; a change is in force immediately."""
    pupil, ctx = young_pupils(demo.pk)
    assert not decide("conversation.create", pupil, None, ctx).allowed  # cached with the default 8
    check_update_policy_config(person("admin"), demo, overrides={"amot.pupil-chat-grade": {"min_grade": 7}})
    assert params_for("amot.pupil-chat-grade", demo.pk)["min_grade"] == 7
    assert decide("conversation.create", pupil, None, ctx).allowed


def test_a_change_is_audited_with_who_before_and_after(demo: Municipality, person: Callable[[str], Any]) -> None:
    admin = person("admin")
    check_update_policy_config(admin, demo, overrides={"core_platform.retention": {"message_retention_days": 90}})
    [record] = audits(demo)
    assert record.actor == admin
    assert record.detail["before"]["overrides"] == {}
    assert record.detail["after"]["overrides"] == {"core_platform.retention": {"message_retention_days": 90}}
    assert record.municipality_id == demo.pk


@pytest.mark.parametrize(
    "change,says",
    [
        ({"overrides": {"amot.pupil-chat-grade": {"min_grade": "seven"}}}, "amot.pupil-chat-grade.min_grade"),
        ({"overrides": {"amot.pupil-chat-grade": {"min_grade": -1}}}, "below the minimum"),
        ({"overrides": {"amot.pupil-chat-grade": {"max_grade": 9}}}, "no parameter 'max_grade'"),
        ({"overrides": {"amot.no-such-rule": {"x": 1}}}, "there is no rule 'amot.no-such-rule'"),
        ({"overrides": {"amot.social-notifications-held": {"school_hours": {"mon": ["15:00", "08:00"]}}}},
         "not before the end"),
        ({"overrides": {"bergen.talk-participants": {"participants": ["pupil", "journalist"]}}}, "journalist"),
        ({"active_packs": ["amot", "trondheim"]}, "unknown packs ['trondheim']"),
        ({"school_overrides": {999999: {"amot.social-notifications-held": {"school_hours": {}}}}},
         "not a school in this municipality"),
    ],
)
def test_a_bad_value_is_refused_with_a_clear_error_and_the_old_config_kept(
    demo: Municipality, person: Callable[[str], Any], change: dict[str, Any], says: str
) -> None:
    before = PolicyConfig.objects.get(municipality=demo).snapshot()
    with pytest.raises(BadInput) as excinfo:
        check_update_policy_config(person("admin"), demo, **change)
    assert says in str(excinfo.value.message)
    assert PolicyConfig.objects.get(municipality=demo).snapshot() == before
    assert not audits(demo)


@pytest.mark.parametrize("username", ["rektor", "kari.4a", "mor.emma"])
def test_only_the_municipality_admin_configures(demo: Municipality, person: Callable[[str], Any],
                                               username: str) -> None:
    with pytest.raises(PolicyDenied):
        check_update_policy_config(person(username), demo, overrides={})


def test_r_chat_05_a_school_gets_its_own_school_hours(demo: Municipality, person: Callable[[str], Any]) -> None:
    """School hours per weekday and school: the school's own hours override the municipality's."""
    school = School.objects.get(municipality=demo)
    own = {"mon": ["08:30", "13:00"], "fri": ["08:30", "12:00"]}
    check_update_policy_config(person("admin"), demo, school_overrides={
        school.pk: {"amot.social-notifications-held": {"school_hours": own}}})
    assert params_for("amot.social-notifications-held", demo.pk, school.pk)["school_hours"] == own
    assert params_for("amot.social-notifications-held", demo.pk)["school_hours"]["mon"] == ["08:15", "14:30"]
    [record] = audits(demo)
    assert record.detail["after"]["schools"] == {str(school.pk): {"amot.social-notifications-held":
                                                                  {"school_hours": own}}}


def test_turning_a_pack_off_removes_its_rules_but_not_the_core(demo: Municipality,
                                                               person: Callable[[str], Any]) -> None:
    pupil, ctx = young_pupils(demo.pk)
    check_update_policy_config(person("admin"), demo, active_packs=["oslo", "bergen", "kolding", "dk_policy"])
    assert decide("conversation.create", pupil, None, ctx).allowed  # no Åmot grade limit
    assert "core_messaging" in engine.policy_for(demo.pk).active_packs
    assert params_for("amot.pupil-chat-grade", demo.pk) == {}


def test_saving_the_model_elsewhere_is_seen_within_the_ttl(demo: Municipality) -> None:
    """Another process's change is read again after CONFIG_TTL_SECONDS; this one forgets at once."""
    engine.policy_for(demo.pk)
    PolicyConfig.objects.filter(municipality=demo).update(overrides={"amot.pupil-chat-grade": {"min_grade": 5}})
    assert params_for("amot.pupil-chat-grade", demo.pk)["min_grade"] == 8  # still cached
    engine.invalidate(demo.pk)
    assert params_for("amot.pupil-chat-grade", demo.pk)["min_grade"] == 5
