"""The messaging app's events: typed payloads and the recipients of each event type."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from trygg.events.log import events_after, latest_event_id
from trygg.events.models import Event, EventRecipient
from trygg.events.payloads import validate_payload
from trygg.messaging import actions


def recipients_of(event_type: str, since: int) -> list[set[int]]:
    events = Event.objects.filter(type=event_type, id__gt=since).order_by("id")
    return [set(EventRecipient.objects.filter(event=e).values_list("person_id", flat=True)) for e in events]


def last_event() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_payload_schemas_forbid_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        validate_payload("message.deleted", {"conversation_id": 1, "message_id": 2, "deleted_at": "x", "body": "t"})
    with pytest.raises(ValidationError):
        validate_payload("conversation.read", {"conversation_id": 1, "person_id": 2})
    assert validate_payload("other.app_event", {"anything": 1}) == {"anything": 1}


def test_recipients_of_each_messaging_event_type(person) -> None:
    """message.new/edited/deleted and member events go to the members; read state to the reader only."""
    kari, mor, far = person("kari.4a"), person("mor.emma"), person("far.emma")
    start = last_event()
    created = actions.check_create_conversation(kari, "group", "Turdag", ["mor.emma", "far.emma", "rektor"])
    conversation = created.conversation
    rektor = person("rektor")
    members = {kari.pk, mor.pk, far.pk, rektor.pk}
    assert recipients_of("conversation.created", start) == [members]
    sent = actions.check_send(kari, conversation.pk, "Hei alle", "ev-1").message
    assert recipients_of("message.new", start) == [members]
    actions.check_edit(kari, sent.pk, "Hei alle sammen")
    assert recipients_of("message.edited", start) == [members]
    actions.check_delete(kari, sent.pk)
    assert recipients_of("message.deleted", start) == [members]
    actions.check_mark_read(mor, conversation.pk)
    assert recipients_of("conversation.read", start) == [{mor.pk}]
    actions.check_add_member(kari, conversation.pk, "far.jonas")
    assert recipients_of("conversation.member_added", start) == [members | {person("far.jonas").pk}]
    actions.check_remove_member(kari, conversation.pk, "far.jonas")
    assert recipients_of("conversation.member_removed", start) == [members | {person("far.jonas").pk}]


def test_private_reply_to_announcement_reaches_only_its_author(person) -> None:
    """In a class channel, a reply to an announcement goes privately to its author unless opened."""
    from trygg.directory.models import SchoolClass

    kari, emma = person("kari.4a"), person("emma.4a")
    channel, _guardians = actions.ensure_class_channels(SchoolClass.objects.get(name="4A"))
    start = last_event()
    announcement = actions.check_send(kari, channel.pk, "Husk gymtøy", "ann-1").message
    assert announcement.is_announcement
    reply = actions.check_send(emma, channel.pk, "Jeg har glemt mitt", "rep-1", announcement.pk).message
    assert reply.private_to_id == kari.pk
    assert recipients_of("message.new", start)[1] == {kari.pk, emma.pk}
    noah = person("noah.4a")
    from trygg.messaging.queries import list_messages

    assert reply.pk not in [m.pk for m in list_messages(noah, channel)]
    actions.check_set_discussion(kari, announcement.pk, True)
    open_reply = actions.check_send(emma, channel.pk, "Kan vi ta med ball?", "rep-2", announcement.pk).message
    assert open_reply.private_to_id is None
    assert open_reply.pk in [m.pk for m in list_messages(noah, channel)]


def test_pupil_cannot_post_top_level_in_class_channel(person) -> None:
    from trygg.directory.models import SchoolClass
    from trygg.errors import PolicyDenied

    channel, _ = actions.ensure_class_channels(SchoolClass.objects.get(name="4A"))
    with pytest.raises(PolicyDenied):
        actions.check_send(person("emma.4a"), channel.pk, "Hei klassen", "top-1")


def test_class_channels_follow_the_roster(person) -> None:
    from trygg.directory.models import Enrollment, Guardianship, SchoolClass
    from trygg.messaging.queries import member_ids

    school_class = SchoolClass.objects.get(name="4A")
    channel, guardians = actions.ensure_class_channels(school_class)
    pupils = set(Enrollment.objects.filter(school_class=school_class).values_list("pupil_id", flat=True))
    assert pupils <= set(member_ids(channel))
    assert person("kari.4a").pk in set(member_ids(channel)) & set(member_ids(guardians))
    assert person("mor.emma").pk in set(member_ids(guardians)) and person("mor.emma").pk not in member_ids(channel)
    no_responsibility = Guardianship.objects.filter(pupil__in=pupils, parental_responsibility=False).first()
    if no_responsibility:
        assert no_responsibility.guardian_id not in member_ids(guardians)
    assert channel.school_owned and guardians.school_owned
    again, _ = actions.ensure_class_channels(school_class)
    assert again.pk == channel.pk


def test_r_chat_03_guardian_sees_whom_young_child_chats_with_not_text(person, api_client) -> None:
    """R-CHAT-03: a guardian of a grade-4 child sees the child's conversations and members, no text;
    a guardian of a grade-9 pupil does not; a guardian without parental responsibility does not."""
    emma = person("emma.4a")
    conversation = actions.check_create_conversation(emma, "direct", "", ["kari.4a"]).conversation
    actions.check_send(emma, conversation.pk, "Hemmelig tekst", "child-1")
    listed = api_client("mor.emma").get(f"/api/v1/children/{emma.pk}/conversations")
    assert listed.status_code == 200
    assert any(c["id"] == conversation.pk for c in listed.json())
    assert "Hemmelig tekst" not in listed.content.decode()
    sara = person("sara.9b")
    assert api_client("mor.sara").get(f"/api/v1/children/{sara.pk}/conversations").status_code == 404
    assert api_client("mor.sara").get(f"/api/v1/children/{emma.pk}/conversations").status_code == 404


def test_r_chat_03_pupil_shares_conversation_with_guardian_audited(person, api_client) -> None:
    from trygg.audit.models import AuditRecord

    sara = person("sara.9b")
    conversation = actions.check_create_conversation(sara, "direct", "", ["jonas.9b"]).conversation
    actions.check_send(sara, conversation.pk, "Se her", "share-1")
    guardian = api_client("mor.sara")
    assert guardian.get(f"/api/v1/shared/{conversation.pk}/messages").status_code == 404
    client = api_client("sara.9b")
    import json

    shared = client.post(f"/api/v1/conversations/{conversation.pk}/share",
                         data=json.dumps({"guardian_username": "mor.sara"}), content_type="application/json")
    assert shared.status_code == 201
    got = guardian.get(f"/api/v1/shared/{conversation.pk}/messages")
    assert got.status_code == 200 and got.json()["messages"][0]["body"] == "Se her"
    assert AuditRecord.objects.filter(action="conversation.shared_with_guardian", actor=sara).exists()
    refused = client.post(f"/api/v1/conversations/{conversation.pk}/share",
                          data=json.dumps({"guardian_username": "far.jonas"}), content_type="application/json")
    assert refused.status_code == 403


def test_r_priv_03_deleted_text_is_gone_from_the_event_log_too(person) -> None:
    """A resume after a deletion never replays the deleted text."""
    kari, mor = person("kari.4a"), person("mor.emma")
    before = latest_event_id(mor.pk)
    conversation = actions.check_create_conversation(kari, "direct", "", ["mor.emma"]).conversation
    message = actions.check_send(kari, conversation.pk, "Feil person, beklager", "scrub-1").message
    actions.check_delete(kari, message.pk)
    replay = events_after(mor.pk, before)
    assert "Feil person" not in str(replay)
    new = [f for f in replay if f["type"] == "message.new"]
    assert new and new[0]["message"]["deleted"] is True


def test_r_priv_03_retention_erases_old_messages_except_evidence(person) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from trygg.messaging.models import Message

    sara = person("sara.9b")
    conversation = actions.check_create_conversation(sara, "direct", "", ["jonas.9b"]).conversation
    old = actions.check_send(sara, conversation.pk, "Gammel melding", "ret-1").message
    evidence = actions.check_send(sara, conversation.pk, "Bevis", "ret-2").message
    fresh = actions.check_send(sara, conversation.pk, "Ny melding", "ret-3").message
    long_ago = timezone.now() - timedelta(days=400)
    Message.objects.filter(id__in=[old.pk, evidence.pk]).update(created_at=long_ago)
    actions.do_set_legal_hold([evidence.pk])
    assert actions.purge_expired_messages() >= 1
    old.refresh_from_db()
    evidence.refresh_from_db()
    fresh.refresh_from_db()
    assert old.body == "" and old.deleted_at is not None
    assert evidence.body == "Bevis" and evidence.deleted_at is None
    assert fresh.body == "Ny melding"
    assert "Gammel melding" not in str(events_after(sara.pk, 0))


def test_r_priv_02_viewing_a_childs_conversations_is_audited(person, api_client) -> None:
    from trygg.audit.models import AuditRecord

    emma = person("emma.4a")
    api_client("mor.emma").get(f"/api/v1/children/{emma.pk}/conversations")
    assert AuditRecord.objects.filter(action="conversation.child_list_viewed", actor=person("mor.emma"),
                                      target_id=str(emma.pk)).exists()
