"""The chat pages without a browser: what they show and refuse (the browser tests cover live updates)."""

from __future__ import annotations

from django.test import Client

from trygg.messaging import actions


def signed_in(person, username: str) -> Client:
    client = Client()
    client.force_login(person(username))
    return client


def test_list_shows_unread_count_and_ownership(person) -> None:
    """R-CHAT-04: the list says who created each conversation and whether the school owns it."""
    kari = person("kari.4a")
    conversation = actions.check_create_conversation(kari, "direct", "", ["mor.emma"], school_owned=True).conversation
    for i in range(2):
        actions.check_send(kari, conversation.pk, f"Beskjed {i}", f"view-{i}")
    page = signed_in(person, "mor.emma").get("/messages/").content.decode()
    row = page[page.index(f'data-conversation-id="{conversation.pk}"'):]
    assert 'data-unread="2"' in row[:1500]
    assert kari.name in row[:1500]


def test_r_chat_02_refusal_shown_in_plain_words_to_a_pupil(person) -> None:
    """A pupil reads why (grade 8), never the rule id or requirement ID; staff see the rule."""
    response = signed_in(person, "emma.4a").post("/messages/new", {"members": ["noah.4a"]})
    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-testid="refusal"' in page and "8" in page
    assert "R-CHAT-02" not in page and "amot.pupil-chat-grade" not in page


def test_r_staff_07_refusal_shows_the_rule_to_staff(person) -> None:
    response = signed_in(person, "ola.9b").post("/messages/new", {"members": ["sara.9b", "jonas.9b"]})
    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-testid="refusal"' in page and "R-STAFF-07" in page


def test_conversation_page_is_404_for_non_members_and_escapes_text(person) -> None:
    kari = person("kari.4a")
    conversation = actions.check_create_conversation(kari, "direct", "", ["far.emma"]).conversation
    actions.check_send(kari, conversation.pk, "<b>fet</b>", "esc-1")
    assert signed_in(person, "mor.sara").get(f"/messages/{conversation.pk}/").status_code == 404
    page = signed_in(person, "far.emma").get(f"/messages/{conversation.pk}/").content.decode()
    assert "&lt;b&gt;fet&lt;/b&gt;" in page and "<b>fet</b>" not in page


def test_r_staff_04_owner_manages_members_on_the_page(person, classmate) -> None:
    sara = person("sara.9b")
    conversation = actions.check_create_conversation(sara, "group", "Gjeng", ["jonas.9b", classmate]).conversation
    jonas = signed_in(person, "jonas.9b")
    assert jonas.post(f"/messages/{conversation.pk}/members/add", {"username": "mor.sara"}).status_code == 403
    owner = signed_in(person, "sara.9b")
    page = owner.get(f"/messages/{conversation.pk}/").content.decode()
    assert "add-member" in page
    assert owner.post(f"/messages/{conversation.pk}/members/remove", {"username": classmate}).status_code == 302
    assert signed_in(person, classmate).get(f"/messages/{conversation.pk}/").status_code == 404
    assert jonas.post(f"/messages/{conversation.pk}/members/remove", {"username": "jonas.9b"}).status_code == 302
    assert jonas.get(f"/messages/{conversation.pk}/").status_code == 404


def test_r_chat_03_shared_page_only_after_the_child_shares(person) -> None:
    emma = person("emma.4a")
    conversation = actions.check_create_conversation(emma, "direct", "", ["kari.4a"]).conversation
    actions.check_send(emma, conversation.pk, "Jeg gruer meg", "shared-1")
    mor = signed_in(person, "mor.emma")
    assert mor.get(f"/messages/shared/{conversation.pk}/").status_code == 404
    child_page = mor.get(f"/messages/children/{emma.pk}/").content.decode()
    assert "Jeg gruer meg" not in child_page and person("kari.4a").name in child_page
    assert signed_in(person, "emma.4a").post(f"/messages/{conversation.pk}/share",
                                             {"guardian": "mor.emma"}).status_code == 302
    assert "Jeg gruer meg" in mor.get(f"/messages/shared/{conversation.pk}/").content.decode()
    assert signed_in(person, "far.ali").get(f"/messages/children/{emma.pk}/").status_code == 404


def test_r_chat_05_contact_teacher_sets_quiet_hours_on_the_page(person) -> None:
    from trygg.directory.models import SchoolClass
    from trygg.notifications.models import ClassQuietHours

    school_class = SchoolClass.objects.get(name="4A")
    kari = signed_in(person, "kari.4a")
    assert 'data-testid="quiet-hours"' in kari.get("/messages/notices/").content.decode()
    response = kari.post("/messages/notices/", {"form": "quiet", "class_id": school_class.pk,
                                                "days": ["mon", "tue"], "start": "17:00", "end": "19:00"})
    assert response.status_code == 302
    assert ClassQuietHours.objects.get(school_class=school_class).schedule == {
        "mon": ["17:00", "19:00"], "tue": ["17:00", "19:00"]}
    assert 'data-testid="quiet-hours"' not in signed_in(person, "mor.emma").get("/messages/notices/").content.decode()
    refused = signed_in(person, "ola.9b").post("/messages/notices/", {"form": "quiet", "class_id": school_class.pk,
                                                                       "days": ["mon"], "start": "17:00",
                                                                       "end": "19:00"})
    assert refused.status_code == 404
