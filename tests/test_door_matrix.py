"""Every guideline at every door (issue 11, item 1): each guarded action, called through every door
that exists for it, meets the same refusal: the same status, rule and requirement, in the same words.

Doors: **api** (JSON), **page** (the HTML form), **socket** (``/ws/meetings/…``; ``/ws/events`` and
the long poll only read, which ``test_r_staff_07_the_events_socket_is_no_door_to_sending`` keeps
so). The admin, the CLI and the roster import have no door to these actions:
``test_the_admin_and_the_cli_open_no_door_to_a_guarded_action`` keeps it so, and a deactivation in
the admin (the roster import deactivates the same way) reaches the send guard
(``test_r_staff_07_a_deactivation_in_the_admin_reaches_the_send_guard``).

A page shows a pupil or guardian the words only; staff see the rule and requirement too. Every door
writes the rule of a refusal to the ``trygg.refusals`` log, which is how this module reads the rule
behind a page a pupil sees. ``docs/guidelines-at-every-door.md`` lists these tests per action.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.utils import timezone

from tests.cases.conftest import class_message, emma_case_factory, report  # noqa: F401 (fixtures)
from tests.cases.test_closing import _walk_to_follow_up
from tests.classlist.conftest import put_consent
from tests.conftest import step_up
from trygg.directory.models import Person, SchoolClass
from trygg.messaging.models import Message


@dataclass(frozen=True)
class Seen:
    """What a person met at one door: the status, the rule and requirement, and the page or JSON text."""

    status: int
    rule: str | None
    requirement: str | None
    text: str


def _json(client: Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(client, method)(path, data=json.dumps(body or {}), content_type="application/json")


def through_api(response: Any) -> Seen:
    body = response.json()
    return Seen(response.status_code, body.get("rule"), body.get("requirement"), body.get("message", ""))


def through_page(call: Callable[[], Any], caplog: pytest.LogCaptureFixture) -> Seen:
    """Submit a form and read its refusal: the rule from the refusal log (only what this request
    wrote), the words from the page."""
    caplog.clear()
    response = call()
    refusals = [r for r in caplog.records if r.name == "trygg.refusals"]
    rule, requirement = (refusals[-1].args[0], refusals[-1].args[1]) if refusals else (None, None)
    return Seen(response.status_code, rule, requirement, html.unescape(response.content.decode()))


def assert_same_refusal(seen: Seen, reference: Seen, *, staff: bool) -> None:
    """The door refused as the API does: status, rule, requirement and the words; ids only to staff."""
    assert (seen.status, seen.rule, seen.requirement) == (reference.status, reference.rule, reference.requirement)
    assert reference.text and reference.text in seen.text
    if seen is not reference:
        # Staff see the rule on a page; pupils and guardians never do.
        assert (str(reference.rule) in seen.text) == staff


@pytest.fixture(autouse=True)
def _refusal_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="trygg.refusals")


@pytest.fixture
def browser_of(person: Callable[[str], Any]) -> Callable[[str], Client]:
    def make(username: str) -> Client:
        client = Client()
        client.force_login(person(username))
        return client

    return make


def _group(api_client: Callable[[str | None], Client], creator: str, *others: str, school_owned: bool = True) -> int:
    response = _json(api_client(creator), "post", "/api/v1/conversations", {
        "kind": "group", "title": "Fag", "member_usernames": list(others), "school_owned": school_owned})
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


@pytest.fixture
def ola_group(api_client: Callable[[str | None], Client]) -> int:
    """ola.9b's school-owned group with sara.9b, jonas.9b and nils.9b, the second adult."""
    return _group(api_client, "ola.9b", "sara.9b", "jonas.9b", "nils.9b")


DOORS_OF_A_FORM = ["api", "page"]


# ------------------------------------------------------------------------------ conversations


@pytest.mark.parametrize("door", DOORS_OF_A_FORM)
def test_r_staff_07_a_send_in_a_group_without_adults_is_refused_at_every_door(
    door, ola_group, api_client, browser_of, caplog
):
    """R-STAFF-07 (``kolding.group-frozen-without-adults``): nils.9b's employment ends; sara.9b's
    message to the frozen group is 403 through the API and the conversation page's form, with the
    same words, and nothing is written."""
    Person.objects.filter(username="nils.9b").update(is_active=False)
    path = f"/api/v1/conversations/{ola_group}/messages"
    reference = through_api(_json(api_client("sara.9b"), "post", path, {"body": "Hei?", "client_txn_id": "m-1"}))
    assert (reference.status, reference.rule, reference.requirement) == (
        403, "kolding.group-frozen-without-adults", "R-STAFF-07")
    seen = {
        "api": lambda: reference,
        "page": lambda: through_page(lambda: browser_of("sara.9b").post(
            f"/messages/{ola_group}/send", {"body": "Hei?", "client_txn_id": "m-2"}), caplog),
    }[door]()
    assert_same_refusal(seen, reference, staff=False)
    assert not Message.objects.filter(conversation_id=ola_group).exists()


@pytest.mark.parametrize("writer", ["emma.4a", "kari.4a"])
@pytest.mark.parametrize("door", DOORS_OF_A_FORM)
def test_r_chat_02_a_group_of_fourth_graders_is_refused_at_every_door(door, writer, api_client, browser_of, caplog):
    """R-CHAT-02 (``amot.pupil-chat-grade``): emma.4a's own group with noah.4a, and kari.4a's
    school-owned one, are 403 through the API and the new-conversation form; kari.4a sees the rule
    on the page, emma.4a only the words."""
    members = ["noah.4a"] if writer == "emma.4a" else ["emma.4a", "noah.4a", "nils.9b"]
    owned = writer == "kari.4a"
    reference = through_api(_json(api_client(writer), "post", "/api/v1/conversations", {
        "kind": "group", "title": "4A", "member_usernames": members, "school_owned": owned}))
    assert (reference.status, reference.rule, reference.requirement) == (403, "amot.pupil-chat-grade", "R-CHAT-02")
    form = {"members": members, "title": "4A", **({"school_owned": "on"} if owned else {})}
    seen = {
        "api": lambda: reference,
        "page": lambda: through_page(lambda: browser_of(writer).post("/messages/new", form), caplog),
    }[door]()
    assert_same_refusal(seen, reference, staff=writer == "kari.4a")


@pytest.mark.parametrize("door", DOORS_OF_A_FORM)
def test_r_staff_04_only_the_creator_adds_members_at_every_door(door, ola_group, api_client, browser_of, caplog):
    """R-STAFF-04 (closed groups): sara.9b adding mor.sara to ola.9b's group is refused the same way
    through the API and the page's add form; nobody is added."""
    path = f"/api/v1/conversations/{ola_group}/members"
    reference = through_api(_json(api_client("sara.9b"), "post", path, {"username": "mor.sara"}))
    assert reference.status == 403 and reference.requirement == "R-STAFF-04", reference
    seen = {
        "api": lambda: reference,
        "page": lambda: through_page(lambda: browser_of("sara.9b").post(
            f"/messages/{ola_group}/members/add", {"username": "mor.sara"}), caplog),
    }[door]()
    assert_same_refusal(seen, reference, staff=False)
    assert not Person.objects.filter(username="mor.sara", memberships__conversation_id=ola_group).exists()


@pytest.mark.parametrize("door", DOORS_OF_A_FORM)
def test_r_staff_07_the_second_adult_cannot_leave_at_any_door(door, ola_group, api_client, browser_of, caplog):
    """R-STAFF-07 (``kolding.second-adult``): nils.9b leaving would leave one adult with the pupils:
    403 through the API and the page's leave button, and he stays."""
    reference = through_api(api_client("nils.9b").delete(f"/api/v1/conversations/{ola_group}/members/nils.9b"))
    assert (reference.status, reference.rule, reference.requirement) == (403, "kolding.second-adult", "R-STAFF-07")
    seen = {
        "api": lambda: reference,
        "page": lambda: through_page(lambda: browser_of("nils.9b").post(
            f"/messages/{ola_group}/members/remove", {"username": "nils.9b"}), caplog),
    }[door]()
    assert_same_refusal(seen, reference, staff=True)
    assert Person.objects.filter(username="nils.9b", memberships__conversation_id=ola_group).exists()


def test_r_staff_07_a_deactivation_in_the_admin_reaches_the_send_guard(ola_group, api_client, person):
    """R-STAFF-07: the admin is a door to deactivation, not to sending (the roster import deactivates
    the same way); the group it leaves without adults refuses the pupils' messages with the rule above."""
    from tests.directory.test_admin import admin_client, form_data

    client = admin_client(person("admin"))
    url = f"/admin/directory/person/{person('nils.9b').pk}/change/"
    data = form_data(client.get(url))
    data.pop("is_active", None)
    assert client.post(url, data).status_code == 302
    assert not person("nils.9b").is_active
    refused = _json(api_client("sara.9b"), "post", f"/api/v1/conversations/{ola_group}/messages",
                    {"body": "Hei?", "client_txn_id": "m-3"})
    assert refused.status_code == 403 and refused.json()["rule"] == "kolding.group-frozen-without-adults"


def test_r_staff_07_a_roster_import_that_ends_the_adults_reaches_the_send_guard(tmp_path, api_client):
    """R-STAFF-07: the roster import is a door to deactivation too. Tone and Per teach a 9th-grade class in a
    municipality's own roster; Tone's group with Per and two pupils works until a delta marks both
    teachers tobedeleted; then a pupil's message is refused with the same rule as after the admin."""
    from tests.directory.test_roster import roster_rows, write_roster
    from trygg.directory.roster import check_import_roster

    rows = roster_rows()
    rows["classes.csv"][0]["grades"] = "09"  # old enough for a group (R-CHAT-02 is not what is tested)
    check_import_roster(write_roster(tmp_path / "first", rows))
    group = _group(api_client, "tone.5a", "per.5a", "siri.5a", "odin.5a")
    sent = _json(api_client("siri.5a"), "post", f"/api/v1/conversations/{group}/messages",
                 {"body": "Hei!", "client_txn_id": "r-1"})
    assert sent.status_code == 201, sent.content
    for row in rows["users.csv"]:
        if row["sourcedId"] in ("fv-t1", "fv-t2"):
            row["status"] = "tobedeleted"
    check_import_roster(write_roster(tmp_path / "second", rows))
    assert not Person.objects.get(username="tone.5a").is_active
    refused = _json(api_client("siri.5a"), "post", f"/api/v1/conversations/{group}/messages",
                    {"body": "Hallo?", "client_txn_id": "r-2"})
    assert refused.status_code == 403 and refused.json()["rule"] == "kolding.group-frozen-without-adults"
    assert refused.json()["requirement"] == "R-STAFF-07"


@pytest.mark.django_db(transaction=True)
def test_r_staff_07_the_events_socket_is_no_door_to_sending(demo, api_client):
    """R-STAFF-07, R-CHAT-02: ``/ws/events`` only reads. A frame that tries to send into ola.9b's
    group is answered ``unknown_frame`` and writes nothing, so there is no send guard to miss."""
    from asgiref.sync import async_to_sync
    from channels.routing import URLRouter
    from channels.testing import WebsocketCommunicator

    from trygg.directory.models import ApiToken
    from trygg.events.routing import websocket_urlpatterns

    group = _group(api_client, "ola.9b", "sara.9b", "jonas.9b", "nils.9b")
    bearer = ApiToken.issue(Person.objects.get(username="sara.9b"))[1]

    async def run() -> dict[str, Any]:
        ws = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/events")
        await ws.connect()
        await ws.send_json_to({"type": "auth", "token": bearer})
        while (await ws.receive_json_from(timeout=3))["type"] != "hello":
            pass
        await ws.send_json_to({"type": "send", "conversation_id": group, "body": "Hei", "client_txn_id": "ws-1"})
        while (frame := await ws.receive_json_from(timeout=3))["type"] != "error":
            pass
        await ws.disconnect()
        return frame

    assert async_to_sync(run)()["error"] == "unknown_frame"
    assert not Message.objects.filter(conversation_id=group).exists()


# ------------------------------------------------------------------------------ class list


@pytest.mark.parametrize("door", DOORS_OF_A_FORM)
def test_r_list_04_an_opt_in_without_the_notice_is_refused_at_every_door(door, api_client, browser_of, caplog):
    """R-LIST-04 (``oslo.list-is-public``): mor.sara turning on her phone without accepting the
    public-records notice is 409 through the API and the consent form; nothing is shared."""
    class_id = SchoolClass.objects.get(name="9B").pk
    reference = through_api(put_consent(api_client("mor.sara"), class_id, "sara.9b", accept_notice=False, phone=True))
    assert (reference.status, reference.rule, reference.requirement) == (409, "oslo.list-is-public", "R-LIST-04")
    seen = {
        "api": lambda: reference,
        "page": lambda: through_page(lambda: browser_of("mor.sara").post(
            f"/classes/{class_id}/consent/", {"student_username": "sara.9b", "phone": "on"}), caplog),
    }[door]()
    assert_same_refusal(seen, reference, staff=False)


# ------------------------------------------------------------------------------ meetings


def _soon() -> str:
    return (timezone.now() + timedelta(days=2)).isoformat()


@pytest.mark.parametrize("door", DOORS_OF_A_FORM)
def test_r_meet_12_an_invitation_with_a_birth_number_is_refused_at_every_door(door, api_client, browser_of, caplog):
    """R-MEET-12: kari.4a's invitation naming a pupil by an 11-digit number that starts with a date
    is refused through the API and the new-meeting form alike."""
    body = {"kind": "development_talk", "starts_at": _soon(), "title": "Utviklingssamtale",
            "invitation_text": "Gjelder elev 01017012345", "student_username": "emma.4a"}
    reference = through_api(_json(api_client("kari.4a"), "post", "/api/v1/meetings", body))
    assert reference.status in (400, 403) and reference.requirement == "R-MEET-12", reference
    seen = {
        "api": lambda: reference,
        "page": lambda: through_page(lambda: browser_of("kari.4a").post("/meetings/new", body), caplog),
    }[door]()
    assert_same_refusal(seen, reference, staff=True)


@pytest.fixture
def talk(api_client: Callable[[str | None], Client]) -> dict[str, Any]:
    """kari.4a's development talk for emma.4a."""
    response = _json(api_client("kari.4a"), "post", "/api/v1/meetings", {
        "kind": "development_talk", "starts_at": _soon(), "title": "Utviklingssamtale",
        "invitation_text": "Velkommen til utviklingssamtale på video.", "student_username": "emma.4a"})
    assert response.status_code == 201, response.content
    return response.json()


def test_r_meet_10_only_the_organiser_admits(talk, api_client):
    """R-MEET-10: far.emma, invited, cannot admit mor.emma from the lobby: 403 with the rule. The
    API is the only door to admitting (the room's button calls it; the socket only signals)."""
    refused = through_api(_json(api_client("far.emma"), "post", f"/api/v1/meetings/{talk['id']}/admit",
                                {"username": "mor.emma"}))
    assert refused.status == 403 and refused.rule and refused.requirement, refused


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("door", ["api", "page", "socket"])
def test_r_meet_10_a_removed_guardian_is_refused_at_every_door(door, demo, api_client, browser_of, caplog):
    """R-MEET-10: mor.emma took her join token, then kari.4a removed her from the talk. Joining again
    through the API, opening the room page, and joining the socket with the token she already has
    are all refused with the same rule and requirement."""
    from asgiref.sync import async_to_sync
    from channels.routing import URLRouter
    from channels.testing import WebsocketCommunicator

    from trygg.directory.models import ApiToken
    from trygg.meetings.routing import websocket_urlpatterns

    talk = _json(api_client("kari.4a"), "post", "/api/v1/meetings", {
        "kind": "development_talk", "starts_at": _soon(), "title": "Utviklingssamtale",
        "invitation_text": "Velkommen til utviklingssamtale på video.", "student_username": "emma.4a"}).json()
    mor = api_client("mor.emma")
    join_path = f"/api/v1/meetings/{talk['id']}/join"
    join_token = _json(mor, "post", join_path).json()["join_token"]
    removed = _json(api_client("kari.4a"), "post", f"/api/v1/meetings/{talk['id']}/remove", {"username": "mor.emma"})
    assert removed.status_code == 200, removed.content
    reference = through_api(_json(mor, "post", join_path))
    assert reference.status == 403 and reference.rule and reference.requirement, reference

    def socket() -> Seen:
        bearer = ApiToken.issue(Person.objects.get(username="mor.emma"))[1]

        async def run() -> dict[str, Any]:
            ws = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/meetings/{talk['id']}")
            await ws.connect()
            await ws.send_json_to({"type": "auth", "token": bearer})
            await ws.send_json_to({"type": "join", "join_token": join_token})
            while (frame := await ws.receive_json_from(timeout=3))["type"] != "error":
                pass
            await ws.disconnect()
            return frame

        frame = async_to_sync(run)()
        assert frame["error"] == "join_refused"
        return Seen(reference.status, frame.get("rule"), frame.get("requirement"), frame.get("message", ""))

    seen = {
        "api": lambda: reference,
        "page": lambda: through_page(lambda: browser_of("mor.emma").get(talk["link"]), caplog),
        "socket": socket,
    }[door]()
    if door == "socket":
        assert (seen.rule, seen.requirement, seen.text) == (reference.rule, reference.requirement, reference.text)
    else:
        assert_same_refusal(seen, reference, staff=False)


# ------------------------------------------------------------------------------ cases


@pytest.mark.parametrize("door", DOORS_OF_A_FORM)
def test_r_staff_03_a_pupil_cannot_file_a_staff_concern_at_any_door(door, api_client, browser_of, caplog):
    """R-STAFF-03 (the categories, R-CASE-21): a concern report is for staff; sara.9b choosing it is
    refused with the same rule through the API and the report form, and no case is opened."""
    from trygg.cases.models import Case

    body = {"category": "teacher_concern", "description": "Jeg er bekymret"}
    reference = through_api(_json(api_client("sara.9b"), "post", "/api/v1/reports", body))
    assert reference.status in (400, 403) and reference.rule, reference
    seen = {
        "api": lambda: reference,
        "page": lambda: through_page(lambda: browser_of("sara.9b").post("/cases/report/", body), caplog),
    }[door]()
    assert_same_refusal(seen, reference, staff=False)
    assert not Case.objects.exists()


@pytest.mark.parametrize("door", DOORS_OF_A_FORM)
def test_r_case_12_closing_with_open_steps_is_refused_at_every_door(
    door, emma_case_factory, strong_api_client, browser_of, caplog  # noqa: F811 (the imported fixture)
):
    """R-CASE-12 (``core_cases.checklist-before-closing``): rektor closing emma.4a's case with its
    checklist open is 409 through the API and the case page's form; the case stays open."""
    from trygg.cases.models import Case

    case_id = emma_case_factory()
    rektor = strong_api_client("rektor")
    _walk_to_follow_up(rektor, case_id)
    reference = through_api(_json(rektor, "post", f"/api/v1/cases/{case_id}/transition", {"to": "closed"}))
    assert (reference.status, reference.rule) == (409, "core_cases.checklist-before-closing"), reference
    seen = {
        "api": lambda: reference,
        "page": lambda: through_page(lambda: step_up(browser_of("rektor")).post(
            f"/cases/{case_id}/transition/", {"to": "closed"}), caplog),
    }[door]()
    assert_same_refusal(seen, reference, staff=True)
    assert Case.objects.get(pk=case_id).status != "closed"


# ------------------------------------------------------------------------------ doors that do not exist


GUARDED_MODELS = {
    "messaging.conversation", "messaging.membership", "messaging.message", "classlist.consent",
    "meetings.meeting", "meetings.invitation", "cases.case", "cases.checkliststep",
}


def test_the_admin_and_the_cli_open_no_door_to_a_guarded_action():
    """Issue 11: the admin registers no model of a guarded action (conversations, messages, consent,
    meetings, cases), and the ``trygg`` command has no subcommand that writes one. A new admin page
    or command for them must call the same ``check_`` and join the matrix above."""
    from trygg.cli import build_parser

    registered = {m._meta.label_lower for m in admin.site._registry}
    assert not registered & GUARDED_MODELS
    parser = build_parser()
    commands = set(next(a for a in parser._actions if a.dest == "command").choices)
    assert commands == {"demo", "serve", "seed", "manage", "import-roster", "messaging", "retention", "cases",
                        "calendar", "worker", "policy", "demo-otp"}, commands
