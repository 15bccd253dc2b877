"""The people picker offers only whom the policy lets this person start a conversation with."""

from __future__ import annotations

from typing import Any

import pytest

from trygg.errors import PolicyDenied
from trygg.messaging import actions
from trygg.messaging.picker import list_startable_contacts


def usernames(api_client: Any, who: str, q: str = "") -> list[str]:
    response = api_client(who).get("/api/v1/contacts", {"q": q})
    assert response.status_code == 200
    return [c["username"] for c in response.json()]


def test_r_chat_02_a_4a_pupil_is_never_offered_a_classmate(api_client, person) -> None:
    """emma.4a (grade 4) may chat with adults only: no 4A pupil is offered, her teacher is."""
    from trygg.directory.models import Enrollment

    offered = set(usernames(api_client, "emma.4a"))
    classmates = set(Enrollment.objects.filter(school_class__name="4A").values_list("pupil__username", flat=True))
    assert not offered & classmates
    assert "kari.4a" in offered
    # The picker and the create action agree: what is left out is refused.
    with pytest.raises(PolicyDenied):
        actions.check_create_conversation(person("emma.4a"), "direct", "", ["noah.4a"])


def test_a_9b_pupil_is_offered_classmates(api_client) -> None:
    """From grade 8 pupils chat with each other (R-CHAT-02): sara.9b is offered jonas.9b."""
    assert "jonas.9b" in usernames(api_client, "sara.9b")


def test_a_guardian_is_offered_the_childs_teachers_first(api_client) -> None:
    """mor.emma's list starts with the teachers of 4A, grouped under that heading with their role."""
    contacts = api_client("mor.emma").get("/api/v1/contacts").json()
    assert contacts[0]["username"] == "kari.4a"
    assert contacts[0]["group"] == "Lærere i 4A" or contacts[0]["group"] == "Teachers of 4A"
    assert contacts[0]["class"] == "4A" and contacts[0]["role"]
    groups = list(dict.fromkeys(c["group"] for c in contacts))
    assert groups[0] == contacts[0]["group"]


def test_the_picker_searches_by_name_role_and_class(api_client, person) -> None:
    kari = person("kari.4a")
    assert usernames(api_client, "mor.emma", "nordm") == ["kari.4a"]
    assert usernames(api_client, "mor.emma", "zzz") == []
    every = list_startable_contacts(person("mor.emma"))
    assert [c.username for c in every if "4A" in c.class_name] and kari.username in {c.username for c in every}


def test_every_offer_is_one_the_create_action_accepts(person) -> None:
    """For a pupil, a guardian and a teacher: each offered person can be started with."""
    for who in ("emma.4a", "mor.emma", "kari.4a", "sara.9b"):
        viewer = person(who)
        for contact in list_startable_contacts(viewer):
            school = viewer.facts.is_staff_member
            decision = actions.preview_conversation(viewer, "direct", [contact.username], False)
            if not decision.allowed and school:
                decision = actions.preview_conversation(viewer, "direct", [contact.username], True)
            assert decision.allowed, (who, contact.username)


def test_the_picker_hides_strictly_confidential_pupils_from_families(api_client) -> None:
    """R-LIST-05 still holds: ali.9b is not offered to another family, even as a 9B classmate."""
    assert "ali.9b" not in usernames(api_client, "sara.9b")
