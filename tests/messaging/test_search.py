"""Search over one's own conversations and messages (issue 13 item 4), on SQLite and PostgreSQL."""

from __future__ import annotations

from django.test import Client

from trygg.messaging import actions


def _search(api_client, username: str, q: str):
    return api_client(username).get("/api/v1/search", {"q": q})


def test_r_priv_01_a_guardian_finds_her_own_messages_and_nobody_elses(person, api_client) -> None:
    """mor.emma finds Kari's message about the trip; mor.sara, not in that chat, finds nothing."""
    kari = person("kari.4a")
    conversation = actions.check_create_conversation(kari, "direct", "", ["mor.emma"], school_owned=True).conversation
    actions.check_send(kari, conversation.pk, "Turdagen blir på fredag, husk matpakke", "s-1")
    body = _search(api_client, "mor.emma", "matpakke").json()
    assert [m["conversation_id"] for m in body["messages"]] == [conversation.pk]
    assert "matpakke" in body["messages"][0]["excerpt"]
    assert body["messages"][0]["sender"]["name"] == kari.name
    assert _search(api_client, "mor.sara", "matpakke").json()["messages"] == []


def test_sensitive_deleted_and_expired_messages_are_never_found(person, api_client) -> None:
    kari = person("kari.4a")
    conversation = actions.check_create_conversation(kari, "direct", "", ["mor.emma"], school_owned=True).conversation
    actions.check_send(kari, conversation.pk, "Emma har astma, vi snakket om medisinen", "s-2", sensitive=True)
    gone = actions.check_send(kari, conversation.pk, "Medisinen ligger i sekken", "s-3").message
    actions.check_delete(kari, gone.pk)
    from datetime import timedelta

    from django.utils import timezone

    old = actions.check_send(kari, conversation.pk, "Medisinen fra i fjor", "s-4").message
    type(old).objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3650))
    actions.purge_expired_messages()
    for q in ("medisinen", "astma", "sekken"):
        response = _search(api_client, "mor.emma", q)
        assert response.status_code == 200
        assert response.json()["messages"] == [], q
    assert _search(api_client, "kari.4a", "astma").json()["messages"] == []  # the sender neither


def test_someone_elses_private_reply_is_not_found(person, api_client) -> None:
    """A private reply to an announcement reaches its author only, and so does a search for it."""
    from trygg.directory.models import SchoolClass

    kari = person("kari.4a")
    channel, _guardians = actions.ensure_class_channels(SchoolClass.objects.get(name="4A"))
    announcement = actions.check_send(kari, channel.pk, "Husk gymtøy", "s-5").message
    actions.check_send(person("emma.4a"), channel.pk, "Jeg har glemt gymskoene", "s-6", announcement.pk)
    assert _search(api_client, "kari.4a", "gymskoene").json()["messages"]
    assert _search(api_client, "emma.4a", "gymskoene").json()["messages"]
    assert _search(api_client, "noah.4a", "gymskoene").json()["messages"] == []


def test_r_list_05_a_protected_pupils_name_finds_nothing_for_other_families(person, api_client) -> None:
    """Searching ali.9b's name finds his group for his teacher, nothing for another pupil's family."""
    ola, ali = person("ola.9b"), person("ali.9b")
    group = actions.check_create_conversation(ola, "group", "", ["nils.9b", "ali.9b", "jonas.9b"],
                                              school_owned=True).conversation
    actions.check_send(ali, group.pk, "Jeg har levert oppgaven", "s-7")
    first = ali.name.split()[0]
    assert [c["id"] for c in _search(api_client, "ola.9b", first).json()["conversations"]] == [group.pk]
    seen = _search(api_client, "jonas.9b", first).json()
    assert seen["conversations"] == [] and seen["messages"] == []
    found = _search(api_client, "jonas.9b", "oppgaven").json()["messages"]
    assert found and ali.name not in str(found) and found[0]["sender"]["username"] is None


def test_bad_search_input_answers_400_in_the_json_error_format(api_client) -> None:
    client = api_client("mor.emma")
    for params in ({}, {"q": ""}, {"q": "   "}, {"q": "x" * 101}):
        response = client.get("/api/v1/search", params)
        assert response.status_code == 400, params
        body = response.json()
        assert set(body) >= {"error", "message", "rule", "requirement"} and body["message"]
    assert api_client(None).get("/api/v1/search", {"q": "hei"}).status_code == 401


def test_the_list_page_searches_and_says_when_nothing_is_found(person) -> None:
    kari = person("kari.4a")
    conversation = actions.check_create_conversation(kari, "direct", "", ["mor.emma"], school_owned=True).conversation
    actions.check_send(kari, conversation.pk, "Husk gymtøy på onsdag", "s-8")
    client = Client()
    client.force_login(person("mor.emma"))
    page = client.get("/messages/", {"q": "gymtøy"}).content.decode()
    results = page[page.index('data-testid="search-results"'):page.index("Vis alle samtalene")]
    assert "Husk gymtøy på onsdag" in results and f"/messages/{conversation.pk}/" in results
    assert "i dag" in results
    assert "Fant ingenting" in client.get("/messages/", {"q": "zebra"}).content.decode()
    refused = client.get("/messages/", {"q": " "})
    assert refused.status_code == 400 and 'role="alert"' in refused.content.decode()


def test_on_postgresql_search_is_full_text_in_the_readers_language(person, api_client) -> None:
    """PostgreSQL stems Norwegian words ("foreldremøtet" finds "foreldremøtene"); SQLite matches words
    as written, so there the same search finds it only by its stem."""
    from django.db import connection

    kari = person("kari.4a")
    conversation = actions.check_create_conversation(kari, "direct", "", ["mor.emma"], school_owned=True).conversation
    actions.check_send(kari, conversation.pk, "Velkommen til foreldremøtene i høst", "s-9")
    expected = [conversation.pk] if connection.vendor == "postgresql" else []
    found = _search(api_client, "mor.emma", "foreldremøtet").json()["messages"]
    assert [m["conversation_id"] for m in found] == expected
    stem = _search(api_client, "mor.emma", "foreldremøte").json()["messages"]
    assert [m["conversation_id"] for m in stem] == [conversation.pk]
