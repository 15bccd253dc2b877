"""Right of access: a person downloads everything Trygg holds about them (R-PRIV-04)."""

from __future__ import annotations

import json

from trygg.audit.models import AuditRecord
from trygg.messaging import actions
from trygg.web.export import APPS_WITH_OWN_EXPORT


def test_r_priv_04_export_holds_profile_relations_and_own_messages(person, api_client) -> None:
    """mor.emma's export names her child, her contact details and what she wrote, and nothing of others'."""
    mor = person("mor.emma")
    kari = person("kari.4a")
    result = actions.check_create_conversation(mor, "direct", "", ["kari.4a"])
    conversation = result.conversation
    actions.check_send(mor, conversation.pk, "Emma er syk i dag", "export-1")
    actions.check_send(kari, conversation.pk, "God bedring til Emma", "export-2")

    response = api_client("mor.emma").get("/api/v1/me/export")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="trygg-mor.emma.json"'
    data = json.loads(response.content)
    assert data["profile"]["username"] == "mor.emma"
    assert "guardian" in data["profile"]["roles"]
    assert [c["name"] for c in data["directory"]["children"]] == [person("emma.4a").name]
    bodies = [m["body"] for m in data["messaging"]["messages_sent"]]
    assert "Emma er syk i dag" in bodies
    assert "God bedring til Emma" not in json.dumps(data, ensure_ascii=False)
    assert conversation.pk in [c["id"] for c in data["messaging"]["conversations"]]


def test_r_priv_04_export_is_audited_and_only_ever_the_viewers_own(person, api_client) -> None:
    """The export is written to the audit log; nobody can ask for another person's export."""
    response = api_client("far.jonas").get("/api/v1/me/export")
    data = json.loads(response.content)
    assert data["profile"]["username"] == "far.jonas"
    assert "mor.sara" not in json.dumps(data)
    assert AuditRecord.objects.filter(action="person.exported_own_data", actor=person("far.jonas")).exists()


def test_r_priv_04_export_needs_sign_in(api_client) -> None:
    """Without sign-in the export answers 401 in the JSON error format."""
    response = api_client(None).get("/api/v1/me/export")
    assert response.status_code == 401
    assert response.json()["error"] == "not_signed_in"


def test_r_priv_04_every_app_holding_personal_data_contributes_its_part(api_client) -> None:
    """Each app listed as holding more about a person has its own section in the export."""
    data = json.loads(api_client("mor.emma").get("/api/v1/me/export").content)
    for app in APPS_WITH_OWN_EXPORT:
        assert app in data, f"{app} has no export_own(viewer) in its queries.py"


def test_r_priv_04_page_download_for_signed_in_person(person) -> None:
    """The shell's "my data" page downloads the same document for a browser session."""
    from django.test import Client

    client = Client()
    client.force_login(person("emma.4a"))
    response = client.get("/me/data/")
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["profile"]["username"] == "emma.4a"
    assert [c["class"] for c in data["directory"]["classes"]] == ["4A"]


def test_r_priv_04_export_holds_class_list_consents_with_the_notice_shown(person, api_client) -> None:
    """A guardian's export lists the consents in force and each change with the notice text shown."""
    fields = {"student_name": False, "guardian_name": False, "email": False, "phone": True, "address": False}
    client = api_client("mor.sara")
    class_id = person("sara.9b").enrollments.get().school_class_id
    put = client.put(f"/api/v1/classes/{class_id}/contact-list/consent",
                     {"student_username": "sara.9b", "fields": fields, "public_notice_accepted": True},
                     content_type="application/json")
    assert put.status_code == 200, put.content
    data = json.loads(client.get("/api/v1/me/export").content)
    assert [c["field"] for c in data["classlist"]["consents_in_force"]] == ["phone"]
    change = data["classlist"]["consent_history"][-1]
    assert change["field"] == "phone" and change["given"] is True
    assert change["notice_shown"]


def test_r_priv_04_export_holds_own_reports_and_acknowledgements(api_client) -> None:
    """A pupil's export lists the report she made and the guidelines she acknowledged."""
    client = api_client("emma.4a")
    made = client.post("/api/v1/reports", {"category": "bullying", "description": "De erter meg i friminuttet"},
                       content_type="application/json")
    assert made.status_code == 201, made.content
    status = client.get("/api/v1/policy/acknowledgement").json()
    acked = client.post("/api/v1/policy/acknowledgement", {"version": status["version"]},
                        content_type="application/json")
    assert acked.status_code in (200, 201), acked.content
    data = json.loads(client.get("/api/v1/me/export").content)
    cases = data["cases"]["cases"]
    assert [c["case_id"] for c in cases] == [made.json()["case_id"]]
    assert sorted(cases[0]["your_roles"]) == ["harmed", "reporter"]
    assert cases[0]["description"] == "De erter meg i friminuttet"
    assert len(data["policy"]["acknowledgements"]) == 1
