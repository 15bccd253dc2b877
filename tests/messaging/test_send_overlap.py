"""Sends into one conversation overlap on PostgreSQL up to the event log's lock (issue 15)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from trygg.messaging import actions

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_issue_15_a_send_waits_for_another_into_the_same_group_only_at_the_event_log(person, monkeypatch) -> None:
    """Five senders in one group queued on the conversation's row for half their time: the send
    locked it (``last_message_at``) first and held it to the commit. Now it is updated last, after
    the event: a second send gets all the way through, its event and its commit, while the first is
    still writing."""
    kari = person("kari.4a")
    conversation = actions.check_create_conversation(kari, "group", "Turdag", ["mor.emma", "far.emma"]).conversation
    mor = person("mor.emma")
    reached = {name: threading.Event() for name in ("first", "second")}
    go_on = threading.Event()
    real_emit = actions.emit_about
    errors: list[BaseException] = []

    def emit_about(*args: Any, **kwargs: Any) -> Any:
        name = threading.current_thread().name
        reached[name].set()
        if name == "first":
            assert go_on.wait(20)
        return real_emit(*args, **kwargs)

    monkeypatch.setattr(actions, "emit_about", emit_about)

    def send(who: Any, body: str) -> None:
        try:
            actions.check_send(who, conversation.pk, body, f"overlap-{body}")
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=send, args=(kari, "en"), name="first")
    first.start()
    assert reached["first"].wait(20)
    second = threading.Thread(target=send, args=(mor, "to"), name="second")
    second.start()
    try:
        got_there = reached["second"].wait(10)
        # The first stays held until the second has committed: released as soon as the second
        # reached its event, the first could take the log's lock before it, and the order below
        # would be a race of two threads, not the thing tested.
        second.join(10)
        finished = not second.is_alive()
    finally:
        go_on.set()
        first.join(30)
        second.join(30)
    assert not errors, errors
    assert got_there, "the second send waited for the first before its event"
    assert finished, "the second send waited for the first after its event"
    # The second, not held up, took the event log first: events follow the commits.
    sent = list(conversation.messages.order_by("event_id").values_list("body", flat=True))
    assert sent == ["to", "en"]
