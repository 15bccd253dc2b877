"""Rebuilding a request for ``explain``: targets by reference, context from the target's app."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from trygg.errors import BadInput
from trygg.policy.explain import explain, known_actions, resolve_target

pytestmark = pytest.mark.django_db


def test_targets_are_found_by_id_or_by_name(demo: object, person: Callable[[str], Any]) -> None:
    school_class = resolve_target("class:4A")
    assert school_class.name == "4A"
    assert resolve_target(f"class:{school_class.pk}") == school_class
    assert resolve_target("person:emma.4a").id == person("emma.4a").pk  # a person is their facts
    assert resolve_target(None) is None


@pytest.mark.parametrize("ref", ["4A", "planet:1", "class:", "class:9Z", "person:nobody"])
def test_a_bad_target_is_refused(demo: object, ref: str) -> None:
    with pytest.raises(BadInput):
        resolve_target(ref)


def test_a_conversation_target_brings_its_members(demo: object, api_client: Callable[[str | None], Client]) -> None:
    """Explaining a send to a conversation sees its members, as the messaging action does."""
    response = api_client("ola.9b").post(
        "/api/v1/conversations",
        data=json.dumps({"kind": "direct", "title": "", "member_usernames": ["sara.9b"]}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    conversation_id = response.json()["id"]
    member = explain("message.send", "sara.9b", f"conversation:{conversation_id}", {"body": "hei"})
    assert member.decision.allowed
    assert {m.id for m in member.context["members"]} >= {member.actor.pk}
    outsider = explain("message.send", "jonas.9b", f"conversation:{conversation_id}", {"body": "hei"})
    assert not outsider.decision.allowed


def test_hand_written_members_are_usernames(demo: object) -> None:
    result = explain("conversation.create", "sara.9b", None,
                     json.dumps({"kind": "direct", "members": ["sara.9b", "jonas.9b"]}))
    assert result.decision.allowed
    assert result.as_dict()["actor"] == "sara.9b"


def test_the_form_offers_every_wired_action() -> None:
    actions = known_actions()
    assert "message.send" in actions and "directory.view_class_members" in actions
