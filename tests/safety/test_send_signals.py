"""What a text signal does when a message is previewed, sent or edited (issue 14, part 2).

R-SAFE-01 (nudges for bullying, leaving out and talk about others), R-PUP-02 (show an adult; the
contact teacher is told), R-SAFE-02 (the text reaches staff only through a report), R-CASE-10
(threats), R-STF-01 and R-STAFF-05 (staff nudges kept, on edits too), S4 about_absent in groups of
guardians.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.messaging.conftest import post
from trygg.audit.models import AuditRecord
from trygg.directory.models import Municipality
from trygg.events.models import Event
from trygg.messaging.models import Message
from trygg.notifications.models import Notice
from trygg.safety.models import Alert, SignalRecord

pytestmark = pytest.mark.django_db

THREAT = "jeg skal banke deg etter skolen"
SELFHARM = "jeg vil ikke leve mer, jeg vil skade meg selv"
BULLYING = "du er så stygg, ingen liker deg"
NUDGE_KEYS = {"rule", "requirement", "category", "message"}


def preview(client: Client, conversation_id: int, body: str) -> dict[str, Any]:
    response = post(client, f"/api/v1/conversations/{conversation_id}/messages/preview", {"body": body})
    assert response.status_code == 200, response.content
    return response.json()


def categories(nudges: list[dict[str, Any]]) -> list[str]:
    return [n["category"] for n in nudges]


def counts() -> tuple[int, ...]:
    return (Message.objects.count(), SignalRecord.objects.count(), Alert.objects.count(),
            AuditRecord.objects.count(), Event.objects.count(), Notice.objects.count())


# ------------------------------------------------------------------------------------ nudges


def test_r_safe_01_r_pup_02_every_category_is_its_own_nudge_entry(chat: Callable[..., Any]) -> None:
    """A message holding bullying and a threat gets one entry per category, each with rule,
    requirement, category and message, in the preview."""
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    data = preview(sara, conversation_id, "ingen liker deg, bare drep deg selv")
    assert data["allowed"] is True
    found = categories(data["nudges"])
    assert found.count("threat") == 1
    assert found.count("bullying") == 1
    for nudge in data["nudges"]:
        assert NUDGE_KEYS <= set(nudge)
        assert nudge["message"]
        # A pupil's text never shows rule ids or requirement ids.
        assert "R-" not in nudge["message"] and "amot." not in nudge["message"]
    threat = next(n for n in data["nudges"] if n["category"] == "threat")
    assert threat["requirement"] in {"R-SAFE-02", "R-PUP-02"}


def test_r_safe_01_preview_of_a_nudged_draft_stores_nothing(chat: Callable[..., Any]) -> None:
    """Nothing stores the text (or any trace) of a nudged draft that is never sent."""
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    before = counts()
    for text in (THREAT, SELFHARM, BULLYING):
        assert preview(sara, conversation_id, text)["nudges"]
    assert counts() == before


def test_r_safe_01_nudges_are_worded_for_the_writers_age(
    chat: Callable[..., Any], api_client: Callable[[str | None], Client],
) -> None:
    """emma.4a (grade 4), sara.9b (grade 9) and a guardian get different words for bullying."""
    emma_conversation, emma = chat("emma.4a", "kari.4a")
    sara_conversation, sara = chat("sara.9b", "jonas.9b")
    parent_conversation, parent = chat("mor.emma", "kari.4a")

    def bullying(client: Client, conversation_id: int) -> str:
        nudges = preview(client, conversation_id, "du er så dum")["nudges"]
        return next(n["message"] for n in nudges if n["category"] == "bullying")

    child, young, adult = bullying(emma, emma_conversation), bullying(sara, sara_conversation), bullying(
        parent, parent_conversation)
    assert len({child, young, adult}) == 3
    assert child == "Dette kan såre. Vil du endre det?"


def test_r_pup_02_selfharm_shows_the_norwegian_help_lines_in_norwegian(chat: Callable[..., Any]) -> None:
    conversation_id, emma = chat("emma.4a", "kari.4a")
    nudge = next(n for n in preview(emma, conversation_id, SELFHARM)["nudges"] if n["category"] == "selfharm")
    lines = {(line["name"], line["number"]) for line in nudge["help_lines"]}
    assert ("Kors på halsen", "800 33 321") in lines
    assert any(number == "116 111" and name.startswith("Alarmtelefonen") for name, number in lines)
    assert "Du er ikke alene" in nudge["message"]


def test_r_pup_02_selfharm_shows_the_danish_help_line_in_danish(
    chat: Callable[..., Any], person: Callable[[str], Any],
) -> None:
    Municipality.objects.filter(pk=person("emma.4a").municipality_id).update(country="DK")
    emma = person("emma.4a")
    emma.language = "da"
    emma.save(update_fields=["language"])
    conversation_id, client = chat("emma.4a", "kari.4a")
    nudge = next(n for n in preview(client, conversation_id, SELFHARM)["nudges"] if n["category"] == "selfharm")
    assert [(line["name"], line["number"]) for line in nudge["help_lines"]] == [("BørneTelefonen", "116 111")]
    assert "Du er ikke alene" in nudge["message"]
    assert "Gratis at ringe" in nudge["help_lines"][0]["text"]


def test_r_safe_01_the_send_answer_carries_the_same_nudges(chat: Callable[..., Any], send: Callable[..., Any]) -> None:
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    before = categories(preview(sara, conversation_id, BULLYING)["nudges"])
    response = send(sara, conversation_id, BULLYING)
    assert response.status_code == 201
    assert categories(response.json()["nudges"]) == before
    assert "bullying" in before


def test_r_safe_01_s4_about_absent_in_a_group_of_guardians(chat: Callable[..., Any]) -> None:
    """S4 "Omtal ikke elever, forældre eller personale": a guardian writing badly about a child who
    is not in the group is nudged (about_absent), once."""
    conversation_id, mor = chat("mor.emma", "far.emma", "verge.noah")
    nudges = preview(mor, conversation_id, "Noah er så frekk og slem")["nudges"]
    assert categories(nudges).count("about_absent") == 1


def test_r_safe_01_harmless_text_gets_no_nudge(chat: Callable[..., Any]) -> None:
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    assert preview(sara, conversation_id, "hei, skal vi spille fotball i morgen? jeg dør av latter")["nudges"] == []


# ------------------------------------------------------------------------------------ alerts


def test_r_pup_02_r_case_10_threat_sent_anyway_alerts_the_contact_teachers(
    chat: Callable[..., Any], send: Callable[..., Any], person: Callable[[str], Any],
    api_client: Callable[[str | None], Client],
) -> None:
    """A threat sent anyway: the receiver is offered "show an adult" (a flag on the message), the
    writer's and the receiver's contact teacher (ola.9b) get one in-app alert each with category,
    the writing pupil, the conversation and the time, an event, an audit row and a neutral notice."""
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    response = send(sara, conversation_id, THREAT)
    assert response.status_code == 201, response.content
    assert response.json()["show_an_adult"] is True
    ola = person("ola.9b")
    alert = Alert.objects.get()
    assert (alert.recipient_id, alert.category, alert.kind) == (ola.pk, "threat", "signal")
    assert alert.pupil_id == person("sara.9b").pk and alert.conversation_id == conversation_id
    assert alert.receiver_ids == [person("jonas.9b").pk]
    listed = api_client("ola.9b").get("/api/v1/safety/alerts").json()
    assert listed == [{
        "id": alert.pk, "kind": "signal", "category": "threat",
        "pupil": {"username": "sara.9b", "name": "Sara Dahle"}, "conversation_id": conversation_id,
        "conversation_kind": "direct", "school_class_id": alert.school_class_id, "counts": {},
        "created_at": alert.created_at.isoformat(), "acknowledged": False, "acknowledged_at": None,
        "case_id": None,
    }]
    event = Event.objects.get(type="safety.alert")
    assert event.payload["category"] == "threat" and event.payload["pupil"]["username"] == "sara.9b"
    assert list(event.recipients.values_list("person_id", flat=True)) == [ola.pk]
    assert AuditRecord.objects.filter(action="safety.alert_raised", target_id=str(alert.pk)).exists()
    assert Notice.objects.filter(person=ola, kind="safety_alert").exists()
    # jonas sees the offer on the message he received.
    jonas_view = api_client("jonas.9b").get(f"/api/v1/conversations/{conversation_id}/messages").json()
    assert jonas_view[-1]["show_an_adult"] is True


def test_r_pup_02_selfharm_alerts_the_writers_contact_teacher_only(
    chat: Callable[..., Any], send: Callable[..., Any], person: Callable[[str], Any],
) -> None:
    """Self-harm in any message: the writer's contact teacher is told; the receivers are offered nothing."""
    conversation_id, sara = chat("sara.9b", "mor.emma")
    response = send(sara, conversation_id, SELFHARM)
    assert response.status_code == 201
    assert response.json()["show_an_adult"] is False
    assert "selfharm" in categories(response.json()["nudges"])
    assert list(Alert.objects.values_list("recipient_id", "category")) == [(person("ola.9b").pk, "selfharm")]


def test_r_safe_01_bullying_alone_raises_no_alert(chat: Callable[..., Any], send: Callable[..., Any]) -> None:
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    send(sara, conversation_id, BULLYING)
    assert Alert.objects.count() == 0
    assert list(SignalRecord.objects.values_list("categories", flat=True)) == [["bullying"]]


def test_r_safe_01_repeated_bullying_in_a_week_raises_one_aggregated_alert(
    chat: Callable[..., Any], send: Callable[..., Any], person: Callable[[str], Any],
) -> None:
    """Three bullying or about_absent signals from one pupil in a week: one alert to the contact
    teacher with counts by category; more signals that week raise no second one."""
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    for text in ("du er så dum", "din jævla taper"):
        send(sara, conversation_id, text)
    assert not Alert.objects.filter(kind="repeated").exists()
    send(sara, conversation_id, BULLYING)
    alert = Alert.objects.get(kind="repeated")
    assert alert.recipient_id == person("ola.9b").pk and alert.pupil_id == person("sara.9b").pk
    assert alert.counts == {"bullying": 3}
    assert alert.conversation_id is None
    send(sara, conversation_id, "du er så dum igjen")
    assert Alert.objects.filter(kind="repeated").count() == 1


# ------------------------------------------------------------------------------------ edits


def test_r_pup_02_an_edit_into_a_threat_is_nudged_and_alerts_as_a_send(
    chat: Callable[..., Any], send: Callable[..., Any], person: Callable[[str], Any],
) -> None:
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    message_id = send(sara, conversation_id, "hei, ses i morgen").json()["id"]
    assert Alert.objects.count() == 0
    nudges = post(sara, f"/api/v1/messages/{message_id}/preview", {"body": THREAT}).json()["nudges"]
    assert "threat" in categories(nudges)
    assert Alert.objects.count() == 0
    response = sara.patch(f"/api/v1/messages/{message_id}", data={"body": THREAT}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert "threat" in categories(response.json()["nudges"])
    assert response.json()["show_an_adult"] is True
    assert list(Alert.objects.values_list("recipient_id", "category")) == [(person("ola.9b").pk, "threat")]
    assert SignalRecord.objects.get().edited is True


def test_r_stf_01_staff_nudge_kept_on_edits(
    api_client: Callable[[str | None], Client], chat: Callable[..., Any], send: Callable[..., Any],
) -> None:
    """R-STF-01: kari.4a's edit into negative words about parents gets the same nudge a send does."""
    conversation_id, kari = chat("kari.4a", "rektor")
    message_id = send(kari, conversation_id, "Møtet er på torsdag.").json()["id"]
    text = "Foreldrene i 4A er helt håpløse, jeg orker ikke mer."
    response = kari.patch(f"/api/v1/messages/{message_id}", data={"body": text}, content_type="application/json")
    nudge = next(n for n in response.json()["nudges"] if n["requirement"] == "R-STF-01")
    assert nudge["category"] == "negative_staff"


def test_r_staff_05_praise_in_a_group_nudged_on_edits_with_its_category(
    chat: Callable[..., Any], send: Callable[..., Any],
) -> None:
    """R-STAFF-05: praising one named pupil in a group nudges on an edit as on a send."""
    conversation_id, ola = chat("ola.9b", "sara.9b", "jonas.9b", "nils.9b", school_owned=True)
    message_id = send(ola, conversation_id, "Hei alle sammen.").json()["id"]
    text = "Sara var veldig flink i dag!"
    preview_answer = post(ola, f"/api/v1/messages/{message_id}/preview", {"body": text}).json()
    assert "praise_criticism" in categories(preview_answer["nudges"])
    edited = ola.patch(f"/api/v1/messages/{message_id}", data={"body": text}, content_type="application/json")
    assert "R-STAFF-05" in {n["requirement"] for n in edited.json()["nudges"]}


def test_r_safe_01_a_danish_municipality_with_only_its_own_pack_nudges_and_alerts(
    chat: Callable[..., Any], send: Callable[..., Any], person: Callable[[str], Any],
) -> None:
    """Parameters and rules per municipality: with only S4's pack active (a Danish municipality),
    bullying is nudged, a threat alerts the contact teacher, and the repeat alert (an S0 rule) is off."""
    from trygg.policy.engine import invalidate
    from trygg.policy.models import PolicyConfig

    municipality_id = person("sara.9b").municipality_id
    PolicyConfig.objects.filter(municipality_id=municipality_id).update(active_packs=["dk_policy"])
    Municipality.objects.filter(pk=municipality_id).update(country="DK")
    invalidate()
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    nudges = preview(sara, conversation_id, BULLYING)["nudges"]
    assert [(n["category"], n["rule"]) for n in nudges] == [("bullying", "dk_policy.prevent-harassment-nudged")]
    for text in ("du er så dum", "din jævla taper", BULLYING):
        send(sara, conversation_id, text)
    assert not Alert.objects.filter(kind="repeated").exists()
    send(sara, conversation_id, THREAT)
    assert list(Alert.objects.values_list("recipient_id", "rule_id")) == [
        (person("ola.9b").pk, "dk_policy.show-an-adult-threat")]


def test_r_safe_01_an_edited_message_counts_once_and_alerts_once(
    chat: Callable[..., Any], send: Callable[..., Any],
) -> None:
    """Editing a threat into another threat tells nobody twice; editing a bullying message three
    times is one message, not a repeat."""
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    threat_id = send(sara, conversation_id, THREAT).json()["id"]
    sara.patch(f"/api/v1/messages/{threat_id}", data={"body": THREAT + "!!"}, content_type="application/json")
    assert Alert.objects.filter(category="threat").count() == 1
    bullying_id = send(sara, conversation_id, "du er så dum").json()["id"]
    for text in ("din jævla taper", BULLYING):
        sara.patch(f"/api/v1/messages/{bullying_id}", data={"body": text}, content_type="application/json")
    assert not Alert.objects.filter(kind="repeated").exists()


def test_r_pup_02_an_adult_writing_about_self_harm_sees_the_adults_help_line(chat: Callable[..., Any]) -> None:
    conversation_id, mor = chat("mor.emma", "kari.4a")
    nudge = next(n for n in preview(mor, conversation_id, SELFHARM)["nudges"] if n["category"] == "selfharm")
    assert [(line["name"], line["number"]) for line in nudge["help_lines"]] == [
        ("Mental Helse hjelpetelefonen", "116 123")]


def test_r_pup_02_a_photo_caption_with_a_threat_alerts_once_posted(
    chat: Callable[..., Any], person: Callable[[str], Any],
) -> None:
    """A caption is read as a message's text is: a threatening caption alerts the contact teacher when
    the photo is posted, and its receiver is offered "show an adult"."""
    from tests.messaging.test_attachments import upload

    conversation_id, sara = chat("sara.9b", "jonas.9b")
    response = upload(sara, conversation_id, nobody=True, caption=THREAT)
    assert response.status_code == 201, response.content
    message = Message.objects.get(conversation_id=conversation_id)
    assert message.show_an_adult is True
    assert list(Alert.objects.values_list("recipient_id", "category")) == [(person("ola.9b").pk, "threat")]


def test_r_safe_01_signal_records_are_deleted_once_no_rule_needs_them(
    chat: Callable[..., Any], send: Callable[..., Any],
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from trygg.safety.alerts import purge_signal_records

    conversation_id, sara = chat("sara.9b", "jonas.9b")
    send(sara, conversation_id, BULLYING)
    assert purge_signal_records() == 0
    assert purge_signal_records(timezone.now() + timedelta(days=32)) == 1
    assert SignalRecord.objects.count() == 0


def test_r_safe_01_a_municipality_sets_the_repeat_threshold_and_the_categories_nudged(
    chat: Callable[..., Any], send: Callable[..., Any], person: Callable[[str], Any],
) -> None:
    """Parameters per municipality: a threshold of two raises the repeat alert on the second
    bullying message; taking `sexual` off the nudged categories leaves only bullying nudged."""
    from trygg.policy.engine import invalidate
    from trygg.policy.models import PolicyConfig

    municipality_id = person("sara.9b").municipality_id
    PolicyConfig.objects.filter(municipality_id=municipality_id).update(
        active_packs=["amot"],
        overrides={"amot.repeated-signals-told": {"threshold": 2},
                   "amot.hurtful-words-nudged": {"categories": ["bullying"]}},
    )
    invalidate()
    conversation_id, sara = chat("sara.9b", "jonas.9b")
    send(sara, conversation_id, "du er så dum")
    assert not Alert.objects.filter(kind="repeated").exists()
    send(sara, conversation_id, BULLYING)
    assert Alert.objects.get(kind="repeated").counts == {"bullying": 2}
    nudges = preview(sara, conversation_id, "send meg nudes")["nudges"]
    assert "sexual" not in categories(nudges)
