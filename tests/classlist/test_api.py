"""The class list API: who sees it, consent per field, confidentiality, the reminder and the export."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.classlist.conftest import FIELDS, put_consent
from trygg.audit.models import AuditRecord
from trygg.classlist.actions import notice_version
from trygg.classlist.models import AccessRequestExport, Consent, ConsentChange, Reminder
from trygg.directory.models import Guardianship, Person, SchoolClass
from trygg.notifications.models import Notice
from trygg.policy.engine import invalidate, registry
from trygg.policy.models import PolicyConfig

pytestmark = pytest.mark.django_db

Clients = Callable[[str | None], Client]


def contact_list(client: Client, class_id: int) -> Any:
    return client.get(f"/api/v1/classes/{class_id}/contact-list")


def set_override(rule_id: str, **params: Any) -> None:
    config = PolicyConfig.objects.get(municipality__source_id="demo-kommune")
    config.overrides = {**config.overrides, rule_id: params}
    config.save()
    invalidate()


def all_text(response: Any) -> str:
    return response.content.decode()


# ----------------------------------------------------------------------------------- R-LIST-01/02


def test_r_list_02_mor_sara_shares_her_phone_and_far_jonas_sees_it(
    api_client: Clients, classes: dict[str, int], person: Callable[[str], Person]
) -> None:
    """mor.sara turns on her phone only; far.jonas sees her phone and nothing else she did not share."""
    response = put_consent(api_client("mor.sara"), classes["9B"], "sara.9b", phone=True)
    assert response.status_code == 200
    assert response.json()["fields"] == {"student_name": False, "guardian_name": False, "email": False,
                                         "phone": True, "address": False}
    seen = contact_list(api_client("far.jonas"), classes["9B"])
    assert seen.status_code == 200
    mor_sara = person("mor.sara")
    assert seen.json()["rows"] == [{"student_name": None, "guardians": [
        {"guardian_name": None, "email": None, "phone": mor_sara.phone, "address": None}]}]
    text = all_text(seen)
    assert mor_sara.name not in text and mor_sara.email not in text and "Sara" not in text
    assert "sara.9b" not in text  # no identifiers of pupils: a hidden name must stay hidden


def test_r_list_02_nothing_is_shown_until_a_guardian_opts_in(api_client: Clients, classes: dict[str, int]) -> None:
    """Before anyone opts in the list is empty, and every field of a guardian's own consent is off."""
    assert contact_list(api_client("far.jonas"), classes["9B"]).json()["rows"] == []
    mine = api_client("mor.sara").get(f"/api/v1/classes/{classes['9B']}/contact-list/consent").json()
    assert mine["children"][0]["fields"] == dict.fromkeys(FIELDS, False)


@pytest.mark.parametrize(
    ("username", "status"),
    [
        pytest.param("ola.9b", 200, id="contact teacher of 9B"),
        pytest.param("far.jonas", 200, id="guardian in 9B"),
        pytest.param("mor.ali", 200, id="guardian in 9B of a protected pupil"),
        pytest.param("mor.emma", 404, id="guardian of another class"),
        pytest.param("kari.4a", 404, id="contact teacher of another class"),
        pytest.param("nils.9b", 404, id="subject teacher"),
        pytest.param("sara.9b", 404, id="pupil of the class"),
        pytest.param("rektor", 404, id="school leader (exports, does not browse)"),
        pytest.param("far.ali", 404, id="parent without parental responsibility"),
    ],
)
def test_r_list_01_r_priv_01_only_the_class_guardians_and_contact_teacher_see_the_list(
    api_client: Clients, classes: dict[str, int], username: str, status: int
) -> None:
    """R-LIST-01: guardians of the class and its contact teacher see the list; for anyone else it does
    not exist (R-PRIV-01: 404, the same answer as a class that does not exist)."""
    response = contact_list(api_client(username), classes["9B"])
    assert response.status_code == status, response.content
    if status == 404:
        assert response.json() == contact_list(api_client(username), 999_999).json()


def test_r_list_01_anonymous_gets_401(api_client: Clients, classes: dict[str, int]) -> None:
    """Without signing in there is no list: 401."""
    assert contact_list(api_client(None), classes["9B"]).status_code == 401


def test_r_list_01_a_subject_teacher_sees_the_list_only_when_the_municipality_says_so(
    api_client: Clients, classes: dict[str, int]
) -> None:
    """nils.9b gets 404 by default and 200 once the municipality turns subject_teachers_see_list on."""
    assert contact_list(api_client("nils.9b"), classes["9B"]).status_code == 404
    set_override("oslo.class-list-own-class", subject_teachers_see_list=True)
    assert contact_list(api_client("nils.9b"), classes["9B"]).status_code == 200
    assert contact_list(api_client("nils.9b"), classes["4A"]).status_code == 404


def test_r_priv_02_every_view_of_the_list_is_audited(api_client: Clients, classes: dict[str, int],
                                                     person: Callable[[str], Person]) -> None:
    """Each view writes an audit record naming the viewer and the class; a refused view writes none."""
    before = AuditRecord.objects.filter(action="classlist.viewed").count()
    contact_list(api_client("far.jonas"), classes["9B"])
    contact_list(api_client("ola.9b"), classes["9B"])
    contact_list(api_client("mor.emma"), classes["9B"])
    records = list(AuditRecord.objects.filter(action="classlist.viewed").order_by("id"))[before:]
    assert [(r.actor_id, r.target_type, r.target_id) for r in records] == [
        (person("far.jonas").pk, "directory.schoolclass", str(classes["9B"])),
        (person("ola.9b").pk, "directory.schoolclass", str(classes["9B"])),
    ]


# ----------------------------------------------------------------------------------- R-LIST-05


@pytest.mark.parametrize("fields", [
    pytest.param({"student_name": True}, id="name"),
    pytest.param({"address": True}, id="address"),
    pytest.param({"phone": True}, id="phone"),
    pytest.param({"guardian_name": True}, id="guardian name"),
    pytest.param({"email": True}, id="e-mail"),
    pytest.param(dict.fromkeys(FIELDS, True), id="every field at once"),
    pytest.param({"student_name": True, "address": True, "phone": False}, id="name and address"),
])
def test_r_list_05_mor_ali_cannot_turn_on_anything_about_ali(
    api_client: Clients, classes: dict[str, int], person: Callable[[str], Person], fields: dict[str, bool]
) -> None:
    """ali.9b has a strictly confidential identity: every field about him is refused with a 403 naming
    the rule, and nothing is written (not even the fields that would have been allowed)."""
    response = put_consent(api_client("mor.ali"), classes["9B"], "ali.9b", **fields)
    assert response.status_code == 403
    body = response.json()
    assert body["rule"] == "oslo.confidential-never-shown"
    assert body["requirement"] == "R-LIST-05"
    assert body["error"] == "denied_by_policy" and body["message"]
    assert not Consent.objects.filter(pupil=person("ali.9b")).exists()
    assert not ConsentChange.objects.filter(pupil=person("ali.9b")).exists()


def test_r_list_05_the_consent_form_shows_mor_ali_every_field_locked(api_client: Clients,
                                                                    classes: dict[str, int]) -> None:
    """GET consent lists the locked fields so a client can show them as locked."""
    mine = api_client("mor.ali").get(f"/api/v1/classes/{classes['9B']}/contact-list/consent").json()
    assert mine["children"][0]["locked"] == sorted(FIELDS)
    assert put_consent(api_client("mor.ali"), classes["9B"], "ali.9b").status_code == 200  # all off: allowed


def test_r_list_05_verge_noah_may_share_the_phone_but_never_the_address(
    api_client: Clients, classes: dict[str, int], person: Callable[[str], Person]
) -> None:
    """noah.4a lives at an institution: the address is refused, the phone and name are not."""
    client = api_client("verge.noah")
    refused = put_consent(client, classes["4A"], "noah.4a", phone=True, address=True)
    assert refused.status_code == 403 and refused.json()["requirement"] == "R-LIST-05"
    assert put_consent(client, classes["4A"], "noah.4a", phone=True, student_name=True).status_code == 200
    rows = contact_list(api_client("mor.emma"), classes["4A"]).json()["rows"]
    assert rows == [{"student_name": "Noah Lien", "guardians": [
        {"guardian_name": None, "email": None, "phone": person("verge.noah").phone, "address": None}]}]


def test_r_list_05_a_special_education_class_has_no_list_at_all(
    api_client: Clients, classes: dict[str, int], strong_api_client
) -> None:
    """Where membership reveals special education the list, opting in, the export and the reminder are
    refused with the rule named; withdrawing stays possible."""
    put_consent(api_client("mor.sara"), classes["9B"], "sara.9b", phone=True)
    SchoolClass.objects.filter(pk=classes["9B"]).update(reveals_special_education=True)
    seen = contact_list(api_client("far.jonas"), classes["9B"])
    assert seen.status_code == 403 and seen.json()["rule"] == "oslo.special-education-class"
    refused = put_consent(api_client("far.jonas"), classes["9B"], "jonas.9b", phone=True)
    assert refused.status_code == 403 and refused.json()["rule"] == "oslo.special-education-class"
    assert put_consent(api_client("mor.sara"), classes["9B"], "sara.9b").status_code == 200
    export = strong_api_client("rektor").get(f"/api/v1/classes/{classes['9B']}/contact-list/export?requester=Avisa")
    assert export.status_code == 403 and export.json()["requirement"] == "R-LIST-05"
    remind = api_client("ola.9b").post(f"/api/v1/classes/{classes['9B']}/contact-list/reminders")
    assert remind.status_code == 403 and remind.json()["rule"] == "oslo.special-education-class"


# ----------------------------------------------------------------------------------- R-LIST-06 / R-LIST-04


def test_r_list_06_consent_is_recorded_with_time_and_the_notice_shown_and_can_be_withdrawn(
    api_client: Clients, classes: dict[str, int], person: Callable[[str], Person]
) -> None:
    """Turning a field on records the time and the exact notice in the language shown; turning it off
    removes it from the list at once and is recorded too."""
    client = api_client("mor.sara")
    start = timezone.now()
    response = client.put(
        f"/api/v1/classes/{classes['9B']}/contact-list/consent",
        data=json.dumps({"student_username": "sara.9b", "fields": {**dict.fromkeys(FIELDS, False), "phone": True},
                         "public_notice_accepted": True}),
        content_type="application/json", HTTP_ACCEPT_LANGUAGE="da",
    )
    assert response.status_code == 200
    notice_da = registry().rules["oslo.list-is-public"].reason["da"]
    assert response.json()["notice"] == {"text": notice_da, "language": "da", "rule": "oslo.list-is-public",
                                         "version": notice_version()}
    [change] = ConsentChange.objects.filter(guardian=person("mor.sara"))
    assert (change.field, change.given, change.notice_text, change.notice_language, change.via) == (
        "phone", True, notice_da, "da", "api")
    assert change.at >= start
    assert contact_list(api_client("far.jonas"), classes["9B"]).json()["rows"]

    assert put_consent(client, classes["9B"], "sara.9b").status_code == 200
    assert contact_list(api_client("far.jonas"), classes["9B"]).json()["rows"] == []
    changes = list(ConsentChange.objects.filter(guardian=person("mor.sara")).order_by("id"))
    assert [(c.field, c.given) for c in changes] == [("phone", True), ("phone", False)]
    assert changes[1].notice_language == "nb"  # mor.sara's own language without Accept-Language
    audit = AuditRecord.objects.filter(action="classlist.consent_changed", actor=person("mor.sara")).order_by("id")
    assert [r.detail["turned_on"] for r in audit] == [["phone"], []]


def test_r_list_06_the_consent_history_is_append_only(api_client: Clients, classes: dict[str, int]) -> None:
    """A recorded consent change can be neither edited nor deleted."""
    put_consent(api_client("mor.sara"), classes["9B"], "sara.9b", email=True)
    change = ConsentChange.objects.latest("id")
    change.given = False
    with pytest.raises(TypeError):
        change.save()
    with pytest.raises(TypeError):
        change.delete()
    with pytest.raises(TypeError):
        ConsentChange.objects.filter(pk=change.pk).update(given=False)
    with pytest.raises(TypeError):
        ConsentChange.objects.filter(pk=change.pk).delete()


@pytest.mark.parametrize(
    ("username", "student"),
    [
        pytest.param("far.ali", "ali.9b", id="parent without parental responsibility"),
        pytest.param("mor.sara", "jonas.9b", id="guardian of another pupil"),
        pytest.param("ola.9b", "sara.9b", id="contact teacher"),
        pytest.param("mor.emma", "sara.9b", id="guardian of another class"),
    ],
)
def test_r_list_06_only_a_guardian_with_parental_responsibility_consents_for_the_child(
    api_client: Clients, classes: dict[str, int], username: str, student: str
) -> None:
    """Anyone but the child's guardian with parental responsibility gets 404 (R-PRIV-01) and writes nothing."""
    response = put_consent(api_client(username), classes["9B"], student, phone=True)
    assert response.status_code == 404
    assert not Consent.objects.exists()


def test_r_list_04_the_consent_form_carries_the_public_notice_in_the_guardians_language(
    api_client: Clients, classes: dict[str, int]
) -> None:
    """Before opting in a guardian is told the list is public and may go to journalists and companies."""
    body = api_client("mor.sara").get(f"/api/v1/classes/{classes['9B']}/contact-list/consent").json()
    assert body["notice"]["language"] == "nb"
    assert "journalister" in body["notice"]["text"] and "firmaer" in body["notice"]["text"]
    english = api_client("mor.sara").get(f"/api/v1/classes/{classes['9B']}/contact-list/consent",
                                         HTTP_ACCEPT_LANGUAGE="en").json()
    assert "journalists and companies" in english["notice"]["text"]


@pytest.mark.parametrize("body", [
    pytest.param({"student_username": "sara.9b", "fields": {"phone": True}}, id="missing fields"),
    pytest.param({"student_username": "sara.9b", "fields": {**dict.fromkeys(FIELDS, False), "age": True}},
                 id="unknown field"),
    pytest.param({"student_username": "sara.9b", "fields": {**dict.fromkeys(FIELDS, False), "phone": [1]}},
                 id="not a boolean"),
    pytest.param({"fields": dict.fromkeys(FIELDS, False)}, id="no pupil"),
    pytest.param([], id="not an object"),
])
def test_bad_consent_input_is_400_not_500(api_client: Clients, classes: dict[str, int], body: Any) -> None:
    """Malformed consent bodies answer 400 with the error JSON of design.md (R-LIST-02)."""
    response = api_client("mor.sara").put(f"/api/v1/classes/{classes['9B']}/contact-list/consent",
                                          data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) >= {"error", "message", "rule", "requirement"}


# ----------------------------------------------------------------------------------- export (R-LIST-04)


def test_r_list_04_r_list_05_the_export_holds_no_confidential_field_even_if_the_database_has_a_consent(
    api_client: Clients, classes: dict[str, int], person: Callable[[str], Person], strong_api_client
) -> None:
    """Consents written straight into the database for ali.9b (every field) and noah.4a's address never
    reach the CSV or JSON export, nor the list; mor.sara's shared phone does."""
    mor_ali, ali, verge = person("mor.ali"), person("ali.9b"), person("verge.noah")
    for field in FIELDS:
        Consent.objects.create(guardian=mor_ali, pupil=ali, field=field)
    Consent.objects.create(guardian=verge, pupil=person("noah.4a"), field="address")
    put_consent(api_client("mor.sara"), classes["9B"], "sara.9b", phone=True, guardian_name=True)

    rektor = strong_api_client("rektor")
    response = rektor.get(f"/api/v1/classes/{classes['9B']}/contact-list/export?format=csv&requester=Dagsavisen")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines == [list(FIELDS), ["", person("mor.sara").name, "", person("mor.sara").phone, ""]]
    forbidden = [ali.name, "Ali", mor_ali.name, mor_ali.email, mor_ali.phone, mor_ali.address]
    as_json = rektor.get(f"/api/v1/classes/{classes['9B']}/contact-list/export?requester=Dagsavisen")
    seen = contact_list(api_client("far.jonas"), classes["9B"])
    for text in (response.content.decode(), as_json.content.decode(), seen.content.decode()):
        assert not [value for value in forbidden if value in text]
    four_a = rektor.get(f"/api/v1/classes/{classes['4A']}/contact-list/export?requester=Dagsavisen")
    assert verge.address not in four_a.content.decode()


def test_r_list_04_the_export_is_recorded_and_audited_with_who_and_when(
    api_client: Clients, classes: dict[str, int], person: Callable[[str], Person], strong_api_client
) -> None:
    """An export leaves a record of who exported it, when, for whom, and an audit row."""
    start = timezone.now()
    response = strong_api_client("rektor").get(
        f"/api/v1/classes/{classes['9B']}/contact-list/export?requester=Firma%20AS")
    assert response.status_code == 200
    assert response.json()["exported_by"] == "rektor" and response.json()["requester"] == "Firma AS"
    export = AccessRequestExport.objects.get()
    assert export.exported_by == person("rektor") and export.requester == "Firma AS"
    assert export.exported_at >= start
    record = AuditRecord.objects.filter(action="classlist.exported").latest("id")
    assert record.actor == person("rektor") and record.at >= start
    assert record.detail["export_id"] == export.pk and record.target_id == str(classes["9B"])


@pytest.mark.parametrize(
    ("username", "status"),
    [
        pytest.param("rektor", 200, id="school leader"),
        pytest.param("admin", 200, id="municipality administrator"),
        pytest.param("ola.9b", 404, id="contact teacher"),
        pytest.param("mor.sara", 404, id="guardian"),
        pytest.param("tr", 404, id="union representative"),
    ],
)
def test_r_list_04_only_leaders_export_and_others_get_404(
    api_client: Clients, classes: dict[str, int], username: str, status: int, strong_api_client
) -> None:
    """The access-request export is the school leaders' (and the administrator's); R-PRIV-01 for others."""
    response = strong_api_client(username).get(f"/api/v1/classes/{classes['9B']}/contact-list/export?requester=NRK")
    assert response.status_code == status


def test_r_list_04_an_export_must_say_who_asked(
    api_client: Clients, classes: dict[str, int], strong_api_client
) -> None:
    """Without a requester the export is refused with 400 naming the rule; nothing is recorded."""
    response = strong_api_client("rektor").get(f"/api/v1/classes/{classes['9B']}/contact-list/export?requester=%20")
    assert response.status_code == 400
    assert response.json()["requirement"] == "R-LIST-04"
    bad_format = strong_api_client("rektor").get(
        f"/api/v1/classes/{classes['9B']}/contact-list/export?requester=X&format=xls")
    assert bad_format.status_code == 400
    assert not AccessRequestExport.objects.exists()


# ----------------------------------------------------------------------------------- R-LIST-03


def test_r_list_03_the_contact_teacher_sees_how_many_not_who(
    api_client: Clients, classes: dict[str, int]
) -> None:
    """ola.9b sees the count of pupils the list covers and nothing naming who has not opted in."""
    put_consent(api_client("mor.sara"), classes["9B"], "sara.9b", phone=True)
    response = api_client("ola.9b").get(f"/api/v1/classes/{classes['9B']}/contact-list/completeness")
    assert response.status_code == 200
    assert response.json() == {"covered": 1, "total": 24, "next_reminder_at": None}
    listed = contact_list(api_client("ola.9b"), classes["9B"]).json()
    assert listed["completeness"] == {"covered": 1, "total": 24}
    assert "completeness" not in contact_list(api_client("far.jonas"), classes["9B"]).json()


@pytest.mark.parametrize(("username", "status"), [
    pytest.param("far.jonas", 403, id="guardian of the class"),
    pytest.param("mor.emma", 404, id="guardian of another class"),
    pytest.param("kari.4a", 404, id="contact teacher of another class"),
    pytest.param("nils.9b", 404, id="subject teacher"),
])
def test_r_list_03_only_the_contact_teacher_sees_completeness_and_reminds(
    api_client: Clients, classes: dict[str, int], username: str, status: int
) -> None:
    """Completeness and the reminder are the contact teacher's; others get 403 or, outside the class, 404."""
    client = api_client(username)
    assert client.get(f"/api/v1/classes/{classes['9B']}/contact-list/completeness").status_code == status
    assert client.post(f"/api/v1/classes/{classes['9B']}/contact-list/reminders").status_code == status
    assert not Reminder.objects.exists()


def test_r_list_03_the_reminder_goes_to_every_guardian_alike_and_is_rate_limited(
    api_client: Clients, classes: dict[str, int], person: Callable[[str], Person]
) -> None:
    """One neutral notice per guardian with parental responsibility; a second reminder within the
    interval is 429 naming the rule, with the time it may be sent."""
    client = api_client("ola.9b")
    response = client.post(f"/api/v1/classes/{classes['9B']}/contact-list/reminders")
    assert response.status_code == 201
    guardians = set(Guardianship.objects.filter(
        pupil__enrollments__school_class_id=classes["9B"], parental_responsibility=True
    ).values_list("guardian_id", flat=True))
    assert response.json()["recipients"] == len(guardians)
    notified = set(Notice.objects.filter(kind="classlist_reminder").values_list("person_id", flat=True))
    assert notified == guardians
    assert person("far.ali").pk not in notified and person("mor.emma").pk not in notified

    again = client.post(f"/api/v1/classes/{classes['9B']}/contact-list/reminders")
    assert again.status_code == 429
    body = again.json()
    assert body["rule"] == "oslo.encourage-complete-list" and body["requirement"] == "R-LIST-03"
    assert body["retry_at"]
    assert Reminder.objects.count() == 1
    status = client.get(f"/api/v1/classes/{classes['9B']}/contact-list/completeness").json()
    assert status["next_reminder_at"] == body["retry_at"]


def test_r_list_03_a_reminder_may_go_again_after_the_interval(
    api_client: Clients, classes: dict[str, int], person: Callable[[str], Person]
) -> None:
    """A reminder eight days ago does not stop the next one (the default interval is seven days)."""
    Reminder.objects.create(school_class_id=classes["9B"], sent_by=person("ola.9b"),
                            sent_at=timezone.now() - timedelta(days=8))
    assert api_client("ola.9b").post(f"/api/v1/classes/{classes['9B']}/contact-list/reminders").status_code == 201
    Reminder.objects.create(school_class_id=classes["4A"], sent_by=person("kari.4a"),
                            sent_at=timezone.now() - timedelta(days=6))
    assert api_client("kari.4a").post(f"/api/v1/classes/{classes['4A']}/contact-list/reminders").status_code == 429


def test_r_list_03_the_reminder_reaches_guardians_by_email_in_neutral_words(
    api_client: Clients, classes: dict[str, int], person: Callable[[str], Person], mailoutbox: list[Any]
) -> None:
    """Delivered, the reminder names no pupil, guardian or teacher and says nothing about who has shared;
    it is in each guardian's language and links to the class list pages (R-STAFF-06)."""
    from trygg.notifications.actions import deliver_due

    Person.objects.filter(username="far.jonas").update(language="da")
    assert api_client("ola.9b").post(f"/api/v1/classes/{classes['9B']}/contact-list/reminders").status_code == 201
    # Reminders go out on the next school day (a weekend or holiday waits), so deliver when they are due.
    from django.db.models import Max

    from trygg.notifications.models import Notice

    due = Notice.objects.aggregate(due=Max("due_at"))["due"]
    deliver_due(max(due, timezone.now()) + timedelta(minutes=5), limit=1000)
    by_address = {m.to[0]: m for m in mailoutbox}
    mor_sara, far_jonas = person("mor.sara"), person("far.jonas")
    assert "Skolen ber deg se på klasselisten" in by_address[mor_sara.email].body
    assert "Skolen beder dig se på klasselisten" in by_address[far_jonas.email].body
    names = {p.name.split(" ")[0] for p in Person.objects.all()} | {p.name for p in Person.objects.all()}
    for mail in mailoutbox:
        assert mail.body.rstrip().endswith("/classes/")
        assert not [n for n in names if re.search(rf"\b{re.escape(n)}\b", mail.body + mail.subject)]
    assert person("mor.emma").email not in by_address
