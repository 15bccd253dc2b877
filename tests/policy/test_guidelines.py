"""Table-driven tests: a row per guideline clause, through every pack as the demo municipality has them.

Each row builds the facts the callers pass (no database), asks ``decide`` with the compiled policy
of all packs, and checks the verdict and which rule answered. Rows cover the rules that are wired
to logic; a clause whose rule has no logic yet is checked by the coverage tool, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trygg.directory.models import PersonFacts
from trygg.policy.engine import compile_policy, decide, load_registry

OSLO = ZoneInfo("Europe/Oslo")
SCHOOL = 1
C4A, C9B = 41, 92
MUNICIPALITY = 7


def pupil(pid: int, grade: int, class_id: int) -> PersonFacts:
    return PersonFacts(id=pid, roles=frozenset({"pupil"}), municipality_id=MUNICIPALITY, language="nb",
                       grade=grade, pupil_class_ids=frozenset({class_id}), school_ids=frozenset({SCHOOL}))


def teacher(pid: int, contact: set[int] = frozenset(), subject: set[int] = frozenset()) -> PersonFacts:
    return PersonFacts(id=pid, roles=frozenset({"teacher"}), municipality_id=MUNICIPALITY, language="nb",
                       contact_class_ids=frozenset(contact), subject_class_ids=frozenset(subject),
                       school_ids=frozenset({SCHOOL}))


def guardian(pid: int, children: dict[int, int]) -> PersonFacts:
    return PersonFacts(id=pid, roles=frozenset({"guardian"}), municipality_id=MUNICIPALITY, language="nb",
                       child_ids=frozenset(children), child_class_ids=frozenset(children.values()),
                       school_ids=frozenset({SCHOOL}))


EMMA, NOAH = pupil(101, 4, C4A), pupil(102, 4, C4A)
SARA, JONAS, ALI = pupil(201, 9, C9B), pupil(202, 9, C9B), pupil(203, 9, C9B)
KARI = teacher(11, contact={C4A})
OLA = teacher(12, contact={C9B})
NILS = teacher(13, subject={C9B})
MOR_EMMA = guardian(301, {EMMA.id: C4A})
MOR_SARA = guardian(302, {SARA.id: C9B})
REKTOR = PersonFacts(id=1, roles=frozenset({"leader"}), municipality_id=MUNICIPALITY, language="nb",
                     led_school_ids=frozenset({SCHOOL}), school_ids=frozenset({SCHOOL}))


@dataclass
class Conversation:
    kind: str
    created_by_id: int
    school_owned: bool = False
    school_id: int = SCHOOL
    id: int = 900


@dataclass
class School:
    municipality_id: int = MUNICIPALITY


@dataclass
class SchoolClass:
    id: int
    school_id: int = SCHOOL
    school: School = field(default_factory=School)


def monday(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=OSLO)  # a Monday


@dataclass
class Row:
    action: str
    actor: PersonFacts
    target: Any = None
    context: dict[str, Any] = field(default_factory=dict)
    allowed: bool = True
    denied_by: str | None = None
    obligation: str | None = None
    obligation_rule: str | None = None
    overrides: dict[str, dict[str, Any]] | None = None
    schools: dict[int, dict[str, dict[str, Any]]] | None = None


def create(actor: PersonFacts, kind: str, *others: PersonFacts, school_owned: bool = False,
           **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "members": (actor, *others), "school_owned": school_owned, **extra}


def send(conversation: Conversation, members: tuple[PersonFacts, ...], body: str, **extra: Any) -> dict[str, Any]:
    return {"kind": conversation.kind, "members": members, "body": body,
            "school_owned": conversation.school_owned, **extra}


def deliver(recipient: PersonFacts, now: datetime, social: bool, **extra: Any) -> dict[str, Any]:
    return {"recipient": recipient, "now": now, "social": social, "school_id": SCHOOL, **extra}


PEER_GROUP = Conversation("group", created_by_id=SARA.id)
STAFF_GROUP = Conversation("group", created_by_id=OLA.id, school_owned=True)
DIRECT_9B = Conversation("direct", created_by_id=SARA.id)

ROWS = [
    # S0 Åmot: chat
    pytest.param(Row("conversation.create", EMMA, context=create(EMMA, "group", KARI, NILS, school_owned=True),
                     allowed=False, denied_by="amot.school-conversations"),
                 id="R-CHAT-01 a pupil cannot start a school conversation"),
    pytest.param(Row("conversation.create", KARI, context=create(KARI, "group", EMMA, NILS, school_owned=True),
                     obligation="label"),
                 id="R-CHAT-01 staff start school conversations, labelled"),
    pytest.param(Row("conversation.create", EMMA, context=create(EMMA, "direct", NOAH),
                     allowed=False, denied_by="amot.pupil-chat-grade"),
                 id="R-CHAT-02 two grade-4 pupils cannot chat with each other"),
    pytest.param(Row("conversation.create", SARA, context=create(SARA, "direct", JONAS)),
                 id="R-CHAT-02 pupils in lower secondary chat about subjects"),
    pytest.param(Row("conversation.create", EMMA, context=create(EMMA, "direct", KARI)),
                 id="R-CHAT-02 a young pupil chats with an adult"),
    pytest.param(Row("conversation.create", EMMA, context=create(EMMA, "direct", NOAH),
                     overrides={"amot.pupil-chat-grade": {"min_grade": 4}}),
                 id="R-CHAT-02 the grade limit is the municipality's setting"),
    pytest.param(Row("message.send", SARA, DIRECT_9B, send(DIRECT_9B, (SARA, JONAS), "hei"),
                     overrides={"amot.pupil-chat-grade": {"min_grade": 10}},
                     allowed=False, denied_by="amot.pupil-chat-grade"),
                 id="R-CHAT-02 a raised limit also stops sending in an existing chat"),
    pytest.param(Row("conversation.view_child", MOR_EMMA, EMMA, {"child_grade": 4}),
                 id="R-CHAT-03 a guardian sees whom a young child chats with"),
    pytest.param(Row("conversation.view_child", MOR_SARA, SARA, {"child_grade": 9},
                     allowed=False, denied_by="amot.guardian-sees-contacts"),
                 id="R-CHAT-03 an older child's chats are their own"),
    pytest.param(Row("conversation.view_child", MOR_SARA, EMMA, {"child_grade": 4},
                     allowed=False, denied_by="amot.guardian-sees-contacts"),
                 id="R-CHAT-03 another child's guardian sees nothing"),
    pytest.param(Row("conversation.share_with_guardian", EMMA, Conversation("direct", EMMA.id),
                     {"members": (EMMA, KARI), "guardian": MOR_EMMA}),
                 id="R-CHAT-03 a child shares a conversation with a guardian"),
    pytest.param(Row("conversation.share_with_guardian", EMMA, Conversation("direct", EMMA.id),
                     {"members": (EMMA, KARI), "guardian": MOR_SARA},
                     allowed=False, denied_by="amot.child-shares-conversation"),
                 id="R-CHAT-03 not with someone else's guardian"),
    pytest.param(Row("conversation.create", MOR_EMMA, context=create(MOR_EMMA, "group", MOR_SARA, school_owned=True),
                     allowed=False, denied_by="amot.creator-and-owner-shown"),
                 id="R-CHAT-04 a guardian's group cannot carry the school's mark"),
    pytest.param(Row("conversation.create", MOR_EMMA, context=create(MOR_EMMA, "group", MOR_SARA),
                     obligation="label", obligation_rule="amot.creator-and-owner-shown"),
                 id="R-CHAT-04 a guardian's group shows who created it"),
    pytest.param(Row("notification.deliver", SARA, PEER_GROUP, deliver(SARA, monday(10), social=True),
                     obligation="hold", obligation_rule="amot.social-notifications-held"),
                 id="R-CHAT-05 a social notice is held during school hours"),
    pytest.param(Row("notification.deliver", SARA, PEER_GROUP, deliver(SARA, monday(16), social=True)),
                 id="R-CHAT-05 after school it goes out"),
    pytest.param(Row("notification.deliver", SARA, STAFF_GROUP, deliver(SARA, monday(10), social=False)),
                 id="R-CHAT-05 a school notice is not held"),
    pytest.param(Row("notification.deliver", SARA, PEER_GROUP, deliver(SARA, monday(13), social=True),
                     schools={SCHOOL: {"amot.social-notifications-held":
                                       {"school_hours": {"mon": ["08:00", "12:00"]}}}}),
                 id="R-CHAT-05 a school's own hours apply at that school"),
    pytest.param(Row("notification.deliver", SARA, STAFF_GROUP,
                     deliver(SARA, monday(19), social=False, class_id=C9B,
                             class_quiet_hours={"mon": ["18:00", "21:00"]}),
                     obligation="hold", obligation_rule="amot.class-quiet-hours"),
                 id="R-CHAT-05 the contact teacher's quiet hours hold notices"),
    pytest.param(Row("notification.set_quiet_hours", OLA, SchoolClass(C9B)),
                 id="R-CHAT-05 the contact teacher sets the class's quiet hours"),
    pytest.param(Row("notification.set_quiet_hours", NILS, SchoolClass(C9B), allowed=False,
                     denied_by="core_messaging.quiet-hours-by-contact-teacher"),
                 id="R-CHAT-05 a subject teacher does not"),
    pytest.param(Row("message.send", SARA, PEER_GROUP,
                     send(PEER_GROUP, (SARA, JONAS), "Ali er teit", outside_names=("Ali",)),
                     obligation="nudge", obligation_rule="amot.talk-with-not-about"),
                 id="R-SAFE-01 writing about a classmate who is not there gets a nudge"),
    pytest.param(Row("conversation.create", SARA,
                     context=create(SARA, "group", JONAS, class_pupil_ids={C9B: frozenset({SARA.id, JONAS.id, ALI.id,
                                                                                         204, 205})}) |
                     {"members": (SARA, JONAS, pupil(204, 9, C9B), pupil(205, 9, C9B))},
                     obligation="nudge", obligation_rule="amot.left-out-noticed"),
                 id="R-SOC-01 a group that leaves out one classmate is noticed"),
    # S1 Oslo: protected details are set by leaders only
    pytest.param(Row("directory.set_protection", REKTOR, NOAH, {"pupil_school_ids": frozenset({SCHOOL}),
                                                               "pupil_municipality_id": MUNICIPALITY}),
                 id="R-LIST-05 the school's leader marks a protected address"),
    pytest.param(Row("directory.set_protection", KARI, NOAH, {"pupil_school_ids": frozenset({SCHOOL}),
                                                             "pupil_municipality_id": MUNICIPALITY},
                     allowed=False, denied_by="core_directory.protection-flags-by-leaders"),
                 id="R-LIST-05 a teacher cannot"),
    # S3 Kolding: staff
    pytest.param(Row("directory.view_class_members", KARI, SchoolClass(C4A)),
                 id="R-STAFF-02 the class's teacher sees who is in it"),
    pytest.param(Row("directory.view_class_members", MOR_EMMA, SchoolClass(C4A), allowed=False),
                 id="R-STAFF-02 a guardian does not see the member list"),
    pytest.param(Row("conversation.add_member", OLA, STAFF_GROUP,
                     {"members": (OLA, NILS, SARA, JONAS), "new_member": JONAS, "kind": "group", "school_owned": True}),
                 id="R-STAFF-04 the creator adds members to a closed group"),
    pytest.param(Row("conversation.add_member", NILS, STAFF_GROUP,
                     {"members": (OLA, NILS, SARA, JONAS), "new_member": JONAS, "kind": "group", "school_owned": True},
                     allowed=False, denied_by="kolding.closed-groups"),
                 id="R-STAFF-04 another member cannot"),
    pytest.param(Row("message.send", OLA, STAFF_GROUP,
                     send(STAFF_GROUP, (OLA, NILS, SARA, JONAS), "Sara var veldig flink i dag",
                          pupil_names={SARA.id: "Sara", JONAS.id: "Jonas"}),
                     obligation="nudge", obligation_rule="kolding.no-praise-or-criticism-in-groups"),
                 id="R-STAFF-05 praising one pupil in a group gets a nudge"),
    pytest.param(Row("notification.deliver", SARA, STAFF_GROUP, deliver(SARA, monday(16), social=False),
                     obligation="neutral_text", obligation_rule="kolding.neutral-out-of-app"),
                 id="R-STAFF-06 an out-of-app notice carries neutral text only"),
    pytest.param(Row("conversation.create", OLA, context=create(OLA, "group", SARA, JONAS, school_owned=True),
                     allowed=False, denied_by="kolding.second-adult"),
                 id="R-STAFF-07 a teacher alone with pupils is refused"),
    pytest.param(Row("conversation.create", OLA, context=create(OLA, "group", NILS, SARA, JONAS, school_owned=True)),
                 id="R-STAFF-07 with a colleague it is allowed"),
    pytest.param(Row("conversation.create", OLA, context=create(OLA, "group", SARA, JONAS, school_owned=True),
                     overrides={"kolding.second-adult": {"min_adults": 1}}),
                 id="R-STAFF-07 the number of adults is the municipality's setting"),
    # Cross-cutting
    pytest.param(Row("no.such_action", REKTOR, allowed=False, denied_by="engine.no-rule-allows"),
                 id="R-PRIV-01 an action no rule covers is refused"),
]


@pytest.mark.parametrize("row", ROWS)
def test_guideline_clause(row: Row) -> None:
    policy = compile_policy(load_registry(), None, row.overrides, row.schools)
    decision = decide(row.action, row.actor, row.target, row.context, policy=policy)
    assert decision.allowed is row.allowed, decision.as_dict()
    if row.denied_by:
        denying = {f.rule.id for f in decision.fired if f.verdict == "deny"}
        assert row.denied_by in denying, decision.as_dict()
        assert decision.reason("nb") and decision.reason("da") and decision.reason("en")
        assert "{" not in decision.reason("nb"), "a placeholder was left unfilled"
    if row.obligation:
        kinds = {(o.kind, o.rule_id) for o in decision.obligations}
        assert any(k == row.obligation and (row.obligation_rule in (None, r)) for k, r in kinds), kinds
    elif row.obligation is None and row.allowed and row.action == "notification.deliver":
        assert not decision.obligations_of("hold")


def test_r_chat_05_a_held_notice_waits_until_the_school_day_ends() -> None:
    """The hold says when: the end of that weekday's school hours, or the school's own end."""
    policy = compile_policy(load_registry(), None, None,
                            {2: {"amot.social-notifications-held": {"school_hours": {"mon": ["08:00", "12:00"]}}}})
    ctx = deliver(SARA, monday(10), social=True)
    hold = decide("notification.deliver", SARA, PEER_GROUP, ctx, policy=policy).obligations_of("hold")[0]
    assert hold.data["until"].hour == 14 and hold.data["until"].minute == 30
    ctx["school_id"] = 2
    hold = decide("notification.deliver", SARA, PEER_GROUP, ctx, policy=policy).obligations_of("hold")[0]
    assert hold.data["until"].hour == 12


def test_r_chat_02_a_refusal_names_the_grade_in_force() -> None:
    """The reason a pupil reads says the municipality's grade, in their language."""
    policy = compile_policy(load_registry(), None, {"amot.pupil-chat-grade": {"min_grade": 6}})
    decision = decide("conversation.create", EMMA, None, create(EMMA, "direct", NOAH), policy=policy)
    assert "6." in decision.reason("nb") and "grade 6" in decision.reason("en")


@settings(max_examples=150, deadline=None)
@given(a=st.integers(1, 10), b=st.integers(1, 10), limit=st.integers(1, 10))
def test_r_chat_02_pupils_chat_with_each_other_exactly_from_the_grade_limit(a: int, b: int, limit: int) -> None:
    """With any grade limit, two pupils may start a chat exactly when both are at or above it."""
    policy = compile_policy(load_registry(), None, {"amot.pupil-chat-grade": {"min_grade": limit}})
    first, second = pupil(1, a, C4A), pupil(2, b, C9B)
    decision = decide("conversation.create", first, None, create(first, "direct", second), policy=policy)
    assert decision.allowed is (min(a, b) >= limit)


@settings(max_examples=150, deadline=None)
@given(start=st.integers(6 * 60, 12 * 60), length=st.integers(30, 8 * 60), at=st.integers(0, 24 * 60 - 1))
def test_r_chat_05_a_social_notice_is_held_exactly_within_school_hours(start: int, length: int, at: int) -> None:
    """Whatever the school hours, a social notice is held exactly while school is on."""
    end = min(start + length, 23 * 60 + 59)
    hours = {"mon": [f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}"]}
    policy = compile_policy(load_registry(), None, {"amot.social-notifications-held": {"school_hours": hours}})
    now = monday(at // 60, at % 60)
    decision = decide("notification.deliver", SARA, PEER_GROUP, deliver(SARA, now, social=True), policy=policy)
    held = [o for o in decision.obligations_of("hold") if o.rule_id == "amot.social-notifications-held"]
    assert decision.allowed
    assert bool(held) is (start <= at < end)
