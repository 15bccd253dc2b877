"""The conversation and message API as design.md fixes it."""

from __future__ import annotations

import json

from tests.messaging.conftest import new_txn, post


def test_r_chat_02_pupil_below_grade_refused_chat_with_pupil(api_client) -> None:
    """R-CHAT-02: emma.4a → noah.4a is refused with the rule and its reason."""
    response = post(api_client("emma.4a"), "/api/v1/conversations",
                    {"kind": "direct", "member_usernames": ["noah.4a"]})
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "denied_by_policy"
    assert body["rule"] == "amot.pupil-chat-grade"
    assert body["requirement"] == "R-CHAT-02"
    assert "8" in body["message"] and body["message"]


def test_r_chat_02_lower_secondary_pupils_may_chat(chat, send) -> None:
    """R-CHAT-02: sara.9b → jonas.9b is allowed."""
    conversation_id, client = chat("sara.9b", "jonas.9b")
    assert send(client, conversation_id, "Har du gjort matteleksa?").status_code == 201


def test_r_chat_02_pupil_may_chat_with_teacher(chat, send) -> None:
    conversation_id, client = chat("emma.4a", "kari.4a")
    assert send(client, conversation_id, "Hei Kari").status_code == 201


def test_send_returns_201_with_event_id_and_repeat_returns_same_message(chat, send, api_client) -> None:
    """Design rule 3: the same client_txn_id twice gives one message (200 the second time)."""
    conversation_id, client = chat("kari.4a", "mor.emma")
    txn = new_txn()
    first = send(client, conversation_id, "Foreldremøte tirsdag", txn)
    assert first.status_code == 201
    again = send(client, conversation_id, "Foreldremøte tirsdag", txn)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["event_id"] == first.json()["event_id"] > 0
    listed = api_client("mor.emma").get(f"/api/v1/conversations/{conversation_id}/messages").json()
    assert [m["id"] for m in listed].count(first.json()["id"]) == 1
    assert len([m for m in listed if m["client_txn_id"] == txn]) == 1


def test_body_over_limit_is_413(chat, send) -> None:
    from trygg.messaging.actions import max_body_chars

    conversation_id, client = chat("kari.4a", "mor.emma")
    response = send(client, conversation_id, "x" * (max_body_chars() + 1))
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


def test_bad_input_is_400_not_500(chat, api_client) -> None:
    conversation_id, client = chat("kari.4a", "mor.emma")
    path = f"/api/v1/conversations/{conversation_id}/messages"
    for body in ({"body": "", "client_txn_id": "a"}, {"body": "hi"}, {"body": 5, "client_txn_id": "b"},
                 {"body": "hi", "client_txn_id": "x" * 65}, {"body": "hi", "client_txn_id": "c", "extra": 1}):
        response = post(client, path, body)
        assert response.status_code == 400, (body, response.content)
        assert set(response.json()) >= {"error", "message", "rule", "requirement"}
    assert client.post(path, data="{nope", content_type="application/json").status_code == 400


def test_r_priv_01_non_member_gets_404(chat, send, api_client) -> None:
    conversation_id, client = chat("kari.4a", "mor.emma")
    outsider = api_client("far.jonas")
    assert outsider.get(f"/api/v1/conversations/{conversation_id}/messages").status_code == 404
    assert send(outsider, conversation_id, "hei").status_code == 404
    assert outsider.get(f"/api/v1/conversations/{conversation_id}").status_code == 404


def test_messages_after_pages_forward(chat, send, api_client) -> None:
    conversation_id, client = chat("kari.4a", "mor.emma")
    ids = [send(client, conversation_id, f"m{i}").json()["id"] for i in range(5)]
    after = api_client("mor.emma").get(f"/api/v1/conversations/{conversation_id}/messages?after={ids[1]}").json()
    assert [m["id"] for m in after] == ids[2:]


def test_edit_and_delete_show_as_edited_and_deleted(chat, send, api_client) -> None:
    conversation_id, client = chat("kari.4a", "mor.emma")
    message_id = send(client, conversation_id, "Hemmelig skrivefeil").json()["id"]
    edited = client.patch(f"/api/v1/messages/{message_id}", data=json.dumps({"body": "Rettet"}),
                          content_type="application/json")
    assert edited.status_code == 200 and edited.json()["edited_at"]
    other = api_client("mor.emma")
    assert other.patch(f"/api/v1/messages/{message_id}", data=json.dumps({"body": "x"}),
                       content_type="application/json").status_code == 403
    assert client.delete(f"/api/v1/messages/{message_id}").status_code == 200
    shown = other.get(f"/api/v1/conversations/{conversation_id}/messages").json()
    assert shown[-1]["deleted"] is True and shown[-1]["body"] == ""
    from trygg.messaging.models import Message

    assert Message.objects.get(pk=message_id).body == ""


def test_r_safe_02_deleted_message_under_legal_hold_keeps_text(chat, send, person) -> None:
    from trygg.messaging.actions import do_set_legal_hold
    from trygg.messaging.models import Message

    conversation_id, client = chat("sara.9b", "jonas.9b")
    message_id = send(client, conversation_id, "Det du skrev i går var stygt").json()["id"]
    do_set_legal_hold([message_id])
    assert client.delete(f"/api/v1/messages/{message_id}").status_code == 200
    message = Message.objects.get(pk=message_id)
    assert message.deleted_at is not None and message.body == "Det du skrev i går var stygt"


def test_read_state_and_unread_counts(chat, send, api_client) -> None:
    conversation_id, client = chat("kari.4a", "mor.emma")
    for i in range(3):
        send(client, conversation_id, f"beskjed {i}")
    reader = api_client("mor.emma")
    listed = {c["id"]: c for c in reader.get("/api/v1/conversations").json()}
    assert listed[conversation_id]["unread"] == 3
    assert {c["id"]: c for c in client.get("/api/v1/conversations").json()}[conversation_id]["unread"] == 0
    assert post(reader, f"/api/v1/conversations/{conversation_id}/read", {}).status_code == 200
    listed = {c["id"]: c for c in reader.get("/api/v1/conversations").json()}
    assert listed[conversation_id]["unread"] == 0


def test_r_chat_04_conversation_shows_creator_and_owner(chat, api_client, classmate) -> None:
    conversation_id, _client = chat("sara.9b", "jonas.9b", classmate, kind="group", title="Prosjekt")
    got = api_client("jonas.9b").get(f"/api/v1/conversations/{conversation_id}").json()
    assert got["created_by"]["username"] == "sara.9b"
    assert got["school_owned"] is False and got["social"] is True
    assert "Sara" in got["ownership"] or "sara" in got["ownership"].lower()


def test_r_chat_04_pupil_cannot_mark_group_as_school(api_client, classmate) -> None:
    response = post(api_client("sara.9b"), "/api/v1/conversations",
                    {"kind": "group", "member_usernames": ["jonas.9b", classmate], "school_owned": True})
    assert response.status_code == 403
    assert response.json()["requirement"] in ("R-CHAT-01", "R-CHAT-04")


def test_r_staff_07_group_with_pupils_needs_two_staff(api_client) -> None:
    """R-STAFF-07: one teacher alone with pupils is refused, and the reason says to add a colleague."""
    client = api_client("ola.9b")
    response = post(client, "/api/v1/conversations",
                    {"kind": "group", "member_usernames": ["sara.9b", "jonas.9b"], "school_owned": True})
    assert response.status_code == 403
    body = response.json()
    assert body["requirement"] == "R-STAFF-07"
    assert "2" in body["message"]
    ok = post(client, "/api/v1/conversations",
              {"kind": "group", "member_usernames": ["sara.9b", "jonas.9b", "nils.9b"], "school_owned": True})
    assert ok.status_code == 201


def test_r_staff_04_only_creator_adds_members(chat, api_client, classmate) -> None:
    conversation_id, creator = chat("sara.9b", "jonas.9b", classmate, kind="group")
    other = api_client("jonas.9b")
    refused = post(other, f"/api/v1/conversations/{conversation_id}/members", {"username": "far.jonas"})
    assert refused.status_code == 403
    assert refused.json()["requirement"] == "R-STAFF-04"
    added = post(creator, f"/api/v1/conversations/{conversation_id}/members", {"username": "ola.9b"})
    assert added.status_code == 201
    assert creator.delete(f"/api/v1/conversations/{conversation_id}/members/ola.9b").status_code == 204


def test_r_staff_05_praise_of_one_pupil_in_group_nudges_but_sends(api_client, send) -> None:
    """R-STAFF-05: the composer preview shows a nudge; sending is still allowed."""
    client = api_client("ola.9b")
    created = post(client, "/api/v1/conversations", {
        "kind": "group", "member_usernames": ["sara.9b", "jonas.9b", "nils.9b"], "school_owned": True})
    conversation_id = created.json()["id"]
    text = "Sara var veldig flink i dag!"
    preview = post(client, f"/api/v1/conversations/{conversation_id}/messages/preview", {"body": text}).json()
    assert preview["allowed"] is True
    assert any(n["requirement"] == "R-STAFF-05" for n in preview["nudges"])
    neutral = post(client, f"/api/v1/conversations/{conversation_id}/messages/preview",
                   {"body": "Husk gymtøy i morgen"}).json()
    assert neutral["nudges"] == []
    sent = send(client, conversation_id, text)
    assert sent.status_code == 201
    assert any(n["requirement"] == "R-STAFF-05" for n in sent.json()["nudges"])


def test_r_safe_01_talking_about_classmate_outside_conversation_nudges(chat, api_client) -> None:
    """R-SAFE-01: naming a classmate who is not in the conversation gets the "with, not about" nudge."""
    from trygg.directory.models import Enrollment

    conversation_id, client = chat("sara.9b", "jonas.9b")
    sara = Enrollment.objects.filter(pupil__username="sara.9b").first()
    classmate = (
        Enrollment.objects.filter(school_class=sara.school_class)
        # Not ali.9b: his identity is confidential, so sara cannot be told anything about him (R-LIST-05).
        .exclude(pupil__username__in=["sara.9b", "jonas.9b", "ali.9b"]).select_related("pupil").first().pupil
    )
    first = classmate.name.split(" ")[0]
    preview = post(client, f"/api/v1/conversations/{conversation_id}/messages/preview",
                   {"body": f"Har du sett hva {first} hadde på seg?"}).json()
    assert preview["allowed"] is True
    assert any(n["requirement"] == "R-SAFE-01" for n in preview["nudges"])


def test_r_soc_01_group_leaving_out_few_classmates_is_noticed(api_client) -> None:
    """R-SOC-01: a group of all but one of a class gets a nudge on the preview."""
    from trygg.directory.models import Enrollment

    sara = Enrollment.objects.select_related("school_class").get(pupil__username="sara.9b")
    usernames = list(
        Enrollment.objects.filter(school_class=sara.school_class).exclude(pupil__username="sara.9b")
        .values_list("pupil__username", flat=True).order_by("pupil__username")
    )
    client = api_client("sara.9b")
    # ali.9b is hidden from sara (R-LIST-05): she cannot add him, and leaving him out is not noticed
    # (a count of him would tell her he exists). The class as she sees it is everyone else.
    usernames = [u for u in usernames if u != "ali.9b"]
    left_out = post(client, "/api/v1/conversations/preview",
                    {"kind": "group", "member_usernames": usernames[1:]}).json()
    assert any(n["requirement"] == "R-SOC-01" for n in left_out["nudges"])
    everyone = post(client, "/api/v1/conversations/preview", {"kind": "group", "member_usernames": usernames}).json()
    assert not any(n["requirement"] == "R-SOC-01" for n in everyone["nudges"])
