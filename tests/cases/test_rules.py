"""Table-driven checks of the case rules through every pack, without the database (a row per clause)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from trygg.directory.models import PersonFacts
from trygg.policy.engine import compile_policy, decide, load_registry

SCHOOL, MUNICIPALITY, C4A = 1, 7, 41


def facts(pid: int, roles: set[str], **extra: Any) -> PersonFacts:
    return PersonFacts(id=pid, roles=frozenset(roles), municipality_id=MUNICIPALITY, language="nb",
                       school_ids=frozenset({SCHOOL}), **extra)


EMMA = facts(101, {"pupil"}, grade=4, pupil_class_ids=frozenset({C4A}))
NOAH = facts(102, {"pupil"}, grade=4, pupil_class_ids=frozenset({C4A}))
KARI = facts(11, {"teacher"}, contact_class_ids=frozenset({C4A}))
MOR_EMMA = facts(301, {"guardian"}, child_ids=frozenset({EMMA.id}))
REKTOR = facts(1, {"leader"}, led_school_ids=frozenset({SCHOOL}))
POLICY = compile_policy(load_registry(), None, None)


@dataclass
class FakeCase:
    assigned_leader_id: int = REKTOR.id
    school_id: int = SCHOOL


@dataclass
class Row:
    name: str
    action: str
    actor: PersonFacts
    context: dict[str, Any] = field(default_factory=dict)
    allowed: bool = True
    rule: str | None = None


ROWS = [
    Row("R-PUP-02 a pupil may report and the contact teacher joins", "report.create", EMMA,
        {"category": "bullying", "has_message": True, "harmed": (EMMA,), "offender": NOAH},
        rule="dk_policy.show-an-adult"),
    Row("R-CASE-21 a category outside the list is refused", "report.create", KARI,
        {"category": "gossip", "harmed": (KARI,)}, allowed=False, rule="dk_policy.harassment-categories"),
    Row("R-STAFF-03 a pupil cannot make a concern report", "report.create", EMMA,
        {"category": "teacher_concern"}, allowed=False, rule="kolding.concern-report"),
    Row("R-STAFF-03 a teacher's concern report goes to leadership", "report.create", KARI,
        {"category": "teacher_concern", "offender": NOAH}, rule="kolding.concern-report"),
    Row("R-STF-03 staff harmed: representatives join", "report.create", KARI,
        {"category": "criticism_of_staff", "harmed": (KARI,)}, rule="dk_policy.staff-harassed-go-to-leaders"),
    Row("R-CASE-10 a threat opens police and work-injury reports", "report.create", KARI,
        {"category": "threat_violence_stalking", "harmed": (KARI,)}, rule="dk_policy.police-and-work-injury"),
    Row("R-CASE-20 no closing without the harmed side", "case.close", REKTOR,
        {"victim_confirmed": False}, allowed=False, rule="dk_policy.closed-when-victim-says"),
    Row("R-CASE-20 closing once the harmed side agrees", "case.close", REKTOR, {"victim_confirmed": True}),
    Row("R-CASE-20 only the assigned leader closes", "case.close", KARI, {"victim_confirmed": True},
        allowed=False, rule="core_cases.leader-drives"),
    Row("R-CASE-20 the guardian of a harmed pupil may agree", "case.confirm", MOR_EMMA,
        {"confirmer_ids": {EMMA.id, MOR_EMMA.id}}),
    Row("R-CASE-20 the leader may not agree for them", "case.confirm", REKTOR,
        {"confirmer_ids": {EMMA.id, MOR_EMMA.id}}, allowed=False, rule="core_cases.harmed-confirms"),
    Row("R-PRIV-01 a non-participant does not see a case", "case.view", MOR_EMMA,
        {"viewer_ids": {EMMA.id}, "municipality_id": MUNICIPALITY}, allowed=False,
        rule="core_cases.participants-view"),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_case_rule(row: Row) -> None:
    """Each clause answers as the guideline says, and the rule that answered is the clause's own."""
    decision = decide(row.action, row.actor, FakeCase(), row.context, policy=POLICY)
    assert decision.allowed is row.allowed, decision.as_dict()
    if row.rule:
        assert row.rule in decision.rule_ids


def test_r_case_11_r_case_17_r_case_12_obligations_of_a_pupil_case() -> None:
    """R-CASE-11, R-CASE-17, R-CASE-12, R-CASE-01: a pupil harmed by a pupil gets both families' steps,
    a follow-up interval, a response deadline and a snapshot of the messages around."""
    decision = decide("report.create", EMMA, None, {"category": "bullying", "has_message": True,
                                                    "harmed": (EMMA,), "offender": NOAH}, policy=POLICY)
    steps = [s for o in decision.obligations_of("checklist") for s in o.data["steps"]]
    assert {"contact_harmed_family", "contact_offender_family"} <= set(steps)
    assert decision.obligations_of("follow_up")[0].data["days"] == 7
    assert decision.obligations_of("respond_within")[0].data["hours"] == 24
    assert {o.rule_id for o in decision.obligations_of("evidence")} == {
        "amot.report-keeps-evidence", "kolding.keep-evidence", "dk_policy.secure-evidence"}
