"""A message's last writes (the message's event id, the conversation's time) are made with the
event log's stream rows, in the same statement on PostgreSQL (issue 15): from the event's insert to
the commit every sender waits for the log's lock."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from trygg.audit.models import AuditRecord
from trygg.directory.queries import audiences
from trygg.events.models import Event, EventRecipient
from trygg.messaging import actions
from trygg.messaging.models import Conversation, Membership, Message
from trygg.messaging.queries import member_ids

pytestmark = pytest.mark.django_db


def test_issue_15_a_message_keeps_its_event_its_audit_record_and_the_sender_s_read_marker(person) -> None:
    """R-PRIV-02: every send leaves its audit record (naming the message, no text); the sender has
    read up to their own message; the message keeps its event; the conversation its time."""
    kari = person("kari.4a")
    group = actions.check_create_conversation(kari, "group", "Turdag", ["mor.emma", "far.emma"]).conversation
    sent = actions.check_send(kari, group.pk, "Husk matpakke", "statements-1").message
    message = Message.objects.get(pk=sent.pk)
    assert message.event_id == sent.event_id
    assert Event.objects.get(pk=message.event_id).payload["message"]["id"] == message.pk
    assert Conversation.objects.get(pk=group.pk).last_message_at == message.created_at
    mine = Membership.objects.get(conversation=group, person=kari)
    assert (mine.last_read_message_id, mine.last_read_at) == (message.pk, message.created_at)
    record = AuditRecord.objects.get(action="message.sent", target_id=str(message.pk))
    assert (record.actor_id, record.target_type, record.municipality_id, record.detail) == \
        (kari.pk, "messaging.message", kari.municipality_id, {"conversation_id": group.pk})
    again = actions.check_send(kari, group.pk, "Husk matpakke", "statements-1")
    assert not again.created and again.message.event_id == message.event_id


def test_r_list_05_a_hidden_sender_s_message_keeps_the_event_of_the_sender_s_own_audience(person) -> None:
    """ali.9b's name is confidential (R-LIST-05): his message is stored once per audience, and the
    message keeps the event that reaches ali himself, wherever that audience comes in the order."""
    ali = person("ali.9b")
    pupils = actions.check_create_conversation(person("ola.9b"), "group", "Gruppearbeid",
                                               ["ali.9b", "sara.9b", "nils.9b"]).conversation
    groups = audiences(member_ids(pupils), [ali.pk])
    assert len(groups) >= 2 and ali.pk not in groups[-1].ids  # his own audience is not the last
    sent = actions.check_send(ali, pupils.pk, "Hei", "statements-2").message
    message = Message.objects.get(pk=sent.pk)
    own = EventRecipient.objects.get(event_id=message.event_id, person_id=ali.pk)
    assert own.event_id == message.event_id
    assert Event.objects.filter(type="message.new", payload__message__id=message.pk).count() == len(groups)
    assert Conversation.objects.get(pk=pupils.pk).last_message_at == message.created_at


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_issue_15_on_postgresql_the_log_s_lock_is_held_for_one_statement_and_the_commit(person) -> None:
    """Two round trips from the moment the log's lock is taken to the commit: the statement that
    takes it also inserts the event, its stream rows and the message's last writes."""
    kari = person("kari.4a")
    group = actions.check_create_conversation(kari, "group", "Turdag", ["mor.emma", "far.emma"]).conversation
    with CaptureQueriesContext(connection) as done:
        actions.check_send(kari, group.pk, "Husk matpakke", "statements-3")
    statements = [q["sql"] for q in done.captured_queries]
    locked = next(i for i, sql in enumerate(statements) if "pg_advisory_xact_lock" in sql)
    assert statements[locked + 1:] == ["COMMIT"], statements[locked:]
    for table in ("messaging_event", "messaging_eventrecipient", "messaging_streamhead", "messaging_conversation"):
        assert f'"{table}"' in statements[locked]


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_issue_15_on_postgresql_the_read_marker_and_the_audit_record_go_with_the_stream(person) -> None:
    """A send's transaction is five round trips on PostgreSQL: BEGIN, the message, its notice facts,
    the event with the log's lock and the stream's rows, COMMIT. The sender's read marker and the
    audit record (R-PRIV-02) are written in the stream's statement, not each in one of its own."""
    kari = person("kari.4a")
    group = actions.check_create_conversation(kari, "group", "Turdag", ["mor.emma", "far.emma"]).conversation
    # The first message queues the others' notices (one statement more); the next finds them waiting.
    actions.check_send(kari, group.pk, "Turdag i morgen", "statements-5a")
    with CaptureQueriesContext(connection) as done:
        sent = actions.check_send(kari, group.pk, "Husk matpakke", "statements-5").message
    statements = [q["sql"] for q in done.captured_queries]
    in_transaction = statements[statements.index("BEGIN"):]
    assert len(in_transaction) == 5, in_transaction
    stream = in_transaction[-2]
    assert '"messaging_membership"' in stream and '"audit_auditrecord"' in stream
    writes = ('UPDATE "messaging_membership"', 'INSERT INTO "audit_auditrecord"')
    assert not any(sql.startswith(writes) for sql in statements[:-2])
    mine = Membership.objects.get(conversation=group, person=kari)
    assert mine.last_read_message_id == sent.pk
    assert AuditRecord.objects.filter(action="message.sent", target_id=str(sent.pk), actor=kari).count() == 1


def test_issue_15_a_send_learns_of_a_repeat_in_its_access_statement(person) -> None:
    """Design rule 3 without a statement of its own: the conversation's read also says whether the
    sender used this client_txn_id before, so a new send reads no more than that to find out."""
    kari = person("kari.4a")
    group = actions.check_create_conversation(kari, "group", "Turdag", ["mor.emma", "far.emma"]).conversation
    with CaptureQueriesContext(connection) as done:
        first = actions.check_send(kari, group.pk, "Husk matpakke", "statements-4")
    asking = [q["sql"] for q in done.captured_queries if "client_txn_id" in q["sql"] and q["sql"].startswith("SELECT")]
    assert len(asking) == 1 and '"messaging_membership"' in asking[0], asking
    with CaptureQueriesContext(connection) as done:
        again = actions.check_send(kari, group.pk, "Husk matpakke", "statements-4")
    assert not again.created and again.message.pk == first.message.pk
    assert not any(q["sql"].startswith("INSERT") for q in done.captured_queries)


def test_design_rule_3_a_repeat_is_answered_after_the_sender_left_and_refused_elsewhere(person) -> None:
    """The first send's answer stands for a sender who has left the conversation since; the same
    client_txn_id for another conversation is refused as reused, whether that one is hidden from the
    sender or not; a conversation hidden from the sender with a new txn id is 404 as before."""
    from trygg.errors import NotFoundOrHidden, WrongState

    kari = person("kari.4a")
    group = actions.check_create_conversation(kari, "group", "Turdag", ["mor.emma", "far.emma"]).conversation
    other = actions.check_create_conversation(kari, "group", "Foreldre", ["mor.emma"]).conversation
    hidden = actions.check_create_conversation(person("mor.emma"), "group", "Skjult", ["far.emma"]).conversation
    sent = actions.check_send(kari, group.pk, "Husk matpakke", "statements-5").message
    with pytest.raises(WrongState) as reused:
        actions.check_send(kari, other.pk, "Husk matpakke", "statements-5")
    assert reused.value.code == "txn_reused"
    with pytest.raises(WrongState):
        actions.check_send(kari, hidden.pk, "Husk matpakke", "statements-5")
    with pytest.raises(NotFoundOrHidden):
        actions.check_send(kari, hidden.pk, "Hei", "statements-6")
    Membership.objects.filter(conversation=group, person=kari).delete()
    again = actions.check_send(kari, group.pk, "Husk matpakke", "statements-5")
    assert not again.created and again.message.pk == sent.pk
