"""What a text signal does when a message is previewed, sent or edited (issue 14, part 2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.messaging.conftest import post
from trygg.safety.models import Alert, SignalRecord

pytestmark = pytest.mark.django_db

THREAT = "jeg skal banke deg etter skolen"


def test_r_pup_02_threat_preview_nudges_and_stores_nothing(chat: Callable[..., Any]) -> None:
    """R-PUP-02 / R-SAFE-01: the preview of a threat shows a nudge with its category; nothing is stored."""
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    response = post(sara, f"/api/v1/conversations/{conversation_id}/messages/preview", {"body": THREAT})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["allowed"] is True
    threat = [n for n in data["nudges"] if n["category"] == "threat"]
    assert len(threat) == 1
    assert set(threat[0]) >= {"rule", "requirement", "category", "message"}
    assert SignalRecord.objects.count() == 0
    assert Alert.objects.count() == 0


def test_r_pup_02_threat_sent_alerts_contact_teacher(
    chat: Callable[..., Any], send: Callable[..., Any], person: Callable[[str], Any],
) -> None:
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    response = send(sara, conversation_id, THREAT)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["show_an_adult"] is True
    assert [n["category"] for n in data["nudges"]].count("threat") == 1
    alerts = list(Alert.objects.all())
    assert {a.recipient_id for a in alerts} == {person("ola.9b").pk}
    assert alerts[0].category == "threat"


def test_r_safe_02_alert_list_and_case(
    chat: Callable[..., Any], send: Callable[..., Any], api_client: Callable[[str | None], Client],
) -> None:
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    send(sara, conversation_id, THREAT)
    ola = api_client("ola.9b")
    alerts = ola.get("/api/v1/safety/alerts").json()
    assert len(alerts) == 1
    response = post(ola, f"/api/v1/safety/alerts/{alerts[0]['id']}/case", {})
    assert response.status_code == 201, response.content
    jonas = api_client("jonas.9b")
    message_id = jonas.get(f"/api/v1/conversations/{conversation_id}/messages").json()[-1]["id"]
    response = post(jonas, f"/api/v1/messages/{message_id}/show-an-adult", {})
    assert response.status_code == 201, response.content
    assert api_client("sara.9b").get("/api/v1/safety/alerts").status_code == 404
    assert api_client("kari.4a").get("/api/v1/safety/alerts").json() == []
