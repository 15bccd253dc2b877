"""Staff's safety alerts, "show an adult", the weekly exclusion notice, and the proof that no alert
or notice carries message text (issue 14: R-SAFE-02, R-PUP-02, R-SOC-01, R-STAFF-06, R-CASE-10,
R-CASE-21)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pydantic import ValidationError

from tests.messaging.conftest import post
from trygg.audit.models import AuditRecord
from trygg.cases.models import Case, EvidenceItem, Participant
from trygg.directory.models import Enrollment, SchoolClass
from trygg.events.models import Event
from trygg.events.payloads import validate_payload
from trygg.messaging.models import Message
from trygg.notifications.models import Notice
from trygg.notifications.texts import notice_text
from trygg.safety.exclusion import notice_excluding_groups
from trygg.safety.models import Alert, SignalRecord

pytestmark = pytest.mark.django_db

# Words that appear nowhere in Trygg's own texts, so finding one anywhere means the text leaked.
THREAT = "jeg skal banke deg etter skolen med kosteskaftet"
SELFHARM = "jeg vil ikke leve mer, jeg vil skade meg selv med barberbladet"
MARKERS = ("kosteskaftet", "barberbladet", "banke deg", "skade meg selv")


def threat_sent(chat: Callable[..., Any], send: Callable[..., Any]) -> tuple[int, int, Client]:
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    response = send(sara, conversation_id, THREAT)
    assert response.status_code == 201, response.content
    return conversation_id, response.json()["id"], sara


# ------------------------------------------------------------------------- the alert list


def test_r_safe_02_alerts_are_for_staff_only(
    chat: Callable[..., Any], send: Callable[..., Any], api_client: Callable[[str | None], Client],
) -> None:
    """Staff see their own alerts (none: []); pupils and guardians get 404; nobody sees another's."""
    threat_sent(chat, send)
    assert len(api_client("ola.9b").get("/api/v1/safety/alerts").json()) == 1
    assert api_client("kari.4a").get("/api/v1/safety/alerts").json() == []
    assert api_client("rektor").get("/api/v1/safety/alerts").json() == []
    for username in ("sara.9b", "jonas.9b", "mor.sara"):
        assert api_client(username).get("/api/v1/safety/alerts").status_code == 404
    alert_id = Alert.objects.get().pk
    for username in ("kari.4a", "jonas.9b"):
        assert post(api_client(username), f"/api/v1/safety/alerts/{alert_id}/acknowledge", {}).status_code == 404
        assert post(api_client(username), f"/api/v1/safety/alerts/{alert_id}/case", {}).status_code == 404


def test_r_safe_02_acknowledging_an_alert_is_audited(
    chat: Callable[..., Any], send: Callable[..., Any], api_client: Callable[[str | None], Client],
) -> None:
    threat_sent(chat, send)
    ola = api_client("ola.9b")
    alert_id = ola.get("/api/v1/safety/alerts").json()[0]["id"]
    response = post(ola, f"/api/v1/safety/alerts/{alert_id}/acknowledge", {})
    assert response.status_code == 200
    assert response.json()["acknowledged"] is True
    assert ola.get("/api/v1/safety/alerts").json()[0]["acknowledged"] is True
    assert AuditRecord.objects.filter(action="safety.alert_acknowledged", target_id=str(alert_id)).count() == 1
    assert Event.objects.filter(type="safety.alert_updated").count() == 1


def test_r_case_10_r_case_21_a_threat_alert_becomes_a_threat_case_without_the_text(
    chat: Callable[..., Any], send: Callable[..., Any], api_client: Callable[[str | None], Client],
    person: Callable[[str], Any],
) -> None:
    """R-CASE-10: a threat alert turned into a case is a threat case (a category the policy lists,
    R-CASE-21) with the receiver harmed and the writer reported; the case holds no message text."""
    threat_sent(chat, send)
    ola = api_client("ola.9b")
    alert_id = ola.get("/api/v1/safety/alerts").json()[0]["id"]
    response = post(ola, f"/api/v1/safety/alerts/{alert_id}/case", {})
    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["case_id"])
    assert case.category == "threat_violence_stalking"
    roles = set(Participant.objects.filter(case=case).values_list("person__username", "role"))
    assert ("jonas.9b", "harmed") in roles and ("sara.9b", "reported") in roles
    assert not any(m in case.description for m in MARKERS)
    assert response.json()["alert"]["case_id"] == case.pk and response.json()["alert"]["acknowledged"] is True
    # The same case again on a repeat.
    assert post(ola, f"/api/v1/safety/alerts/{alert_id}/case", {}).json()["case_id"] == case.pk
    assert AuditRecord.objects.filter(action="safety.alert_to_case").count() == 1


def test_r_safe_02_a_selfharm_alert_becomes_the_teachers_concern(
    chat: Callable[..., Any], send: Callable[..., Any], api_client: Callable[[str | None], Client],
) -> None:
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    send(sara, conversation_id, SELFHARM)
    ola = api_client("ola.9b")
    alert_id = next(a["id"] for a in ola.get("/api/v1/safety/alerts").json() if a["category"] == "selfharm")
    case = Case.objects.get(pk=post(ola, f"/api/v1/safety/alerts/{alert_id}/case", {}).json()["case_id"])
    assert case.category == "teacher_concern"


# ------------------------------------------------------------------------- show an adult


def test_r_pup_02_r_safe_02_the_receiver_shows_a_threat_to_an_adult_and_it_is_kept(
    chat: Callable[..., Any], send: Callable[..., Any], api_client: Callable[[str | None], Client],
) -> None:
    """jonas.9b presses "show an adult": a report of the message, whose snapshot is kept as evidence."""
    _conversation_id, message_id, sara = threat_sent(chat, send)
    assert post(sara, f"/api/v1/messages/{message_id}/show-an-adult", {}).status_code == 404
    jonas = api_client("jonas.9b")
    response = post(jonas, f"/api/v1/messages/{message_id}/show-an-adult", {})
    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["case_id"])
    assert case.message_id == message_id and case.category == "threat_violence_stalking"
    snapshot = EvidenceItem.objects.get(case=case, kind="message_snapshot")
    assert json.loads(snapshot.canonical)["reported_message_id"] == message_id
    assert Message.objects.get(pk=message_id).legal_hold is True
    assert post(api_client("ali.9b"), f"/api/v1/messages/{message_id}/show-an-adult", {}).status_code == 404


def test_r_pup_02_show_an_adult_is_only_for_flagged_messages(
    chat: Callable[..., Any], send: Callable[..., Any], api_client: Callable[[str | None], Client],
) -> None:
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    message_id = send(sara, conversation_id, "hei, ses i morgen").json()["id"]
    assert post(api_client("jonas.9b"), f"/api/v1/messages/{message_id}/show-an-adult", {}).status_code == 404


# ------------------------------------------------------------------------- never the text


def test_r_safe_02_r_staff_06_no_alert_or_notice_carries_message_text(
    chat: Callable[..., Any], send: Callable[..., Any], api_client: Callable[[str | None], Client],
    person: Callable[[str], Any],
) -> None:
    """After a threat, self-harm, repeated bullying and an edit, nothing the safety app stored or sent
    (alerts, signal records, their events and audit rows, out-of-app notices, the API and the page)
    holds any of the message text; the out-of-app notice names nobody."""
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    send(sara, conversation_id, THREAT)
    send(sara, conversation_id, SELFHARM)
    for text in ("du er så dum kosteskaftet", "din jævla taper, og kosteskaftet er mitt",
                 "ingen liker deg kosteskaftet"):
        send(sara, conversation_id, text)
    first = Message.objects.filter(conversation_id=conversation_id).order_by("id").first()
    sara.patch(f"/api/v1/messages/{first.pk}", data={"body": THREAT + " igjen"}, content_type="application/json")
    assert Alert.objects.filter(kind="repeated").exists()
    stored = [
        *Alert.objects.values(), *SignalRecord.objects.values(),
        *Event.objects.filter(type__startswith="safety.").values("type", "payload"),
        *AuditRecord.objects.filter(action__startswith="safety.").values("action", "detail"),
        *Notice.objects.values(),
    ]
    dump = json.dumps(stored, default=str)
    ola = api_client("ola.9b")
    api_answer = ola.get("/api/v1/safety/alerts").content.decode()
    browser = Client()
    browser.force_login(person("ola.9b"))
    page = browser.get("/safety/alerts/").content.decode()
    for text in (dump, api_answer, page):
        for marker in MARKERS:
            assert marker not in text
    assert "Sara Dahle" in page
    kinds = set(Notice.objects.values_list("kind", flat=True)) - {"new_message"}
    assert kinds == {"safety_alert"}
    assert not Notice.objects.filter(kind="safety_alert", conversation_id__isnull=False).exists()
    subject, body = notice_text("nb", ["safety_alert"], 1, False)
    for word in ("Sara", "Dahle", "trussel", "selvskad", *MARKERS):
        assert word not in subject + body
    assert "/safety/alerts/" in body


def test_r_safe_02_alert_events_refuse_a_text_field() -> None:
    """The alert event's schema has no room for text: an extra field is refused before the log."""
    payload = {"alert_id": 1, "kind": "signal", "category": "threat", "pupil": None, "conversation_id": 1,
               "counts": {}, "created_at": timezone.now().isoformat()}
    validate_payload("safety.alert", payload)
    with pytest.raises(ValidationError):
        validate_payload("safety.alert", {**payload, "body": "tekst"})


# ------------------------------------------------------------------------- exclusion (R-SOC-01)


def _class_9b_usernames() -> list[str]:
    class_9b = SchoolClass.objects.get(name="9B")
    return list(Enrollment.objects.filter(school_class=class_9b).order_by("pupil__username")
                .values_list("pupil__username", flat=True))


def test_r_soc_01_a_group_leaving_out_a_few_classmates_is_told_weekly_without_names(
    api_client: Callable[[str | None], Client], person: Callable[[str], Any],
) -> None:
    """A pupil's group with all of 9B but three: the contact teacher gets one weekly notice with
    counts only; running the job again that week adds nothing."""
    pupils = _class_9b_usernames()
    left_out = {"jonas.9b", "ali.9b", next(u for u in pupils if u not in ("sara.9b", "jonas.9b", "ali.9b"))}
    members = [u for u in pupils if u not in left_out and u != "sara.9b"]
    created = post(api_client("sara.9b"), "/api/v1/conversations",
                   {"kind": "group", "title": "Fest", "member_usernames": members})
    assert created.status_code == 201, created.content
    assert notice_excluding_groups() == 1
    alert = Alert.objects.get(kind="exclusion")
    assert alert.recipient_id == person("ola.9b").pk
    assert alert.counts == {"groups": 1, "left_out": 3}
    assert alert.pupil_id is None and alert.conversation_id is None
    assert notice_excluding_groups() == 0
    assert notice_excluding_groups(timezone.now() + timedelta(days=8)) == 1
    listed = api_client("ola.9b").get("/api/v1/safety/alerts").json()
    assert "Fest" not in json.dumps(listed)


def test_r_soc_01_groups_of_guardians_count_for_their_children(
    api_client: Callable[[str | None], Client],
) -> None:
    """A guardians' group covering all of 9B's families but two is counted; one leaving out more
    than three, or made by staff, is not."""
    from trygg.directory.models import Guardianship

    pupils = _class_9b_usernames()
    covered = [u for u in pupils if u not in ("jonas.9b", "ali.9b")]
    families = Guardianship.objects.filter(pupil__username__in=covered, parental_responsibility=True)
    guardians = sorted(set(families.values_list("guardian__username", flat=True)) - {"mor.sara"})
    created = post(api_client("mor.sara"), "/api/v1/conversations",
                   {"kind": "group", "member_usernames": guardians})
    assert created.status_code == 201, created.content
    too_few = [u for u in pupils if u not in ("sara.9b", "ali.9b")][:10]  # ali.9b is hidden from sara
    assert post(api_client("sara.9b"), "/api/v1/conversations",
                {"kind": "group", "member_usernames": too_few}).status_code == 201
    assert notice_excluding_groups() == 1
    assert Alert.objects.get(kind="exclusion").counts == {"groups": 1, "left_out": 2}


# ------------------------------------------------------------------------- the rulebook


def test_r_safe_01_the_pupils_guidelines_say_what_trygg_notices_and_who_is_told(
    api_client: Callable[[str | None], Client], person: Callable[[str], Any],
) -> None:
    client = Client()
    client.force_login(person("sara.9b"))
    page = client.get("/guidelines/").content.decode()
    assert "Hva Trygg legger merke til" in page
    assert "aldri teksten" in page
    assert "ikke lagret" in page


def test_r_soc_01_the_weekly_exclusion_job_runs_in_the_notice_worker() -> None:
    from trygg.notifications import worker

    worker._load_job_modules()
    assert "safety.exclusion_notices" in [name for name, _fn, _every in worker._JOBS]
