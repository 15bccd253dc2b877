"""Meeting requests: guardians can always ask the school for a meeting about their child (R-PAR-01)."""

from __future__ import annotations

import json

from django.core import mail
from django.test import Client

from trygg.audit.models import AuditRecord
from trygg.events.models import Event
from trygg.notifications.actions import deliver_due
from trygg.notifications.models import Notice
from trygg.policy.engine import decide

ASK = {"student_username": "emma.4a", "to": "contact_teacher",
       "topic": "Vi lurer på hvordan Emma har det i friminuttene.", "preferred_times": "Ettermiddag"}


def post(client: Client, path: str, body: dict) -> object:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_r_par_01_guardian_asks_contact_teacher_who_sees_and_answers(api_client, person) -> None:
    """mor.emma asks 4A's contact teacher; kari.4a sees the request, answers, and mor.emma reads it."""
    asked = post(api_client("mor.emma"), "/api/v1/meetings/requests", ASK)
    assert asked.status_code == 201, asked.content
    body = asked.json()
    assert body["status"] == "open" and body["pupil"]["username"] == "emma.4a"
    # S4's reason for asking here rather than on social media is shown where the guardian asks.
    assert [n["rule"] for n in body["notes"]] == ["dk_policy.talk-not-social-media"]
    assert body["notes"][0]["requirement"] == "R-PAR-01"

    listed = api_client("kari.4a").get("/api/v1/meetings/requests").json()
    assert [r["id"] for r in listed] == [body["id"]]
    assert listed[0]["topic"] == ASK["topic"]

    answered = post(api_client("kari.4a"), f"/api/v1/meetings/requests/{body['id']}/answer",
                    {"answer": "Gjerne! Passer torsdag kl. 15?"})
    assert answered.status_code == 200, answered.content
    mine = api_client("mor.emma").get("/api/v1/meetings/requests").json()
    assert mine[0]["status"] == "answered"
    assert mine[0]["answer"] == "Gjerne! Passer torsdag kl. 15?"
    assert mine[0]["answered_by"] == person("kari.4a").name
    assert AuditRecord.objects.filter(action="meeting_request.answered", actor=person("kari.4a")).exists()


def test_r_par_01_request_reaches_only_the_addressed_role(api_client, person) -> None:
    """A request to the leadership reaches rektor, not the contact teacher; others see nothing (404)."""
    body = post(api_client("mor.emma"), "/api/v1/meetings/requests", {**ASK, "to": "leadership"}).json()
    assert [r["id"] for r in api_client("rektor").get("/api/v1/meetings/requests").json()] == [body["id"]]
    assert api_client("kari.4a").get("/api/v1/meetings/requests").json() == []
    for outsider in ("ola.9b", "mor.sara", "emma.4a", "far.emma"):
        assert api_client(outsider).get("/api/v1/meetings/requests").json() == []
        refused = post(api_client(outsider), f"/api/v1/meetings/requests/{body['id']}/answer", {"answer": "Hei"})
        assert refused.status_code == 404
    # The event goes to the addressees only, and carries the request they see on the page.
    event = Event.objects.filter(type="meeting_request.new").latest("id")
    assert set(event.recipients.values_list("person_id", flat=True)) == {person("rektor").pk}


def test_r_par_01_only_a_guardian_with_parental_responsibility_may_ask(api_client) -> None:
    """far.ali has no parental responsibility for ali.9b; a teacher or a pupil has no child: all 404."""
    assert post(api_client("far.ali"), "/api/v1/meetings/requests",
                {**ASK, "student_username": "ali.9b"}).status_code == 404
    assert post(api_client("mor.sara"), "/api/v1/meetings/requests", ASK).status_code == 404
    assert post(api_client("kari.4a"), "/api/v1/meetings/requests", ASK).status_code == 404
    assert post(api_client("mor.ali"), "/api/v1/meetings/requests",
                {**ASK, "student_username": "ali.9b"}).status_code == 201


def test_r_par_01_rule_allows_own_child_and_denies_any_other(person) -> None:
    """The engine's decision: a guardian's own child allowed; another child denied by the core rule."""
    mor = person("mor.emma").facts
    allowed = decide("meeting_request.create", mor, None, {"pupil": person("emma.4a").facts, "addressee": "leadership"})
    assert allowed.allowed
    other = {"pupil": person("sara.9b").facts, "addressee": "leadership"}
    denied = decide("meeting_request.create", mor, None, other)
    assert not denied.allowed
    assert denied.denied_by.rule.id == "core_meetings.guardian-asks-for-meeting"


def test_r_par_01_bad_input_is_refused_and_nothing_written(api_client) -> None:
    """An empty topic, an unknown addressee or a too long topic answers 400 and stores nothing."""
    client = api_client("mor.emma")
    for bad in ({**ASK, "topic": "   "}, {**ASK, "to": "everyone"}, {**ASK, "topic": "x" * 2001},
                {**ASK, "topic": 12}, {"student_username": "emma.4a"}):
        response = post(client, "/api/v1/meetings/requests", bad)
        assert response.status_code == 400, (bad, response.content)
        assert response.json()["error"]
    assert client.get("/api/v1/meetings/requests").json() == []


def test_r_par_01_answer_twice_is_409_and_waiting_requests_are_capped(api_client) -> None:
    """An answered request cannot be answered again; a fourth waiting request about one child is 429."""
    client = api_client("mor.emma")
    first = post(client, "/api/v1/meetings/requests", ASK).json()
    teacher = api_client("kari.4a")
    assert post(teacher, f"/api/v1/meetings/requests/{first['id']}/answer", {"answer": "Ja"}).status_code == 200
    assert post(teacher, f"/api/v1/meetings/requests/{first['id']}/answer", {"answer": "Igjen"}).status_code == 409
    for _ in range(3):
        assert post(client, "/api/v1/meetings/requests", ASK).status_code == 201
    capped = post(client, "/api/v1/meetings/requests", ASK)
    assert capped.status_code == 429
    assert capped.json()["error"] == "too_many_open_requests"


def test_r_par_01_r_staff_06_notice_names_nobody_and_holds_no_topic(api_client, person, settings) -> None:
    """The e-mail to the contact teacher says only that something is waiting, with a link to meetings."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    post(api_client("mor.emma"), "/api/v1/meetings/requests", ASK)
    assert Notice.objects.filter(person=person("kari.4a"), kind="meeting_request").exists()
    deliver_due()
    sent = [m for m in mail.outbox if person("kari.4a").email in m.to]
    assert sent, "the contact teacher got no e-mail"
    text = sent[-1].subject + sent[-1].body
    assert "/meetings/" in text
    for secret in ("Emma", "friminuttene", person("mor.emma").name.split()[0]):
        assert secret not in text


def test_r_par_01_pages_ask_and_answer(person) -> None:
    """The guardian asks through the page; the contact teacher answers through the meetings page."""
    guardian = Client()
    guardian.force_login(person("mor.emma"))
    form = guardian.get("/meetings/ask")
    assert form.status_code == 200
    assert "sociale medier" in form.content.decode() or "social" in form.content.decode()
    sent = guardian.post("/meetings/ask", {"student_username": "emma.4a", "to": "contact_teacher",
                                           "topic": "Lekser", "preferred_times": ""})
    assert sent.status_code == 302
    teacher = Client()
    teacher.force_login(person("kari.4a"))
    page = teacher.get("/meetings/").content.decode()
    assert "Lekser" in page and 'data-testid="meeting-requests"' in page
    from trygg.meetings.models import MeetingRequest

    request_id = MeetingRequest.objects.get(topic="Lekser").pk
    assert teacher.post(f"/meetings/requests/{request_id}/answer", {"answer": "Ring meg"}).status_code == 302
    assert "Ring meg" in guardian.get("/meetings/").content.decode()
    refused = guardian.post("/meetings/ask", {"student_username": "sara.9b", "to": "leadership", "topic": "x"})
    assert refused.status_code == 404
