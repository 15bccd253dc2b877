"""R-CHAT-04: work chats belong to the school, through every door (issue 11, item 6).

A direct chat between a staff member and a pupil or guardian of their school is school-owned,
whoever started it and without a tick box; a group made by a pupil or guardian stays social even
with staff in it.
"""

from __future__ import annotations

from django.test import Client

from tests.messaging.conftest import post
from trygg.messaging import actions
from trygg.messaging.models import Conversation


def signed_in(person, username: str) -> Client:
    client = Client()
    client.force_login(person(username))
    return client


def _direct(a: str, b: str, person) -> Conversation | None:
    key = ":".join(str(i) for i in sorted((person(a).pk, person(b).pk)))
    return Conversation.objects.filter(direct_key=key).first()


def test_r_chat_04_a_teachers_direct_chat_with_a_pupil_is_the_schools_without_a_tick(api_client) -> None:
    """API: ola.9b starts a direct chat with sara.9b and ticks nothing; the school owns it."""
    response = post(api_client("ola.9b"), "/api/v1/conversations",
                    {"kind": "direct", "member_usernames": ["sara.9b"], "school_owned": False})
    assert response.status_code == 201
    body = response.json()
    assert body["school_owned"] is True and body["social"] is False
    assert "Not the school's responsibility" not in body["ownership"]


def test_r_chat_04_a_pupil_who_writes_to_her_teacher_starts_a_school_chat(api_client) -> None:
    """API: the pupil starts it; still the school's, and the preview says the same."""
    client = api_client("sara.9b")
    preview = post(client, "/api/v1/conversations/preview", {"kind": "direct", "member_usernames": ["ola.9b"]})
    assert preview.status_code == 200 and preview.json()["allowed"] is True
    response = post(client, "/api/v1/conversations", {"kind": "direct", "member_usernames": ["ola.9b"]})
    assert response.status_code == 201
    assert response.json()["school_owned"] is True
    seen = api_client("ola.9b").get(f"/api/v1/conversations/{response.json()['id']}").json()
    assert seen["school_owned"] is True and seen["created_by"]["username"] == "sara.9b"


def test_r_chat_04_a_guardian_writing_to_the_teacher_from_the_page_starts_a_school_chat(person) -> None:
    """HTML form: mor.sara picks ola.9b and ticks nothing (she has no box to tick)."""
    client = signed_in(person, "mor.sara")
    assert 'name="school_owned"' not in client.get("/messages/").content.decode()
    response = client.post("/messages/new", {"members": ["ola.9b"]})
    assert response.status_code == 302
    conversation = _direct("mor.sara", "ola.9b", person)
    assert conversation is not None and conversation.school_owned
    page = client.get(f"/messages/{conversation.pk}/").content.decode()
    assert "badge-school" in page


def test_r_chat_04_a_group_a_pupil_makes_stays_social_with_staff_in_it(api_client, person) -> None:
    """API and HTML: a pupil's group with two teachers is social; ticking the box is refused."""
    response = post(api_client("sara.9b"), "/api/v1/conversations",
                    {"kind": "group", "member_usernames": ["jonas.9b", "ola.9b", "nils.9b"]})
    assert response.status_code == 201 and response.json()["school_owned"] is False
    refused = post(api_client("sara.9b"), "/api/v1/conversations",
                   {"kind": "group", "member_usernames": ["jonas.9b", "ola.9b", "nils.9b"], "school_owned": True})
    assert refused.status_code == 403 and refused.json()["requirement"] in ("R-CHAT-01", "R-CHAT-04")
    page = signed_in(person, "mor.sara").post("/messages/new", {"members": ["ola.9b", "far.jonas"],
                                                                "title": "Foreldre"})
    assert page.status_code == 302
    group = Conversation.objects.filter(title="Foreldre", created_by=person("mor.sara")).get()
    assert group.school_owned is False


def test_r_chat_04_two_staff_members_choose_themselves(api_client) -> None:
    """Between colleagues the box still decides: without it the chat is social."""
    response = post(api_client("ola.9b"), "/api/v1/conversations", {"kind": "direct", "member_usernames": ["nils.9b"]})
    assert response.status_code == 201 and response.json()["school_owned"] is False


def test_r_chat_04_an_older_social_work_chat_becomes_the_schools_when_opened(person, api_client) -> None:
    """A direct chat made social before (the old behaviour) is taken over when either opens it again."""
    ola, jonas = person("ola.9b"), person("jonas.9b")
    key = ":".join(str(i) for i in sorted((ola.pk, jonas.pk)))
    old = actions.do_create_conversation(jonas, "direct", "", [ola], school_owned=False, direct_key=key)
    response = post(api_client("jonas.9b"), "/api/v1/conversations", {"kind": "direct", "member_usernames": ["ola.9b"]})
    assert response.status_code == 200 and response.json()["id"] == old.pk
    assert response.json()["school_owned"] is True
    old.refresh_from_db()
    assert old.school_owned is True
