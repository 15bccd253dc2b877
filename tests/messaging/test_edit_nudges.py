"""Edits pass the same guards and nudges as sends (issue 11, item 12): R-STAFF-05, R-SAFE-01, R-STAFF-07."""

from __future__ import annotations

import json
from typing import Any

from trygg.directory.models import Person


def patch(client: Any, message_id: int, body: str) -> Any:
    return client.patch(f"/api/v1/messages/{message_id}", data=json.dumps({"body": body}),
                        content_type="application/json")


def test_r_staff_05_an_edit_that_praises_one_pupil_in_a_group_nudges_as_a_send_does(chat, send, api_client):
    """R-STAFF-05: ola.9b sends "Hei", then edits it into praise of Sara in the group: the edit's
    answer carries the same nudge a send of that text would."""
    conversation_id, ola = chat("ola.9b", "sara.9b", "jonas.9b", "nils.9b", kind="group", school_owned=True)
    sent = send(ola, conversation_id, "Hei alle")
    assert sent.status_code == 201 and not sent.json().get("nudges")
    edited = patch(ola, sent.json()["id"], "Sara var veldig flink i dag!")
    assert edited.status_code == 200
    assert edited.json()["body"] == "Sara var veldig flink i dag!"
    direct = send(ola, conversation_id, "Sara var veldig flink i dag!").json()["nudges"]
    assert {n["requirement"] for n in edited.json()["nudges"]} == {n["requirement"] for n in direct}
    assert "R-STAFF-05" in {n["requirement"] for n in edited.json()["nudges"]}


def test_r_staff_07_an_edit_in_a_frozen_group_is_refused_like_a_send(chat, send, api_client):
    """R-STAFF-07: once the group has lost its adults, sara.9b cannot edit her message either."""
    conversation_id, _ola = chat("ola.9b", "sara.9b", "jonas.9b", "nils.9b", kind="group", school_owned=True)
    sara = api_client("sara.9b")
    sent = send(sara, conversation_id, "Hei")
    Person.objects.filter(username__in=["nils.9b"]).update(is_active=False)
    refused = patch(sara, sent.json()["id"], "Nå kan vi skrive hva vi vil")
    assert refused.status_code == 403 and refused.json()["requirement"] == "R-STAFF-07"
