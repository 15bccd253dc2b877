"""Events of the meetings app: schemas forbid unknown fields, and each goes only to its recipients."""

from __future__ import annotations

import pydantic
import pytest

from trygg.events.models import Event
from trygg.events.payloads import validate_payload
from trygg.meetings import events as ev

from .conftest import post


def recipients(event_type: str, meeting_id: int) -> set[str]:
    event = Event.objects.filter(type=event_type, payload__meeting_id=meeting_id).order_by("-id").first()
    assert event is not None, event_type
    return set(event.recipients.values_list("person__username", flat=True))


def test_meeting_payloads_forbid_unknown_fields() -> None:
    """Every meeting event type is a pydantic schema with extra="forbid"."""
    with pytest.raises(pydantic.ValidationError):
        validate_payload(ev.MEETING_ENDED, {"meeting_id": 1, "body": "secret"})
    with pytest.raises(pydantic.ValidationError):
        validate_payload(ev.MEETING_JOIN_REFUSED, {"meeting_id": 1, "person": {}, "rule": None, "token": "x"})


def test_r_meet_10_refused_join_event_goes_to_the_organiser_only(talk, api_client) -> None:
    """R-MEET-10: mor.sara's refused join is told to kari.4a alone, not to the family."""
    post(api_client("mor.sara"), f"/api/v1/meetings/{talk['id']}/join")
    assert recipients(ev.MEETING_JOIN_REFUSED, talk["id"]) == {"kari.4a"}


def test_r_meet_11_invitation_event_reaches_the_invited(talk) -> None:
    """R-MEET-11: the invitation event reaches the pupil, the guardians and the organiser, no one else."""
    assert recipients(ev.MEETING_INVITED, talk["id"]) == {"kari.4a", "emma.4a", "mor.emma", "far.emma"}


def test_r_meet_01_r_meet_18_halt_and_end_events_reach_the_invited(talk, api_client) -> None:
    """R-MEET-18, R-MEET-01: halt and end are told to everyone invited, nobody else."""
    kari = api_client("kari.4a")
    post(kari, f"/api/v1/meetings/{talk['id']}/halt")
    assert recipients(ev.MEETING_HALTED, talk["id"]) == {"kari.4a", "emma.4a", "mor.emma", "far.emma"}
    post(kari, f"/api/v1/meetings/{talk['id']}/end")
    assert recipients(ev.MEETING_ENDED, talk["id"]) == {"kari.4a", "emma.4a", "mor.emma", "far.emma"}


def test_removed_event_goes_to_organiser_and_the_removed(talk, api_client) -> None:
    """Removing far.emma tells kari.4a and far.emma only."""
    post(api_client("kari.4a"), f"/api/v1/meetings/{talk['id']}/remove", {"username": "far.emma"})
    assert recipients(ev.MEETING_REMOVED, talk["id"]) == {"kari.4a", "far.emma"}


def test_audit_rows_hold_no_text(talk, api_client) -> None:
    """Audit rows of meetings hold ids and rule ids, never the invitation text, agenda or tokens."""
    from trygg.audit.models import AuditRecord

    kari = api_client("kari.4a")
    from .conftest import put

    put(kari, f"/api/v1/meetings/{talk['id']}/agenda", {"text": "Hemmelig agenda om lesing"})
    token = post(api_client("mor.emma"), f"/api/v1/meetings/{talk['id']}/join").json()["join_token"]
    details = " ".join(str(r.detail) for r in AuditRecord.objects.filter(action__startswith="meeting."))
    assert "Hemmelig" not in details
    assert "Velkommen" not in details
    assert token not in details
