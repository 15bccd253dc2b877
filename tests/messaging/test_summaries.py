"""Conversations people recognise (issue 13 item 4): titles, avatars, previews, in the API and the list."""

from __future__ import annotations

from django.test import Client

from trygg.messaging import actions


def _listed(api_client, username: str, conversation_id: int) -> dict:
    rows = api_client(username).get("/api/v1/conversations").json()
    return next(r for r in rows if r["id"] == conversation_id)


def test_r_chat_04_a_direct_chat_is_titled_by_the_teacher_and_her_role(person, api_client) -> None:
    """mor.emma sees Kari's name and "kontaktlærer 4A", an avatar, the last message and 2 unread;
    the existing fields are still there."""
    kari = person("kari.4a")
    conversation = actions.check_create_conversation(kari, "direct", "", ["mor.emma"], school_owned=True).conversation
    actions.check_send(kari, conversation.pk, "Husk gymtøy", "sum-1")
    actions.check_send(kari, conversation.pk, "Og matpakke i morgen", "sum-2")
    row = _listed(api_client, "mor.emma", conversation.pk)
    assert row["display_title"] == f"{kari.name} · kontaktlærer 4A"
    assert row["other_role"] == "kontaktlærer 4A"
    assert row["avatar"]["initials"] == "".join(p[0] for p in (kari.name.split()[0], kari.name.split()[-1])).upper()
    assert row["last_message"]["preview"] == "Og matpakke i morgen"
    assert row["last_message"]["at"]
    assert row["unread"] == 2
    for field in ("kind", "title", "created_by", "school_owned", "ownership", "last_read_message_id"):
        assert field in row
    # The teacher's side names the guardian and her role, and her own last message as "Du: ...".
    mine = _listed(api_client, "kari.4a", conversation.pk)
    assert mine["display_title"].startswith(person("mor.emma").name + " · ")
    assert mine["last_message"]["preview"] == "Du: Og matpakke i morgen"


def test_sensitive_and_deleted_messages_show_only_a_placeholder_in_the_preview(person, api_client) -> None:
    """Issue 17: a sensitive message's text never reaches the list; a deleted one says so."""
    kari = person("kari.4a")
    conversation = actions.check_create_conversation(kari, "direct", "", ["mor.emma"], school_owned=True).conversation
    actions.check_send(kari, conversation.pk, "Emma har time hos legen", "sum-s1", sensitive=True)
    row = _listed(api_client, "mor.emma", conversation.pk)
    assert row["last_message"]["preview"] == "Sensitiv melding"
    assert "legen" not in str(api_client("mor.emma").get("/api/v1/conversations").content)
    message = actions.check_send(kari, conversation.pk, "Feil tråd", "sum-s2").message
    actions.check_delete(kari, message.pk)
    assert _listed(api_client, "mor.emma", conversation.pk)["last_message"]["preview"] == "Denne meldingen er slettet."


def test_r_list_05_a_protected_pupil_is_a_pupil_in_previews_and_absent_from_titles(person, api_client) -> None:
    """ali.9b's name reaches neither the title nor the preview another family sees; his teacher sees it."""
    ola, ali = person("ola.9b"), person("ali.9b")
    group = actions.check_create_conversation(ola, "group", "", ["nils.9b", "ali.9b", "jonas.9b"],
                                              school_owned=True).conversation
    actions.check_send(ali, group.pk, "Hei alle", "sum-ali")
    row = _listed(api_client, "jonas.9b", group.pk)
    assert ali.name not in str(row)
    assert row["last_message"]["preview"] == "en elev: Hei alle"
    assert person("ola.9b").name in row["display_title"] and person("nils.9b").name in row["display_title"]
    assert _listed(api_client, "ola.9b", group.pk)["last_message"]["preview"] == f"{ali.name}: Hei alle"
    assert ali.name in _listed(api_client, "ola.9b", group.pk)["display_title"]


def test_a_group_is_titled_by_its_title_and_has_no_preview_before_its_first_message(person, api_client) -> None:
    kari = person("kari.4a")
    group = actions.check_create_conversation(kari, "group", "Turdag", ["mor.emma", "far.emma"]).conversation
    row = _listed(api_client, "mor.emma", group.pk)
    assert row["display_title"] == "Turdag" and row["other_role"] is None
    assert row["last_message"] is None


def test_the_list_page_shows_titles_avatars_previews_and_times(person) -> None:
    kari = person("kari.4a")
    conversation = actions.check_create_conversation(kari, "direct", "", ["mor.emma"], school_owned=True).conversation
    actions.check_send(kari, conversation.pk, "Velkommen til 4A", "sum-page")
    client = Client()
    client.force_login(person("mor.emma"))
    page = client.get("/messages/").content.decode()
    row = page[page.index(f'data-conversation-id="{conversation.pk}"'):][:2500]
    assert f"{kari.name} · kontaktlærer 4A" in row
    assert 'class="avatar avatar-' in row and "Velkommen til 4A" in row
    assert "i dag" in row
    header = client.get(f"/messages/{conversation.pk}/").content.decode()
    assert kari.name in header[header.index("<h1"):header.index("</h1>")]
    assert "kontaktlærer 4A" in header[header.index("<h1"):header.index("</h1>")]


def test_r_chat_03_a_guardian_overseeing_her_childs_chats_sees_who_never_a_preview(person) -> None:
    """mor.emma's page of Emma's conversations titles the chat with Kari as Emma knows her, with an
    avatar, and shows no preview or time of what was written."""
    emma, kari = person("emma.4a"), person("kari.4a")
    conversation = actions.check_create_conversation(emma, "direct", "", ["kari.4a"]).conversation
    actions.check_send(emma, conversation.pk, "Jeg gruer meg til turen", "sum-child")
    client = Client()
    client.force_login(person("mor.emma"))
    page = client.get(f"/messages/children/{emma.pk}/").content.decode()
    listed = page[page.index('data-testid="child-conversations"'):]
    assert f"{kari.name} · kontaktlærer 4A" in listed and 'class="avatar avatar-' in listed
    assert "gruer" not in page and "i dag" not in listed


def test_the_list_reads_the_database_a_fixed_number_of_times_however_many_conversations(person, api_client) -> None:
    """Titles, roles, avatars and previews are fetched per list, not per conversation."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    kari = person("kari.4a")
    client = api_client("kari.4a")

    def count() -> int:
        client.get("/api/v1/conversations")  # warm the facts cache
        with CaptureQueriesContext(connection) as seen:
            assert client.get("/api/v1/conversations").status_code == 200
        return len(seen)

    for i, guardian in enumerate(["mor.emma", "far.emma"]):
        c = actions.check_create_conversation(kari, "direct", "", [guardian], school_owned=True).conversation
        actions.check_send(kari, c.pk, "Hei", f"sum-n-{i}")
    few = count()
    for i, username in enumerate(["verge.noah", "emma.4a", "noah.4a"]):
        c = actions.check_create_conversation(kari, "direct", "", [username], school_owned=True).conversation
        actions.check_send(kari, c.pk, "Hei igjen", f"sum-m-{i}")
    assert count() == few, few
