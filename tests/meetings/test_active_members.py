"""Class gatherings compare with the active members of the class (issue 11, item 8, R-SOC-01)."""

from __future__ import annotations

from django.test import Client

from trygg.directory.models import Enrollment, Guardianship, Person

from .conftest import post


def _deactivate_a_guardian_of_4a() -> Person:
    guardian = (Guardianship.objects.filter(pupil__enrollments__school_class__name="4A", parental_responsibility=True)
                .exclude(guardian__username__in=["mor.emma", "far.emma", "verge.noah"])
                .select_related("guardian").first().guardian)
    Person.objects.filter(pk=guardian.pk).update(is_active=False)
    return guardian


def _gathering(class_id: int) -> dict:
    return {"kind": "class_gathering", "class_id": class_id, "starts_at": "2026-12-05T18:00:00+01:00",
            "title": "Klassesamling", "invitation_text": "Alle i klassen er velkommen."}


def test_r_soc_01_one_deactivated_guardian_does_not_make_a_gathering_impossible(api_client, person):
    """R-SOC-01: with one guardian of 4A deactivated, mor.emma's gathering invites every active pupil
    and guardian (201); the deactivated one is not invited and not counted as left out."""
    gone = _deactivate_a_guardian_of_4a()
    class_id = Enrollment.objects.get(pupil=person("emma.4a")).school_class_id
    response = post(api_client("mor.emma"), "/api/v1/meetings", _gathering(class_id))
    assert response.status_code == 201, response.content
    invited = {p["username"] for p in response.json()["participants"]}
    assert gone.username not in invited
    active = set(Guardianship.objects.filter(pupil__enrollments__school_class_id=class_id,
                                             parental_responsibility=True, guardian__is_active=True)
                 .values_list("guardian__username", flat=True))
    assert active <= invited


def test_r_soc_01_the_meeting_form_creates_it_too(person):
    """R-SOC-01: the same gathering from the page's form is created (a redirect to the meeting)."""
    _deactivate_a_guardian_of_4a()
    client = Client()
    client.force_login(person("mor.emma"))
    class_id = Enrollment.objects.get(pupil=person("emma.4a")).school_class_id
    response = client.post("/meetings/new", {**_gathering(class_id), "starts_at": "2026-12-05T18:00"})
    assert response.status_code == 302, response.content.decode()[:2000]


def test_r_soc_01_a_group_of_every_active_classmate_leaves_nobody_out(api_client):
    """R-SOC-01: a group of all 9B's active pupils but one deactivated pupil gets no "left out" nudge."""
    usernames = list(Enrollment.objects.filter(school_class__name="9B").exclude(pupil__username="sara.9b")
                     .values_list("pupil__username", flat=True).order_by("pupil__username"))
    Person.objects.filter(username=usernames[0]).update(is_active=False)
    preview = post(api_client("sara.9b"), "/api/v1/conversations/preview",
                   {"kind": "group", "member_usernames": usernames[1:]}).json()
    assert not any(n["requirement"] == "R-SOC-01" for n in preview["nudges"])
