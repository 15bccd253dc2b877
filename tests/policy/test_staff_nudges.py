"""Staff conduct in the chat: the R-STF-01 nudge before sending and the R-STAFF-01 notice.

R-STF-01 (DK policy, nudge): staff who write negatively about colleagues, pupils, parents or the
workplace are reminded that there is no undo, and can still send. R-STAFF-01 (Kolding, inform):
a teacher starting a direct conversation with a guardian or pupil is shown that work
communication stays on the school's platform; nothing is blocked.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from trygg.directory.models import PersonFacts
from trygg.policy.engine import compile_policy, decide, load_registry

pytestmark = pytest.mark.django_db

_txn = itertools.count(1)
STF = "R-STF-01"
STAFF_01 = "R-STAFF-01"


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def direct_chat(client: Client, other: str) -> int:
    response = post(client, "/api/v1/conversations", {"kind": "direct", "member_usernames": [other]})
    assert response.status_code in (200, 201), response.content
    return response.json()["id"]


def requirements_of(nudges: list[dict[str, Any]]) -> set[str]:
    return {n["requirement"] for n in nudges}


# ------------------------------------------------------------------ R-STF-01 through the API


def test_r_stf_01_staff_writing_negatively_about_parents_is_nudged_and_can_still_send(
    api_client: Callable[[str | None], Client],
) -> None:
    """kari.4a writing to rektor that the parents are hopeless sees the "no undo" nudge in the composer's
    preview; sending is allowed and the sent message carries the same nudge."""
    client = api_client("kari.4a")
    conversation_id = direct_chat(client, "rektor")
    text = "Foreldrene i 4A er helt håpløse, jeg orker ikke mer."
    preview = post(client, f"/api/v1/conversations/{conversation_id}/messages/preview", {"body": text}).json()
    assert preview["allowed"] is True
    nudge = next(n for n in preview["nudges"] if n["requirement"] == STF)
    assert nudge["rule"] == "dk_policy.no-negative-posts"
    assert nudge["level"] == "nudge"
    assert "kan ikke angres" in nudge["message"] or "no undo" in nudge["message"]
    sent = post(client, f"/api/v1/conversations/{conversation_id}/messages",
                {"body": text, "client_txn_id": f"stf-{next(_txn)}"})
    assert sent.status_code == 201
    assert STF in requirements_of(sent.json()["nudges"])


def test_r_stf_01_ordinary_school_talk_from_staff_is_not_nudged(api_client: Callable[[str | None], Client]) -> None:
    """A neutral message, or a hard task described without contempt, gets no R-STF-01 nudge."""
    client = api_client("kari.4a")
    conversation_id = direct_chat(client, "rektor")
    for text in ("Husk foreldremøtet på tirsdag.", "Elevene syntes matteprøven var vanskelig."):
        preview = post(client, f"/api/v1/conversations/{conversation_id}/messages/preview", {"body": text}).json()
        assert STF not in requirements_of(preview["nudges"]), text


def test_r_stf_01_the_nudge_is_for_staff_not_for_guardians(api_client: Callable[[str | None], Client]) -> None:
    """The guideline binds staff: a guardian writing the same words to the teacher gets no R-STF-01 nudge."""
    client = api_client("mor.emma")
    conversation_id = direct_chat(client, "kari.4a")
    preview = post(client, f"/api/v1/conversations/{conversation_id}/messages/preview",
                   {"body": "Skolen er helt håpløs."}).json()
    assert preview["allowed"] is True
    assert STF not in requirements_of(preview["nudges"])


# ------------------------------------------------------------------ R-STF-01, table-driven (no database)

MUNICIPALITY = 7
TEACHER = PersonFacts(id=11, roles=frozenset({"teacher"}), municipality_id=MUNICIPALITY, language="da",
                      contact_class_ids=frozenset({41}), school_ids=frozenset({1}))
LEADER = PersonFacts(id=1, roles=frozenset({"leader"}), municipality_id=MUNICIPALITY, language="da",
                     led_school_ids=frozenset({1}), school_ids=frozenset({1}))
PUPIL = PersonFacts(id=101, roles=frozenset({"pupil"}), municipality_id=MUNICIPALITY, language="nb", grade=4,
                    pupil_class_ids=frozenset({41}), school_ids=frozenset({1}))
GUARDIAN = PersonFacts(id=301, roles=frozenset({"guardian"}), municipality_id=MUNICIPALITY, language="nb",
                       child_ids=frozenset({101}), school_ids=frozenset({1}))


class Conversation:
    kind = "direct"
    school_owned = False
    created_by_id = 11
    school_id = 1


@pytest.fixture(scope="module")
def every_pack() -> Any:
    return compile_policy(load_registry(), None, None)


@pytest.mark.parametrize(
    ("sender", "body", "pupil_names", "nudged"),
    [
        pytest.param(TEACHER, "Forældrene i 4A er fuldstændig håbløse", {}, True,
                     id="R-STF-01 da: parents called hopeless"),
        pytest.param(TEACHER, "Ledelsen er inkompetent", {}, True, id="R-STF-01 da: the leaders"),
        pytest.param(LEADER, "My colleagues are useless", {}, True, id="R-STF-01 en: colleagues"),
        pytest.param(TEACHER, "Emma er en møgunge", {101: "Emma"}, True, id="R-STF-01 da: a named pupil"),
        pytest.param(TEACHER, "Kollegaen min var idiotisk i dag", {}, True, id="R-STF-01 nb: a colleague"),
        pytest.param(TEACHER, "Husk madpakke i morgen", {}, False, id="R-STF-01 neutral text"),
        pytest.param(TEACHER, "Forældrene er velkomne på fredag", {}, False, id="R-STF-01 about parents, kindly"),
        pytest.param(TEACHER, "Det er håbløst vejr i dag", {}, False, id="R-STF-01 negative, about nobody"),
        pytest.param(GUARDIAN, "Skolen er håpløs", {}, False, id="R-STF-01 a guardian is not staff"),
        pytest.param(PUPIL, "Læreren er dum", {}, False, id="R-STF-01 a pupil is not staff"),
    ],
)
def test_r_stf_01_which_messages_get_the_no_undo_nudge(
    every_pack: Any, sender: PersonFacts, body: str, pupil_names: dict[int, str], nudged: bool
) -> None:
    """Each row: a message send and whether dk_policy.no-negative-posts nudges (never refuses)."""
    members = (sender, LEADER if sender is TEACHER else TEACHER)
    context = {"members": members, "body": body, "kind": "direct", "school_owned": False,
               "pupil_names": pupil_names, "outside_names": ()}
    decision = decide("message.send", sender, Conversation(), context, policy=every_pack)
    assert decision.allowed is True
    nudges = {o.rule_id for o in decision.obligations_of("nudge")}
    assert ("dk_policy.no-negative-posts" in nudges) is nudged


def test_r_stf_01_a_municipality_can_replace_the_word_list(every_pack: Any) -> None:
    """With its own ``words``, the rule nudges on those words and no longer on the built-in ones."""
    policy = compile_policy(load_registry(), None, {"dk_policy.no-negative-posts": {"words": ["sur"]}})
    context = {"members": (TEACHER, LEADER), "kind": "direct", "school_owned": False}
    own = decide("message.send", TEACHER, Conversation(), {**context, "body": "Forældrene er sure"}, policy=policy)
    builtin = decide("message.send", TEACHER, Conversation(), {**context, "body": "Forældrene er håbløse"},
                     policy=policy)
    assert "dk_policy.no-negative-posts" not in {o.rule_id for o in own.obligations_of("nudge")}
    own = decide("message.send", TEACHER, Conversation(), {**context, "body": "Forældrene er sur"}, policy=policy)
    assert "dk_policy.no-negative-posts" in {o.rule_id for o in own.obligations_of("nudge")}
    assert "dk_policy.no-negative-posts" not in {o.rule_id for o in builtin.obligations_of("nudge")}


# ------------------------------------------------------------------ R-STAFF-01


def test_r_staff_01_teacher_starting_a_chat_with_a_guardian_sees_the_platform_guideline(
    api_client: Callable[[str | None], Client],
) -> None:
    """kari.4a starting a direct chat with mor.emma is allowed (201) and the response carries the
    Kolding guideline as an inform-level notice."""
    response = post(api_client("kari.4a"), "/api/v1/conversations",
                    {"kind": "direct", "member_usernames": ["mor.emma"]})
    assert response.status_code == 201
    notice = next(n for n in response.json()["nudges"] if n["requirement"] == STAFF_01)
    assert notice["rule"] == "kolding.use-school-platform"
    assert notice["level"] == "inform"
    assert notice["message"]


def test_r_staff_01_the_decision_carries_an_inform_obligation_and_does_not_block(
    person: Callable[[str], Any],
) -> None:
    """A teacher → pupil direct chat: allowed, with an ``inform`` obligation from kolding.use-school-platform."""
    from trygg.messaging.actions import preview_conversation

    decision = preview_conversation(person("kari.4a"), "direct", ["emma.4a"])
    assert decision.allowed is True
    assert [o.rule_id for o in decision.obligations_of("inform") if o.data.get("show")] == [
        "kolding.use-school-platform"
    ]


def test_r_staff_01_the_notice_is_shown_on_the_page_after_starting_the_chat(person: Callable[[str], Any]) -> None:
    """Starting the chat from the conversation page lands on the conversation with the guideline shown."""
    client = Client()
    client.force_login(person("kari.4a"))
    client.cookies["django_language"] = "nb"
    response = client.post("/messages/new", {"members": ["mor.emma"]}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain and "/messages/" in response.redirect_chain[-1][0]
    assert "Hold jobbkontakt med elever og foresatte her på skolens plattform" in response.content.decode()


@pytest.mark.parametrize(
    ("starter", "other"),
    [pytest.param("kari.4a", "rektor", id="R-STAFF-01 staff to staff"),
     pytest.param("mor.emma", "kari.4a", id="R-STAFF-01 a guardian starting it")],
)
def test_r_staff_01_no_notice_where_the_guideline_does_not_apply(
    api_client: Callable[[str | None], Client], starter: str, other: str
) -> None:
    """The guideline speaks to staff about pupils and parents: no notice between colleagues, none for a guardian."""
    response = post(api_client(starter), "/api/v1/conversations", {"kind": "direct", "member_usernames": [other]})
    assert response.status_code in (200, 201)
    assert STAFF_01 not in requirements_of(response.json()["nudges"])


def test_r_staff_01_the_rulebook_shows_teachers_the_guideline(person: Callable[[str], Any]) -> None:
    """The rule's inform text is on a teacher's rulebook, beside the Danish quote."""
    client = Client()
    client.force_login(person("kari.4a"))
    client.cookies["django_language"] = "en"
    html = client.get("/guidelines/").content.decode()
    assert 'data-rule="kolding.use-school-platform"' in html
    assert "Keep work communication with pupils and parents here on the school&#x27;s platform" in html
    assert "Brug redskaberne i skolens valgte IT platform" in html
