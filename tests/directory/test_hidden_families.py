"""Confidential families stay hidden everywhere (issue 11, item 5; R-LIST-05, R-PRIV-01, R-PRIV-02).

A pupil with a strictly confidential identity (``ali.9b``), a pupil with a secret address
(``jonas.9b``, and ``noah.4a`` for the pages of a younger child, both set up here) and their
guardians (``mor.ali``, ``far.jonas``, ``verge.noah``) are absent from everything other families
see: class list and its access-request export, conversation lists, details and member lists,
message lists, the events of the long poll, contacts and pickers, a guardian's view of a child's
chats and of a shared chat, meetings and their participants, the calendar, the own-data export.
No name, username, e-mail, phone or address of theirs appears, and no placeholder row tells that
they exist; where one of them writes, others read "a pupil" or "a guardian". Staff of the school
see the names.

The test walks every API and page that lists people, as ``sara.9b`` (a 9B pupil), ``mor.sara``
(a 9B guardian), ``mor.emma`` (a 4A guardian) and the leader's export, and as staff (``ola.9b``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import step_up
from trygg.classlist.models import Consent
from trygg.directory.models import Person, Protection, SchoolClass
from trygg.directory.queries import (
    display_name,
    hidden_from,
    person_ref,
    person_visible_to,
    visible_people,
)
from trygg.events.log import events_after
from trygg.meetings import actions as meetings
from trygg.messaging import actions as chat
from trygg.messaging.queries import list_contacts
from trygg.policy.rules.classlist import FIELDS

PROTECTED = ("ali.9b", "mor.ali", "far.ali", "jonas.9b", "far.jonas", "noah.4a", "verge.noah")
WORDS = {"a pupil", "a guardian", "en elev", "en foresatt", "en forælder"}


def _identifiers(person: Person) -> list[str]:
    return [s for s in (person.name, person.username, person.email, person.phone, person.address) if s]


def assert_absent(text: str, people: Iterable[Person], where: str) -> None:
    for p in people:
        for s in _identifiers(p):
            assert s not in text, f"{where}: {p.username}'s {s!r} is shown"


def _json_text(response: Any) -> str:
    return json.dumps(response.json(), ensure_ascii=False)


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def _api(client: Client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return response


def session(username: str) -> Client:
    client = Client()
    client.force_login(Person.objects.get(username=username))
    return client


@pytest.fixture
def scene(person: Callable[[str], Person]) -> dict[str, Any]:
    """Protection set, contact details made unique, and conversations, meetings and consents in which
    the protected people take part, so every list has something to hide."""
    Protection.objects.create(pupil=person("jonas.9b"), secret_address=True, updated_by=person("rektor"))
    Protection.objects.filter(pupil=person("noah.4a")).update(secret_address=True)
    for n, username in enumerate(PROTECTED):
        # Unique details, so a match can only be theirs (demo addresses repeat across families).
        Person.objects.filter(username=username).update(
            email=f"skjult{n}@hemmelig.example", phone=f"4999000{n}", address=f"Skjultveien {n + 101}"
        )
    nine_b, four_a = SchoolClass.objects.get(name="9B"), SchoolClass.objects.get(name="4A")
    ola = person("ola.9b")
    class_channel, guardians_channel = chat.ensure_class_channels(nine_b)
    chat.ensure_class_channels(four_a)

    # The teachers' group with sara, jonas and ali, and a group ali made himself with sara (others
    # cannot add a protected pupil: to them he does not exist).
    group = chat.check_create_conversation(ola, "group", "Prosjekt", ["sara.9b", "jonas.9b", "ali.9b", "nils.9b"],
                                           school_owned=True).conversation
    for username, text in (("ali.9b", "Hei fra meg"), ("jonas.9b", "Hei fra Jonas"), ("sara.9b", "Hei!")):
        chat.check_send(person(username), group.pk, text, f"hf-{username}-1")
    alis = chat.check_create_conversation(person("ali.9b"), "group", "Gjengen", ["sara.9b"]).conversation
    chat.check_send(person("ali.9b"), alis.pk, "Velkommen", "hf-ali-2")
    # The guardians: a teachers' group with mor.sara, mor.ali and far.jonas.
    parents = chat.check_create_conversation(
        ola, "group", "Foreldre", ["mor.sara", "mor.ali", "far.jonas", "nils.9b"], school_owned=True
    ).conversation
    for username in ("mor.ali", "far.jonas"):
        chat.check_send(person(username), parents.pk, "Hilsen", f"hf-{username}-3")
    # Class channels: an announcement opened for discussion, answered by the protected.
    for channel, who in ((class_channel, ("ali.9b", "jonas.9b")), (guardians_channel, ("mor.ali", "far.jonas"))):
        announcement = chat.check_send(ola, channel.pk, "Tur på fredag", f"hf-ann-{channel.pk}").message
        chat.check_set_discussion(ola, announcement.pk, True)
        for username in who:
            chat.check_send(person(username), channel.pk, "Takk", f"hf-{username}-ch{channel.pk}", announcement.pk)
    # sara shows her group to her mother (R-CHAT-03).
    chat.check_share_with_guardian(person("sara.9b"), group.pk, "mor.sara")
    # Meetings of the whole class: a lesson (pupils) and a parents' meeting (guardians).
    when = timezone.now() + timedelta(days=2)
    lesson = meetings.check_create_meeting(ola, "lesson", when, "Undervisning", "Velkommen.", class_id=nine_b.pk)
    parent_meeting = meetings.check_create_meeting(ola, "parent_meeting", when, "Foreldremøte", "Velkommen.",
                                                   class_id=nine_b.pk)
    # A class gathering arranged by a protected guardian: the organiser is "a guardian" to others.
    gathering = meetings.check_create_meeting(person("mor.ali"), "class_gathering", when, "Klassefest",
                                              "Velkommen.", class_id=nine_b.pk)
    # Every guardian shares every field on the class list; the school's flags decide what shows.
    for guardian, pupil in (("mor.sara", "sara.9b"), ("mor.ali", "ali.9b"), ("far.jonas", "jonas.9b")):
        for field in FIELDS:
            Consent.objects.create(guardian=person(guardian), pupil=person(pupil), field=field)
    return {
        "nine_b": nine_b, "four_a": four_a, "group": group, "parents": parents, "alis": alis,
        "class_channel": class_channel, "guardians_channel": guardians_channel,
        "lesson": lesson, "parent_meeting": parent_meeting, "gathering": gathering,
    }


def protected(person: Callable[[str], Person]) -> list[Person]:
    return [person(u) for u in PROTECTED]


def _frames(username: str) -> list[dict[str, Any]]:
    """The person's event frames as ``/ws/events`` and the long poll (``GET /api/v1/events``) hand them
    out: both read ``events_after``. Read directly, because the long poll is async and its database
    thread cannot see this test's uncommitted rows on PostgreSQL (tests/events covers the transport)."""
    person = Person.objects.get(username=username)
    return events_after(person.pk, 0, limit=5000)


def _walk_api(client: Client, username: str) -> dict[str, str]:
    """Every API answer that lists people, for the client's person."""
    seen: dict[str, str] = {}
    conversations = _api(client, "/api/v1/conversations")
    seen["/api/v1/conversations"] = _json_text(conversations)
    for c in conversations.json():
        for url in (f"/api/v1/conversations/{c['id']}", f"/api/v1/conversations/{c['id']}/messages"):
            seen[url] = _json_text(_api(client, url))
    seen["/api/v1/events (and /ws/events)"] = json.dumps(_frames(username), ensure_ascii=False)
    meetings_list = _api(client, "/api/v1/meetings")
    seen["/api/v1/meetings"] = _json_text(meetings_list)
    for m in meetings_list.json():
        seen[f"/api/v1/meetings/{m['id']}"] = _json_text(_api(client, f"/api/v1/meetings/{m['id']}"))
    seen["/api/v1/calendar.ics"] = _api(client, "/api/v1/calendar.ics").content.decode()
    seen["/api/v1/me/export"] = _json_text(_api(client, "/api/v1/me/export"))
    return seen


def _walk_pages(client: Client, conversation_ids: Iterable[int], meeting_ids: Iterable[int]) -> dict[str, str]:
    seen = {url: _page(client, url) for url in ("/messages/", "/meetings/", "/me/data/")}
    for cid in conversation_ids:
        seen[f"/messages/{cid}/"] = _page(client, f"/messages/{cid}/")
    for mid in meeting_ids:
        seen[f"/meetings/{mid}/"] = _page(client, f"/meetings/{mid}/")
    return seen


def _conversations_of(username: str) -> list[int]:
    from trygg.messaging.models import Membership

    return list(Membership.objects.filter(person__username=username).values_list("conversation_id", flat=True))


@pytest.mark.parametrize("observer", ["sara.9b", "mor.sara"])
def test_r_list_05_every_list_hides_protected_families_from_other_families(
    scene: dict[str, Any], person: Callable[[str], Person], api_client: Callable[[str], Client], observer: str
) -> None:
    """R-LIST-05, R-PRIV-01: a 9B pupil and a 9B guardian walk every API and page that lists people;
    ali.9b, mor.ali, far.ali, the secret-address family (jonas.9b, far.jonas) and noah.4a's family
    appear nowhere, not even as a placeholder."""
    others = protected(person)
    seen = _walk_api(api_client(observer), observer)
    meeting_ids = [m["id"] for m in json.loads(seen["/api/v1/meetings"])]
    assert meeting_ids
    seen |= _walk_pages(session(observer), _conversations_of(observer), meeting_ids)
    assert len(seen) > 10
    for where, text in seen.items():
        assert_absent(text, others, f"{observer} {where}")


def test_r_list_05_member_lists_leave_protected_people_out_without_a_placeholder(
    scene: dict[str, Any], api_client: Callable[[str], Client], person: Callable[[str], Person]
) -> None:
    """Class channel (pupils), guardians' channel, groups: the members a 9B family sees."""
    sara = api_client("sara.9b")
    class_members = _api(sara, f"/api/v1/conversations/{scene['class_channel'].pk}").json()["members"]
    usernames = {m["username"] for m in class_members}
    assert "sara.9b" in usernames and "ola.9b" in usernames
    assert not usernames & {"ali.9b", "jonas.9b"} and None not in usernames
    guardians = _api(api_client("mor.sara"), f"/api/v1/conversations/{scene['guardians_channel'].pk}").json()
    names = {m["username"] for m in guardians["members"]}
    assert "mor.sara" in names and not names & {"mor.ali", "far.jonas", "far.ali"} and None not in names
    group = _api(sara, f"/api/v1/conversations/{scene['group'].pk}").json()
    assert {m["username"] for m in group["members"]} == {"sara.9b", "ola.9b", "nils.9b"}


def test_r_list_05_a_protected_sender_is_a_pupil_or_a_guardian_to_other_families(
    scene: dict[str, Any], api_client: Callable[[str], Client], person: Callable[[str], Person]
) -> None:
    """Message lists and event frames: "a pupil"/"a guardian", no id, no username."""
    messages = _api(api_client("sara.9b"), f"/api/v1/conversations/{scene['group'].pk}/messages").json()
    senders = [m["sender"] for m in messages]
    hidden = [s for s in senders if s["id"] is None]
    assert len(hidden) == 2 and all(s["username"] is None and s["name"] in WORDS for s in hidden)
    assert {s["username"] for s in senders if s["id"] is not None} == {"sara.9b"}
    created = _api(api_client("sara.9b"), f"/api/v1/conversations/{scene['alis'].pk}").json()["created_by"]
    assert created["id"] is None and created["name"] in WORDS
    parents = _api(api_client("mor.sara"), f"/api/v1/conversations/{scene['parents'].pk}/messages").json()
    assert {m["sender"]["name"] for m in parents if m["sender"]["id"] is None} <= WORDS
    assert len([m for m in parents if m["sender"]["id"] is None]) == 2
    frames = _frames("sara.9b")
    new = [f for f in frames if f["type"] == "message.new" and f["conversation_id"] == scene["group"].pk]
    assert len(new) == 3
    assert [f["message"]["sender"]["name"] in WORDS for f in new].count(True) == 2


def test_r_list_05_staff_see_the_names(
    scene: dict[str, Any], api_client: Callable[[str], Client], person: Callable[[str], Person]
) -> None:
    """Staff of the school (ola.9b, contact teacher 9B) see every member and sender by name."""
    ola = api_client("ola.9b")
    members = {m["username"] for m in _api(ola, f"/api/v1/conversations/{scene['class_channel'].pk}").json()["members"]}
    assert {"ali.9b", "jonas.9b"} <= members
    guardians = _api(ola, f"/api/v1/conversations/{scene['guardians_channel'].pk}").json()["members"]
    assert {"mor.ali", "far.jonas"} <= {m["username"] for m in guardians}
    messages = _api(ola, f"/api/v1/conversations/{scene['class_channel'].pk}/messages").json()
    assert {"Ali Karimi", "Jonas Vik"} <= {m["sender"]["name"] for m in messages}
    frames = json.dumps(_frames("ola.9b"), ensure_ascii=False)
    assert "Ali Karimi" in frames and "Maryam Karimi" in frames and "Finn Vik" in frames
    participants = _api(ola, f"/api/v1/meetings/{scene['lesson'].pk}").json()["participants"]
    assert {"ali.9b", "jonas.9b"} <= {p["username"] for p in participants}
    page = _page(session("ola.9b"), f"/messages/{scene['class_channel'].pk}/")
    assert "Ali Karimi" in page and "Jonas Vik" in page
    contacts = {p.username for p in list_contacts(person("ola.9b"))}
    assert {"ali.9b", "jonas.9b", "mor.ali", "far.jonas"} <= contacts


def test_r_list_05_the_family_sees_each_other(scene: dict[str, Any], person: Callable[[str], Person]) -> None:
    """A protected pupil's guardian with parental responsibility sees the child; one without does not."""
    ali, mor_ali, far_ali = person("ali.9b"), person("mor.ali"), person("far.ali")
    assert person_visible_to(mor_ali, ali) and person_visible_to(ali, mor_ali)
    assert not person_visible_to(far_ali, ali)
    assert not person_visible_to(person("mor.sara"), mor_ali)
    assert display_name(person("sara.9b"), ali) in WORDS
    assert display_name(person("rektor"), ali) == "Ali Karimi"
    word = display_name(person("sara.9b"), ali)
    assert person_ref(person("sara.9b"), ali) == {"id": None, "username": None, "name": word}
    assert [p.username for p in visible_people(person("sara.9b"), [ali, person("jonas.9b"), person("ola.9b")])] \
        == ["ola.9b"]
    assert hidden_from(person("ola.9b"), [ali.pk, mor_ali.pk]) == set()


def test_r_list_05_class_list_and_access_request_export_leave_the_families_out(
    scene: dict[str, Any], api_client: Callable[[str], Client], strong_api_client: Callable[[str], Client],
    person: Callable[[str], Person],
) -> None:
    """R-LIST-04, R-LIST-05: the list a guardian reads and the export handed to a journalist hold
    sara.9b's row and nothing of ali's or jonas's families (no empty row either)."""
    nine_b = scene["nine_b"].pk
    listed = _api(api_client("mor.sara"), f"/api/v1/classes/{nine_b}/contact-list").json()
    assert_absent(json.dumps(listed, ensure_ascii=False), protected(person), "contact list")
    assert len(listed["rows"]) == 1 and listed["rows"][0]["student_name"] == "Sara Dahle"
    page = _page(session("mor.sara"), f"/classes/{nine_b}/")
    assert "Sara Dahle" in page
    assert_absent(page, protected(person), "class list page")
    rektor = strong_api_client("rektor")
    exported = _api(rektor, f"/api/v1/classes/{nine_b}/contact-list/export?requester=Avisa&format=json").json()
    assert_absent(json.dumps(exported, ensure_ascii=False), protected(person), "export json")
    assert len(exported["rows"]) == 1
    csv_text = _api(rektor, f"/api/v1/classes/{nine_b}/contact-list/export?requester=Avisa&format=csv").content
    assert_absent(csv_text.decode("utf-8-sig"), protected(person), "export csv")
    printed = _page(step_up(session("rektor")), f"/classes/{nine_b}/export/?requester=Avisa&format=print")
    assert "Sara Dahle" in printed
    assert_absent(printed, protected(person), "export print")


def test_r_list_05_a_guardians_view_of_a_childs_chats_and_a_shared_chat(
    scene: dict[str, Any], api_client: Callable[[str], Client], person: Callable[[str], Person]
) -> None:
    """R-CHAT-03 with R-LIST-05: mor.emma sees whom emma.4a chats with, but not noah.4a (secret
    address) nor his guardian; mor.sara reads the chat sara shared without ali's or jonas's names."""
    emma = person("emma.4a")
    listed = _api(api_client("mor.emma"), f"/api/v1/children/{emma.pk}/conversations").json()
    assert listed and any("Emma Solheim" in c["members"] for c in listed)
    assert_absent(json.dumps(listed, ensure_ascii=False), protected(person), "child's conversations")
    page = _page(session("mor.emma"), f"/messages/children/{emma.pk}/")
    assert_absent(page, protected(person), "child's conversations page")
    shared = _json_text(_api(api_client("mor.sara"), f"/api/v1/shared/{scene['group'].pk}/messages"))
    assert_absent(shared, protected(person), "shared chat")
    shared_page = _page(session("mor.sara"), f"/messages/shared/{scene['group'].pk}/")
    assert_absent(shared_page, protected(person), "shared chat page")
    guardians_4a = _page(session("mor.emma"), "/messages/")
    assert_absent(guardians_4a, protected(person), "contacts")


def test_r_list_05_meetings_show_no_placeholder_for_a_protected_pupil(
    scene: dict[str, Any], api_client: Callable[[str], Client]
) -> None:
    """The lesson's participants for a 9B pupil: everyone else by name, the protected absent, no "—";
    a gathering mor.ali arranged is "arranged by a guardian", in the API, the page and the calendar."""
    participants = _api(api_client("sara.9b"), f"/api/v1/meetings/{scene['lesson'].pk}").json()["participants"]
    assert all(p["username"] and p["name"] != "—" for p in participants)
    assert not {p["username"] for p in participants} & {"ali.9b", "jonas.9b"}
    gathering = _api(api_client("mor.sara"), f"/api/v1/meetings/{scene['gathering'].pk}").json()
    assert gathering["organiser"]["id"] is None and gathering["organiser"]["name"] in WORDS
    assert any(word in gathering["owner"] for word in WORDS)
    assert "Maryam Karimi" in _json_text(_api(api_client("ali.9b"), f"/api/v1/meetings/{scene['gathering'].pk}"))
    ics = _api(api_client("mor.sara"), "/api/v1/calendar.ics").content.decode()
    assert "Klassefest" in ics and "urn:trygg:person:hidden" in ics


def test_r_list_05_protection_per_guardian_hides_only_that_guardian(
    scene: dict[str, Any], person: Callable[[str], Person], api_client: Callable[[str], Client]
) -> None:
    """One parent's secret address (far.emma) hides him from other families and from the other
    parent; Emma and her mother stay visible; staff and Emma see him."""
    far_emma = person("far.emma")
    Protection.objects.create(pupil=far_emma, secret_address=True)
    four_a = scene["four_a"]
    _class_channel, guardians = chat.ensure_class_channels(four_a)
    members = _api(api_client("verge.noah"), f"/api/v1/conversations/{guardians.pk}").json()["members"]
    names = {m["username"] for m in members}
    assert "mor.emma" in names and "far.emma" not in names
    assert not person_visible_to(person("mor.emma"), far_emma)
    assert person_visible_to(person("emma.4a"), far_emma) and person_visible_to(person("kari.4a"), far_emma)
    assert person_visible_to(person("verge.noah"), person("emma.4a"))


def test_r_safe_01_r_list_05_nudges_do_not_name_or_count_a_hidden_classmate(
    person: Callable[[str], Person], api_client: Callable[[str], Client]
) -> None:
    """The "talk with, not about" nudge (R-SAFE-01) fires on classmates outside the chat: never on
    one hidden from the writer, so writing "Jonas" tells sara nothing once Jonas's address is secret."""
    from trygg.directory.models import Enrollment

    classmate = (Person.objects.filter(enrollments__school_class__name="9B")
                 .exclude(username__in=["sara.9b", "jonas.9b", "ali.9b"]).order_by("username").first())
    conversation = chat.check_create_conversation(person("sara.9b"), "direct", "", [classmate.username]).conversation
    client = api_client("sara.9b")

    def nudges(body: str) -> list[tuple[str, str, str]]:
        response = client.post(f"/api/v1/conversations/{conversation.pk}/messages/preview",
                               data=json.dumps({"body": body}), content_type="application/json")
        assert response.status_code == 200
        return sorted((n["rule"], n.get("category") or "", n["message"]) for n in response.json()["nudges"])

    # "About someone absent" is its own category (issue 14), whichever rule raises it.
    assert "about_absent" in {category for _rule, category, _message in nudges("Jonas er teit")}
    Protection.objects.create(pupil=person("jonas.9b"), secret_address=True)
    # Hidden, Jonas is as unknown to sara as a name nobody has: the same nudges, none naming him.
    hidden = nudges("Jonas er teit")
    assert hidden == [(rule, category, message.replace("Sebastian", "Jonas"))
                      for rule, category, message in nudges("Sebastian er teit")]
    assert not any("Jonas" in message for _rule, _category, message in hidden)
    assert Enrollment.objects.filter(pupil__username="jonas.9b").exists()


def test_r_soc_01_r_list_05_left_out_counts_only_classmates_the_creator_can_see(
    person: Callable[[str], Person], api_client: Callable[[str], Client]
) -> None:
    """R-SOC-01's "someone in the class is left out" nudge must not count ali.9b or a secret-address
    pupil: sara cannot see or add them, and the count would tell her they exist."""
    everyone_else = list(Person.objects.filter(enrollments__school_class__name="9B")
                         .exclude(username__in=["sara.9b", "jonas.9b", "ali.9b"]).values_list("username", flat=True))
    client = api_client("sara.9b")

    def nudged() -> set[str]:
        response = client.post("/api/v1/conversations/preview", data=json.dumps(
            {"kind": "group", "member_usernames": everyone_else}), content_type="application/json")
        assert response.status_code == 200
        return {n["rule"] for n in response.json()["nudges"]}

    assert "amot.left-out-noticed" in nudged()  # jonas is visible to sara, and left out
    Protection.objects.create(pupil=person("jonas.9b"), secret_address=True)
    assert "amot.left-out-noticed" not in nudged()


def test_r_list_05_other_families_cannot_find_a_protected_person_by_username(
    scene: dict[str, Any], api_client: Callable[[str], Client], person: Callable[[str], Person]
) -> None:
    """A typed username is a picker too: ali.9b and mor.ali answer as an unknown account does (404),
    through the API and the page, when sara or her mother start a chat or add a member; ali can
    still start one with sara, and staff can reach him."""
    unknown = post_json(api_client("sara.9b"), "/api/v1/conversations",
                        {"kind": "direct", "member_usernames": ["nobody.9b"]})
    for username in ("ali.9b", "jonas.9b"):
        refused = post_json(api_client("sara.9b"), "/api/v1/conversations",
                            {"kind": "direct", "member_usernames": [username]})
        assert refused.status_code == unknown.status_code == 404
        assert refused.json() == unknown.json()
    page = session("mor.sara").post("/messages/new", {"members": ["mor.ali"]})
    assert page.status_code == 404 and "Maryam" not in page.content.decode()
    adding = post_json(api_client("ali.9b"), f"/api/v1/conversations/{scene['alis'].pk}/members",
                       {"username": "jonas.9b"})
    assert adding.status_code == 404  # jonas's family is hidden from ali's too
    assert post_json(api_client("ola.9b"), "/api/v1/conversations",
                     {"kind": "direct", "member_usernames": ["ali.9b"]}).status_code == 201


def post_json(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")
