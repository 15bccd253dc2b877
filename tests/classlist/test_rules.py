"""Table-driven tests of the class list rules (policy/rules/classlist.py): a row per guideline clause.

No database: facts are built by hand and ``decide`` runs against the compiled packs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from trygg.directory.models import PersonFacts
from trygg.policy.engine import compile_policy, decide, load_registry
from trygg.policy.rules.classlist import FIELDS, locked_fields

SCHOOL, MUNICIPALITY, C4A, C9B = 1, 7, 41, 92
SARA, ALI = 201, 203
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@dataclass
class SchoolClass:
    id: int
    school_id: int = SCHOOL
    reveals_special_education: bool = False


def facts(pid: int, roles: set[str], **relations: Any) -> PersonFacts:
    return PersonFacts(id=pid, roles=frozenset(roles), municipality_id=MUNICIPALITY, language="nb",
                       **{k: frozenset(v) for k, v in relations.items()})


OLA = facts(12, {"teacher"}, contact_class_ids={C9B})
NILS = facts(13, {"teacher"}, subject_class_ids={C9B})
MOR_SARA = facts(302, {"guardian"}, child_ids={SARA}, child_class_ids={C9B})
MOR_ALI = facts(303, {"guardian"}, child_ids={ALI}, child_class_ids={C9B})
FAR_ALI = facts(304, {"guardian"})  # no parental responsibility: no child ids
MOR_EMMA = facts(301, {"guardian"}, child_ids={101}, child_class_ids={C4A})
PUPIL = facts(SARA, {"pupil"}, pupil_class_ids={C9B})
REKTOR = facts(1, {"leader"}, led_school_ids={SCHOOL})
ADMIN = facts(2, {"admin"}, admin_municipality_ids={MUNICIPALITY})
NINE_B = SchoolClass(C9B)
SPECIAL = SchoolClass(C9B, reveals_special_education=True)
ALI_FLAGS = {"secret_address": True, "secret_phone": True, "confidential_identity": True}

REG = load_registry()
POLICY = compile_policy(REG, None, None)
SUBJECT_POLICY = compile_policy(REG, None, {"oslo.class-list-own-class": {"subject_teachers_see_list": True}})


def ask(action: str, actor: PersonFacts, target: Any, policy: Any = POLICY, **context: Any) -> tuple[bool, str]:
    decision = decide(action, actor, target, context, policy=policy)
    denied = decision.denied_by
    return decision.allowed, denied.rule.id if denied else ""


ROWS = [
    # R-LIST-01: who sees the list
    pytest.param("classlist.view", OLA, NINE_B, {}, POLICY, (True, ""), id="R-LIST-01 contact teacher sees"),
    pytest.param("classlist.view", MOR_SARA, NINE_B, {}, POLICY, (True, ""), id="R-LIST-01 guardian sees"),
    pytest.param("classlist.view", MOR_EMMA, NINE_B, {}, POLICY, (False, "oslo.class-list-own-class"),
                 id="R-LIST-01 guardian of another class does not"),
    pytest.param("classlist.view", NILS, NINE_B, {}, POLICY, (False, "oslo.class-list-own-class"),
                 id="R-LIST-01 subject teacher does not by default"),
    pytest.param("classlist.view", NILS, NINE_B, {}, SUBJECT_POLICY, (True, ""),
                 id="R-LIST-01 subject teacher does when the municipality says so"),
    pytest.param("classlist.view", PUPIL, NINE_B, {}, POLICY, (False, "oslo.class-list-own-class"),
                 id="R-LIST-01 a pupil does not"),
    pytest.param("classlist.view", FAR_ALI, NINE_B, {}, POLICY, (False, "oslo.class-list-own-class"),
                 id="R-LIST-01 a parent without parental responsibility does not"),
    pytest.param("classlist.view", MOR_SARA, SPECIAL, {}, POLICY, (False, "oslo.special-education-class"),
                 id="R-LIST-05 no list for a special-education class"),
    # R-LIST-02, R-LIST-05, R-LIST-06: consent
    pytest.param("classlist.set_consent", MOR_SARA, NINE_B, {"pupil_id": SARA, "fields": FIELDS}, POLICY,
                 (True, ""), id="R-LIST-06 the guardian consents for every field"),
    pytest.param("classlist.set_consent", MOR_SARA, NINE_B, {"pupil_id": ALI, "fields": ("phone",)}, POLICY,
                 (False, "oslo.consent-recorded"), id="R-LIST-06 not for another guardian's child"),
    pytest.param("classlist.set_consent", FAR_ALI, NINE_B, {"pupil_id": ALI, "fields": ()}, POLICY,
                 (False, "oslo.consent-recorded"), id="R-LIST-06 not without parental responsibility"),
    pytest.param("classlist.set_consent", MOR_ALI, NINE_B,
                 {"pupil_id": ALI, "fields": ("student_name",), "protection": ALI_FLAGS}, POLICY,
                 (False, "oslo.confidential-never-shown"), id="R-LIST-05 a confidential name is refused"),
    pytest.param("classlist.set_consent", MOR_ALI, NINE_B,
                 {"pupil_id": ALI, "fields": (), "protection": ALI_FLAGS}, POLICY,
                 (True, ""), id="R-LIST-05 withdrawing is always possible"),
    pytest.param("classlist.set_consent", MOR_SARA, SPECIAL, {"pupil_id": SARA, "fields": ("phone",)}, POLICY,
                 (False, "oslo.special-education-class"), id="R-LIST-05 nothing goes on in a special class"),
    pytest.param("classlist.set_consent", MOR_SARA, NINE_B, {"pupil_id": SARA, "fields": ("phone",)},
                 compile_policy(REG, None, {"oslo.opt-in-fields": {"fields": ["student_name"]}}),
                 (False, "oslo.opt-in-fields"), id="R-LIST-02 only the fields the municipality offers"),
    # R-LIST-03: the reminder
    pytest.param("classlist.remind", OLA, NINE_B, {"last_reminder_at": None, "now": NOW}, POLICY, (True, ""),
                 id="R-LIST-03 the contact teacher reminds"),
    pytest.param("classlist.remind", OLA, NINE_B, {"last_reminder_at": NOW - timedelta(days=1), "now": NOW},
                 POLICY, (False, "oslo.encourage-complete-list"), id="R-LIST-03 not twice in a week"),
    pytest.param("classlist.remind", MOR_SARA, NINE_B, {}, POLICY, (False, "oslo.encourage-complete-list"),
                 id="R-LIST-03 a guardian does not remind"),
    # R-LIST-04: the access-request export
    pytest.param("classlist.export", REKTOR, NINE_B, {"requester": "NRK"}, POLICY, (True, ""),
                 id="R-LIST-04 the school leader exports"),
    pytest.param("classlist.export", ADMIN, NINE_B, {"requester": "NRK", "municipality_id": MUNICIPALITY},
                 POLICY, (True, ""), id="R-LIST-04 the administrator exports"),
    pytest.param("classlist.export", REKTOR, NINE_B, {"requester": " "}, POLICY,
                 (False, "oslo.access-request-export"), id="R-LIST-04 saying who asked"),
    pytest.param("classlist.export", OLA, NINE_B, {"requester": "NRK"}, POLICY,
                 (False, "oslo.access-request-export"), id="R-LIST-04 a teacher does not export"),
    pytest.param("classlist.export", REKTOR, SPECIAL, {"requester": "NRK"}, POLICY,
                 (False, "oslo.special-education-class"), id="R-LIST-05 no export of a special class"),
]


@pytest.mark.parametrize(("action", "actor", "target", "context", "policy", "expected"), ROWS)
def test_guideline_clause(action: str, actor: PersonFacts, target: Any, context: dict[str, Any], policy: Any,
                          expected: tuple[bool, str]) -> None:
    """Each clause of S1 decides as the guideline says, and the refusing rule is the clause's own."""
    assert ask(action, actor, target, policy, **context) == expected


@pytest.mark.parametrize(("flags", "special", "locked"), [
    pytest.param({}, False, set(), id="R-LIST-05 no flags: nothing locked"),
    pytest.param({"secret_phone": True}, False, {"phone"}, id="R-LIST-05 secret phone"),
    pytest.param({"secret_address": True}, False, set(FIELDS),
                 id="R-LIST-05 a secret address hides the name and the guardians' details too"),
    pytest.param({"address_reveals_circumstances": True}, False, {"address"},
                 id="R-LIST-05 an institution address"),
    pytest.param({"confidential_identity": True}, False, set(FIELDS), id="R-LIST-05 strictly confidential"),
    pytest.param({}, True, set(FIELDS), id="R-LIST-05 special-education class"),
])
def test_locked_fields(flags: dict[str, bool], special: bool, locked: set[str]) -> None:
    """Each protection flag locks exactly the fields the guideline names."""
    assert locked_fields(flags, special) == locked


def test_r_list_03_the_wait_obligation_says_when_the_next_reminder_may_go() -> None:
    """R-LIST-03: a refused reminder carries the time of the next allowed one (the default interval)."""
    decision = decide("classlist.remind", OLA, NINE_B, {"last_reminder_at": NOW - timedelta(days=2), "now": NOW},
                      policy=POLICY)
    [wait] = decision.obligations_of("wait")
    assert wait.data["until"] == NOW + timedelta(days=5)


def test_r_list_04_setting_consent_obliges_the_public_notice() -> None:
    """R-LIST-04: every consent decision carries the ``notice`` obligation of the list-is-public rule."""
    decision = decide("classlist.set_consent", MOR_SARA, NINE_B, {"pupil_id": SARA, "fields": ("phone",)},
                      policy=POLICY)
    assert [o.rule_id for o in decision.obligations_of("notice")] == ["oslo.list-is-public"]
