"""Every refusal is worded for the person who meets it (issue 11, item 13): a pack may give a rule's
reason in words for pupils, guardians and staff (``reason_for``); the engine picks them by who asks,
in nb, da and en, through every door."""

from __future__ import annotations

import json
from typing import Any

import pytest

from trygg.directory.models import Person
from trygg.policy.engine import load_registry
from trygg.policy.packs_schema import RuleSpec

LANGS = ("nb", "da", "en")
# What only a pupil may be told: a teacher is never sent to "your teacher".
PUPIL_WORDS = {"nb": ("læreren din", "din lærer"), "da": ("din lærer",), "en": ("your teacher",)}
CHILD_WORDS = {"nb": "barnet ditt", "da": "dit barn", "en": "your child"}

REG = load_registry()
STAFF_ROLES = {"teacher", "leader", "union_rep", "safety_rep", "admin", "case_handler"}


def _words_for(rule: RuleSpec, audience: str, lang: str) -> str:
    return (rule.reason_for.get(audience) or rule.reason)[lang]


@pytest.mark.parametrize("rule_id", sorted(r.id for r in REG.rules.values() if set(r.roles) & STAFF_ROLES))
def test_r_chat_02_no_rule_tells_staff_to_write_to_their_teacher(rule_id: str) -> None:
    """R-CHAT-02, issue 11 item 13: the words a staff member gets from any rule that can reach staff
    never send them to "your teacher", in any language."""
    rule = REG.rules[rule_id]
    for lang in LANGS:
        text = _words_for(rule, "staff", lang).lower()
        assert not any(w in text for w in PUPIL_WORDS[lang]), (lang, text)


def _post(client: Any, path: str, body: dict[str, Any], lang: str) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE=lang)


def _group_of_fourth_graders(api_client: Any, who: str, lang: str) -> str:
    members = {"emma.4a": ["noah.4a", "kari.4a"], "mor.emma": ["emma.4a", "noah.4a"],
               "kari.4a": ["emma.4a", "noah.4a", "nils.9b"]}[who]
    refused = _post(api_client(who), "/api/v1/conversations", {
        "kind": "group", "title": "4A", "member_usernames": members, "school_owned": who == "kari.4a"}, lang)
    assert refused.status_code == 403 and refused.json()["rule"] == "amot.pupil-chat-grade", refused.content
    return refused.json()["message"]


@pytest.mark.parametrize("lang", LANGS)
def test_r_chat_02_the_grade_refusal_speaks_to_the_pupil_the_guardian_and_the_teacher(api_client, lang):
    """R-CHAT-02: the same rule refuses emma.4a, mor.emma and kari.4a a group of fourth-graders; the
    pupil is pointed to her teacher, the guardian hears about her child, the teacher is told what to
    do instead and never to write to a teacher."""
    rule = REG.rules["amot.pupil-chat-grade"]
    pupil = _group_of_fourth_graders(api_client, "emma.4a", lang)
    guardian = _group_of_fourth_graders(api_client, "mor.emma", lang)
    teacher = _group_of_fourth_graders(api_client, "kari.4a", lang)
    assert any(w in pupil.lower() for w in PUPIL_WORDS[lang])
    assert CHILD_WORDS[lang] in guardian.lower()
    assert not any(w in teacher.lower() for w in PUPIL_WORDS[lang])
    assert teacher == rule.reason_for["staff"][lang].format(min_grade=8)
    assert len({pupil, guardian, teacher}) == 3


@pytest.mark.parametrize("lang", LANGS)
def test_r_staff_07_a_frozen_group_tells_the_pupil_to_write_to_her_teacher_and_the_teacher_to_add_one(
    api_client, lang
):
    """R-STAFF-07: in a group whose second adult is gone, sara.9b is told to write to her teacher,
    ola.9b (still in it) to add a colleague."""
    created = _post(api_client("ola.9b"), "/api/v1/conversations", {
        "kind": "group", "title": "Fag", "member_usernames": ["sara.9b", "jonas.9b", "nils.9b"],
        "school_owned": True}, lang)
    group = created.json()["id"]
    Person.objects.filter(username="nils.9b").update(is_active=False)
    rule = REG.rules["kolding.group-frozen-without-adults"]
    said = {}
    for who in ("sara.9b", "ola.9b"):
        refused = _post(api_client(who), f"/api/v1/conversations/{group}/messages",
                        {"body": "Hei", "client_txn_id": f"w-{who}-{lang}"}, lang)
        assert refused.status_code == 403 and refused.json()["rule"] == rule.id
        said[who] = refused.json()["message"]
    assert said["sara.9b"] == rule.reason_for["pupil"][lang]
    assert said["ola.9b"] == rule.reason_for["staff"][lang]
    assert not any(w in said["ola.9b"].lower() for w in PUPIL_WORDS[lang])
